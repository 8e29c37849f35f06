import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus } from '../../domain/enums.ts';
import { addDays, civilDate, extendPeriod, maxDate, type IsoDate } from '../../domain/periods.ts';
import { unitLine } from '../../domain/pricing.ts';
import { toDomainPrice } from '../catalog/repo.ts';
import { productPrices, products } from '../catalog/schema.ts';
import { operators } from '../operators/schema.ts';
import { purchasePlans, services } from '../services/schema.ts';
import { insertPurchase } from './repo.ts';
import { purchaseLines, purchases } from './schema.ts';

export interface ServiceState {
  latestPeriodEndDate: IsoDate | null;
  billingStatus: string;
  /** Another purchase of the service is Unpaid. */
  owing: boolean;
  /** Days the paid purchase adds (its Day and Monthly lines; installation lines add none). */
  purchasedDays: number;
  /**
   * The end of the period the paid purchase is for, when it names one (a billing run's monthly purchase:
   * `period_end`). Paying it late does not move the service's period past that end.
   */
  coveredUntil?: IsoDate | null;
}

export interface Fulfilment {
  periodEndBefore: IsoDate | null;
  periodEndAfter: IsoDate | null;
  billingStatus: string;
  /** The service owes nothing more: its suspension date is cleared. */
  clearSuspension: boolean;
}

/**
 * What a paid purchase does to its service (SPEC §4): the paid period moves by the purchased days (from
 * today when it had lapsed) — or, for a purchase of a stated period (a monthly purchase), to that period's
 * end — and the service is PaidUp when nothing else is owed. Pure: the caller has
 * locked the service row and writes the result in the same transaction (settle-payment).
 */
export function fulfilment(service: ServiceState, now: Date): Fulfilment {
  const covered = service.coveredUntil ?? null;
  const periodEndAfter =
    covered !== null
      ? maxDate(service.latestPeriodEndDate ?? covered, covered)
      : service.purchasedDays > 0
        ? extendPeriod(service.latestPeriodEndDate, civilDate(now), service.purchasedDays)
        : service.latestPeriodEndDate;
  return {
    periodEndBefore: service.latestPeriodEndDate,
    periodEndAfter,
    billingStatus: service.owing ? service.billingStatus : 'PaidUp',
    clearSuspension: !service.owing,
  };
}

/**
 * A HybridDayBundle's next auto-recharge, after a purchase of it is paid: the same bundle at today's
 * price, collected `lead days` before the new period ends, unless one is scheduled already. Returns its id.
 */
export async function scheduleNextAutoRecharge(tx: Executor, paidPurchaseId: string, serviceId: string, periodEnd: IsoDate, now: Date): Promise<string | null> {
  const [service] = await tx.select().from(services).where(eq(services.id, serviceId));
  const [product] = service ? await tx.select().from(products).where(eq(products.id, service.productId)) : [];
  if (!service || !product?.autoRecharge) return null;
  const lines = await tx.select().from(purchaseLines).where(eq(purchaseLines.purchaseId, paidPurchaseId));
  return scheduleAutoRecharge(tx, lines, service, product, periodEnd, now);
}

/** The next auto-recharge: the same bundle at today's price, collected `lead days` before the period ends. */
async function scheduleAutoRecharge(
  tx: Executor,
  paidLines: readonly { productPriceId: string | null; quantity: number }[],
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
  const boughtLine = paidLines.find((l) => l.productPriceId !== null && prices.some((p) => p.id === l.productPriceId));
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
