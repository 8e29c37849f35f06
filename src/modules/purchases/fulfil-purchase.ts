import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus } from '../../domain/enums.ts';
import { addDays, civilDate, extendPeriod, type IsoDate } from '../../domain/periods.ts';
import { periodDays, unitLine } from '../../domain/pricing.ts';
import { toDomainPrice } from '../catalog/repo.ts';
import { productPrices, products } from '../catalog/schema.ts';
import { operators } from '../operators/schema.ts';
import { purchasePlans, services } from '../services/schema.ts';
import { insertPurchase, type PurchaseRecord } from './repo.ts';
import { purchases } from './schema.ts';

export interface Fulfilment {
  serviceId: string;
  periodEndBefore: IsoDate | null;
  periodEndAfter: IsoDate | null;
  billingStatus: string;
  /** The auto-recharge purchase this fulfilment scheduled (HybridDayBundle). */
  scheduledPurchaseId: string | null;
}

/**
 * What a paid purchase does to its service (SPEC §4), in the caller's transaction, after the purchase is
 * marked Paid (and period_applied): the paid period moves by the purchased days, the service is PaidUp when nothing else is
 * owed, and a HybridDayBundle schedules its next auto-recharge before the bundle runs out.
 *
 * Lock order: the caller holds the purchase row; the service row is locked here (triggers bump service
 * versions after purchase changes, so this order is the one every writer uses).
 */
export async function fulfilPurchase(tx: Tx, purchase: PurchaseRecord, now: Date): Promise<Fulfilment> {
  const [locked] = await tx
    .select({
      service: services,
      autoRecharge: products.autoRecharge,
      autoRechargeLeadDays: products.autoRechargeLeadDays,
      productId: products.id,
      owing: sql<boolean>`exists (select 1 from ${purchases} where ${purchases.serviceId} = ${services.id} and ${purchases.statusId} = ${PurchaseStatus.Unpaid} and ${purchases.id} <> ${purchase.id})`,
    })
    .from(services)
    .innerJoin(products, eq(products.id, services.productId))
    .where(eq(services.id, purchase.serviceId))
    .for('update', { of: services });
  if (!locked) throw new Error(`purchase ${purchase.id} has no service`);
  const service = locked.service;
  const today = civilDate(now);

  const days = purchase.lines.reduce((sum, l) => sum + (l.lineTypeId === PurchaseLineType.Once ? 0 : periodDays(l)), 0);
  const periodEndAfter = days > 0 ? extendPeriod(service.latestPeriodEndDate, today, days) : service.latestPeriodEndDate;
  const owing = locked.owing;
  const billingStatus = owing ? service.billingStatus : 'PaidUp';

  await tx
    .update(services)
    .set({
      latestPeriodEndDate: periodEndAfter,
      billingStatus,
      ...(owing ? {} : { suspensionDate: null }),
      updatedAt: now,
    })
    .where(eq(services.id, service.id));

  let scheduledPurchaseId: string | null = null;
  if (locked.autoRecharge && periodEndAfter !== null) {
    scheduledPurchaseId = await scheduleAutoRecharge(tx, purchase, service, { id: locked.productId, autoRechargeLeadDays: locked.autoRechargeLeadDays }, periodEndAfter, now);
  }
  return { serviceId: service.id, periodEndBefore: service.latestPeriodEndDate, periodEndAfter, billingStatus, scheduledPurchaseId };
}

/** The next auto-recharge: the same bundle at today's price, collected `lead days` before the period ends. */
async function scheduleAutoRecharge(
  tx: Tx,
  paid: PurchaseRecord,
  service: typeof services.$inferSelect,
  product: { id: string; autoRechargeLeadDays: number },
  periodEnd: IsoDate,
  now: Date,
): Promise<string | null> {
  const [already] = await tx
    .select({ id: purchases.id })
    .from(purchases)
    .where(and(eq(purchases.serviceId, service.id), eq(purchases.statusId, PurchaseStatus.Scheduled), eq(purchases.creationEventId, PurchaseCreationEvent.AutoRecharge)))
    .limit(1);
  if (already) return null;

  const prices = await tx
    .select()
    .from(productPrices)
    .where(and(eq(productPrices.productId, product.id), eq(productPrices.active, true), eq(productPrices.buyNow, true), eq(productPrices.lineTypeId, PurchaseLineType.Day)))
    .orderBy(asc(productPrices.position));
  const boughtLine = paid.lines.find((l) => l.productPriceId !== null && prices.some((p) => p.id === l.productPriceId));
  const price = prices.find((p) => p.id === boughtLine?.productPriceId) ?? prices[0];
  if (!price) return null;

  const [operator] = await tx.select({ vatRateBp: operators.vatRateBp }).from(operators).where(eq(operators.id, service.operatorId));
  const [plan] = await tx.select().from(purchasePlans).where(eq(purchasePlans.serviceId, service.id));
  const collectOn = addDays(periodEnd, -product.autoRechargeLeadDays);
  const purchaseDate = new Date(`${collectOn}T06:00:00+02:00`);
  const id = randomUUID();
  await insertPurchase(tx, {
    id,
    operatorId: service.operatorId,
    customerId: service.customerId,
    serviceId: service.id,
    purchasePlanId: plan?.id ?? null,
    statusId: PurchaseStatus.Scheduled,
    creationEventId: PurchaseCreationEvent.AutoRecharge,
    purchaseDate: purchaseDate > now ? purchaseDate : now,
    mediumId: plan?.activeMediumId ?? null,
    lines: [{ ...unitLine(toDomainPrice(price), boughtLine?.quantity ?? 1, operator?.vatRateBp ?? 1500), id: randomUUID() }],
  });
  return id;
}
