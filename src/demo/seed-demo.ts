import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { SYSTEM_ACTOR } from '../context.ts';
import * as t from '../db/schema.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus, type PurchaseStatusId } from '../domain/enums.ts';
import { addDays, civilDate, nextCollectionDate } from '../domain/periods.ts';
import { daysLine, unitLine, UPFRONT_MONTHLY_DESCRIPTION, type PricedLine } from '../domain/pricing.ts';
import { recordAudit } from '../modules/audit/record.ts';
import { toDomainPrice } from '../modules/catalog/repo.ts';
import { insertMedium } from '../modules/mediums/repo.ts';
import { insertPurchase } from '../modules/purchases/repo.ts';
import { DEMO, DEMO_METERS, DEMO_PAYFAST_CARD_TOKEN } from './ids.ts';

const DEMO_SEED_LOCK = 7_276_824_502;

/**
 * Demo data (SPEC §5): seed 000's operator Net99, its collector and five purchase sources, the customer
 * and user, the four mediums, service E14C231D… with its unpaid upfront purchase, plus a paid-up
 * Recurring, a DayBundle and a HybridDayBundle service. Runs only on a database without operators.
 * Returns false (and changes nothing) when there is data already.
 */
export async function seedDemo(ctx: Pick<AppContext, 'database' | 'vault' | 'clock'>): Promise<boolean> {
  const now = ctx.clock();
  const today = civilDate(now);

  return ctx.database.db.transaction(async (tx) => {
    // Several processes may start together on one PostgreSQL: one seeds, the others find data and skip.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${DEMO_SEED_LOCK})`);
    const existing = await tx.select({ id: t.operators.id }).from(t.operators).limit(1);
    if (existing.length > 0) return false;
    await tx.insert(t.operators).values({
      id: DEMO.operatorId,
      name: 'Net99',
      vatRateBp: 1500,
      paymentLinksEnabled: true,
      defaultBankProvider: 'Debitsuccess',
      defaultCardProvider: 'PayFast',
      graceDays: 7,
    });
    await tx.insert(t.collectors).values({ id: DEMO.collectorId, operatorId: DEMO.operatorId, name: 'Net99 Collections' });
    await tx.insert(t.purchaseSources).values(
      (
        [
          [DEMO.sources.shop2Shop, 'Shop 2 Shop'],
          [DEMO.sources.eft, 'EFT'],
          [DEMO.sources.yoco, 'Yoco'],
          [DEMO.sources.cash, 'Cash'],
          [DEMO.sources.paymentLink, 'Payment Link'],
        ] as const
      ).map(([id, name]) => ({ id, name, operatorId: DEMO.operatorId, collectorId: DEMO.collectorId, offSystem: true })),
    );

    await tx.insert(t.products).values([
      { id: DEMO.products.recurring, operatorId: DEMO.operatorId, name: 'Monthly Recurring 20/10', billingScheme: 'Recurring', defaultCollectionDay: 15 },
      { id: DEMO.products.dayBundle, operatorId: DEMO.operatorId, name: 'Day Bundle 10/5', billingScheme: 'DayBundle' },
      { id: DEMO.products.hybrid, operatorId: DEMO.operatorId, name: 'Hybrid Bundle 50/25', billingScheme: 'HybridDayBundle', autoRecharge: true, autoRechargeLeadDays: 1 },
      { id: DEMO.products.electricity, operatorId: DEMO.operatorId, name: 'Prepaid Electricity', billingScheme: 'PrepaidUtility', vendMinCents: 1_000, vendMaxCents: 300_000 },
    ]);
    const prices = await tx
      .insert(t.productPrices)
      .values([
        { id: DEMO.prices.monthly, productId: DEMO.products.recurring, description: 'Monthly Recurring 20/10', lineTypeId: PurchaseLineType.Monthly, priceInclCents: 37900, periodContributionPerQuantity: 30, daysInPeriod: 30, onOrder: true, buyNow: true, maxQuantity: 366 },
        { id: DEMO.prices.bundle1Day, productId: DEMO.products.dayBundle, description: '1 Day bundle', lineTypeId: PurchaseLineType.Day, priceInclCents: 230, periodContributionPerQuantity: 1, buyNow: true, maxQuantity: 31, position: 0 },
        { id: DEMO.prices.bundle7Day, productId: DEMO.products.dayBundle, description: '7 Day bundle', lineTypeId: PurchaseLineType.Day, priceInclCents: 1150, periodContributionPerQuantity: 7, onOrder: true, buyNow: true, maxQuantity: 52, position: 1 },
        { id: DEMO.prices.bundle30Day, productId: DEMO.products.dayBundle, description: '30 Day bundle', lineTypeId: PurchaseLineType.Day, priceInclCents: 4600, periodContributionPerQuantity: 30, buyNow: true, maxQuantity: 12, position: 2 },
        { id: DEMO.prices.hybrid30Day, productId: DEMO.products.hybrid, description: '30 Day bundle', lineTypeId: PurchaseLineType.Day, priceInclCents: 29900, periodContributionPerQuantity: 30, onOrder: true, buyNow: true, maxQuantity: 12 },
      ])
      .returning();
    const price = (id: string) => toDomainPrice(prices.find((p) => p.id === id)!);

    await tx.insert(t.customers).values({ id: DEMO.customerId, operatorId: DEMO.operatorId, name: 'Konstand Nel', email: 'konstand@example.co.za', cellNumber: '+27821234567' });
    await tx.insert(t.users).values([
      { id: DEMO.customerUserId, operatorId: DEMO.operatorId, customerId: DEMO.customerId, role: 'customer', name: 'Konstand Nel', email: 'konstand@example.co.za' },
      { id: DEMO.integratorUserId, operatorId: DEMO.operatorId, customerId: null, role: 'integrator', name: 'Net99 Integrator', email: 'integrations@net99.example.co.za' },
      { id: DEMO.adminUserId, operatorId: DEMO.operatorId, customerId: null, role: 'admin', name: 'Net99 Admin', email: 'admin@net99.example.co.za' },
    ]);

    const owner = { operatorId: DEMO.operatorId, customerId: DEMO.customerId };
    await insertMedium(
      tx,
      ctx.vault,
      { ...owner, id: DEMO.mediums.card, mediumType: 'CreditCard', provider: 'PayFast', externalReference: '2903c73f-d075-4344-b034-888050375c1b', accountName: 'test 4242', accountNumber: '4242', expiryMonth: 12, expiryYear: 2030, createdAt: new Date('2024-06-06T07:09:11.748Z') },
      { provider: 'PayFast', value: DEMO_PAYFAST_CARD_TOKEN },
    );
    // The PayFast sandbox knows the demo card's token: it is test card 4242…, which approves.
    await tx
      .insert(t.sandboxTokens)
      .values({ token: DEMO_PAYFAST_CARD_TOKEN, provider: 'PayFast', outcome: 'approve', cardBin: '424242', cardLast4: '4242', expiryMonth: 12, expiryYear: 2030, holder: 'test 4242' })
      .onConflictDoNothing();
    await insertMedium(tx, ctx.vault, { ...owner, id: DEMO.mediums.paymentLink, mediumType: 'PaymentLink', provider: 'PayFast', externalReference: 'a8104184-86e0-4bb3-bf68-35197d916ed8', accountName: 'konstandNet99@alpha.20240606.1', accountNumber: '', createdAt: new Date('2024-06-06T07:09:45.136Z') });
    await insertMedium(tx, ctx.vault, { ...owner, id: DEMO.mediums.offSystem, mediumType: 'OffSystem', provider: 'OffSystem', externalReference: 'fa19f2f6-9737-4d0e-9c51-0234ae725940', accountName: 'N/A', accountNumber: null, createdAt: new Date('2024-06-06T07:09:45.204Z') });

    const service = async (s: {
      id: string;
      planId: string;
      productId: string;
      status: 'PendingIspApplication' | 'Active';
      billingStatus: 'PaidUp' | 'InArrears';
      collectionDay?: number;
      periodEnd?: string;
      meterId?: string;
      createdAt: Date;
    }) => {
      await tx.insert(t.services).values({
        id: s.id,
        ...owner,
        productId: s.productId,
        collectorId: DEMO.collectorId,
        status: s.status,
        billingStatus: s.billingStatus,
        collectionDay: s.collectionDay ?? null,
        meterId: s.meterId ?? null,
        latestPeriodEndDate: s.periodEnd ?? null,
        onNetworkDate: s.status === 'Active' ? addDays(today, -60) : null,
        // An Active Recurring service is billed monthly from its next collection date.
        billedThrough: s.status === 'Active' && s.collectionDay ? nextCollectionDate(today, s.collectionDay) : null,
        createdAt: s.createdAt,
        updatedAt: s.createdAt,
      });
      await tx.insert(t.purchasePlans).values({ id: s.planId, serviceId: s.id, activeMediumId: DEMO.mediums.card });
    };
    const purchase = (serviceId: string, planId: string, lines: PricedLine[], statusId: PurchaseStatusId, purchaseDate: Date, extra: { id?: string; lineIds?: string[]; smallKey?: number; creationEventId?: 1 | 3; paidAt?: Date; purchaseSourceId?: string } = {}) =>
      insertPurchase(tx, {
        id: extra.id ?? randomUUID(),
        ...owner,
        serviceId,
        purchasePlanId: planId,
        statusId,
        creationEventId: extra.creationEventId ?? PurchaseCreationEvent.Order,
        purchaseDate,
        createdAt: purchaseDate < now ? purchaseDate : now,
        mediumId: DEMO.mediums.card,
        ...(extra.smallKey === undefined ? {} : { smallKey: extra.smallKey }),
        ...(extra.paidAt ? { paid: { at: extra.paidAt, periodApplied: true, paymentReference: 'EFT demo' }, purchaseSourceId: extra.purchaseSourceId ?? null } : {}),
        lines: lines.map((l, i) => ({ ...l, id: extra.lineIds?.[i] ?? randomUUID() })),
      });

    // Seed 000's service and its unpaid 30-day upfront purchase.
    const ordered = new Date('2024-06-06T07:09:45.250Z');
    await service({ id: DEMO.services.recurringInArrears, planId: DEMO.plans.recurringInArrears, productId: DEMO.products.recurring, status: 'PendingIspApplication', billingStatus: 'InArrears', collectionDay: 15, createdAt: ordered });
    await purchase(DEMO.services.recurringInArrears, DEMO.plans.recurringInArrears, [daysLine(price(DEMO.prices.monthly), 30, 1500, UPFRONT_MONTHLY_DESCRIPTION)], PurchaseStatus.Unpaid, ordered, {
      id: DEMO.purchases.arrears,
      lineIds: [DEMO.purchases.arrearsLine],
      smallKey: 1928142,
    });

    // Paid-up services: their upfront purchases were paid off-system (EFT) when they were ordered.
    const paidUp = async (s: Parameters<typeof service>[0], lines: PricedLine[]) => {
      await service(s);
      const p = await purchase(s.id, s.planId, lines, PurchaseStatus.Paid, s.createdAt, { paidAt: s.createdAt, purchaseSourceId: DEMO.sources.eft });
      await tx.insert(t.payments).values({
        id: randomUUID(),
        operatorId: DEMO.operatorId,
        purchaseId: p.id,
        mediumId: DEMO.mediums.offSystem,
        provider: 'OffSystem',
        kind: 'allocation',
        payableStatusId: PurchaseStatus.Unpaid,
        status: 'succeeded',
        amountCents: p.amountCents,
        merchantReference: `demo-${p.smallKey}`,
        purchaseSourceId: DEMO.sources.eft,
        comment: 'Demo data: paid by EFT',
        settledAt: s.createdAt,
        createdAt: s.createdAt,
        updatedAt: s.createdAt,
      });
    };
    const longAgo = new Date(now.getTime() - 40 * 86_400_000);
    // Paid up to its next collection day, from which it is billed monthly: no day between is left neither paid nor billed.
    await paidUp(
      { id: DEMO.services.recurringPaidUp, planId: DEMO.plans.recurringPaidUp, productId: DEMO.products.recurring, status: 'Active', billingStatus: 'PaidUp', collectionDay: 1, periodEnd: nextCollectionDate(today, 1), createdAt: longAgo },
      [daysLine(price(DEMO.prices.monthly), 30, 1500, UPFRONT_MONTHLY_DESCRIPTION)],
    );
    await paidUp(
      { id: DEMO.services.dayBundle, planId: DEMO.plans.dayBundle, productId: DEMO.products.dayBundle, status: 'Active', billingStatus: 'PaidUp', periodEnd: addDays(today, 3), createdAt: new Date(longAgo.getTime() + 60_000) },
      [unitLine(price(DEMO.prices.bundle7Day), 1, 1500)],
    );
    const hybridEnd = addDays(today, 10);
    await paidUp(
      { id: DEMO.services.hybrid, planId: DEMO.plans.hybrid, productId: DEMO.products.hybrid, status: 'Active', billingStatus: 'PaidUp', periodEnd: hybridEnd, createdAt: new Date(longAgo.getTime() + 120_000) },
      [unitLine(price(DEMO.prices.hybrid30Day), 1, 1500)],
    );
    // The next auto-recharge, scheduled the day before the bundle runs out.
    await purchase(DEMO.services.hybrid, DEMO.plans.hybrid, [unitLine(price(DEMO.prices.hybrid30Day), 1, 1500)], PurchaseStatus.Scheduled, new Date(`${addDays(hybridEnd, -1)}T06:00:00+02:00`), {
      creationEventId: PurchaseCreationEvent.AutoRecharge,
    });

    // Prepaid electricity on the vendor sandbox's meter that vends: bought by amount, nothing owed.
    await service({ id: DEMO.services.electricity, planId: DEMO.plans.electricity, productId: DEMO.products.electricity, status: 'Active', billingStatus: 'PaidUp', createdAt: new Date(longAgo.getTime() + 180_000), meterId: DEMO_METERS.vends });

    await recordAudit(tx, SYSTEM_ACTOR, { operatorId: DEMO.operatorId, entityType: 'operator', entityId: DEMO.operatorId, action: 'demo.seeded' });
    return true;
  });
}
