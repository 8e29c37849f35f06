import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../db/schema.ts';
import { DEMO } from '../../demo/ids.ts';
import { addDays, civilDate } from '../../domain/periods.ts';
import { approvedCharges } from '../../../test/helpers/collections.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
});
afterAll(async () => h?.close());

const service = async (id: string) => (await h.ctx.database.db.select().from(t.services).where(eq(t.services.id, id)))[0]!;
const pay = (serviceId: string, purchaseId: string) =>
  h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: purchaseId, medium_id: DEMO.mediums.card, success_url: null, failure_url: null, process_immediate_purchase: true } });

describe('fulfilment of a paid purchase', () => {
  it('buy-now 3 × 7-day bundles (seed 000’s payload), pay the quote: R34.50 charged once, the period moves 21 days', async () => {
    const before = await service(DEMO.services.dayBundle);
    const quote = await h.call('POST', '/purchases/buy-now', {
      body: {
        service_id: DEMO.services.dayBundle,
        purchase_lines: [{ id: DEMO.prices.bundle7Day, purchase_line_type_id: 1, description: '7 Day bundle', total_amount: 34.5, amount_per_quantity: 10, net_amount_excl: 30, tax_rate: 15, tax_amount: 4.5, quantity: 3, period_contribution_per_quantity: 7, product_price_id: DEMO.prices.bundle7Day }],
        customer_statement_ref: 'string',
      },
    });
    expect(quote.status).toBe(201);
    expect(quote.body).toMatchObject({ purchase_status_id: 6, amount: 34.5 });
    const charges = (await approvedCharges(h, 'payfast')).length;

    const paid = await pay(DEMO.services.dayBundle, quote.body.id);
    expect(paid.status).toBe(200);
    expect(paid.body.purchase_status_id).toBe(4);
    const after = await service(DEMO.services.dayBundle);
    expect(after.latestPeriodEndDate).toBe(addDays(before.latestPeriodEndDate!, 21));
    expect(after.billingStatus).toBe('PaidUp');
    const newCharges = (await approvedCharges(h, 'payfast')).slice(charges);
    expect(newCharges.map((c) => c.amount)).toEqual(['34.50']);
    const [purchase] = await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, quote.body.id));
    expect(purchase).toMatchObject({ statusId: 4, periodApplied: true });
  });

  it('a HybridDayBundle recharge paid: the period moves 30 days and the next auto-recharge is scheduled the day before it ends', async () => {
    const before = await service(DEMO.services.hybrid);
    const [scheduled] = await h.ctx.database.db
      .select()
      .from(t.purchases)
      .where(and(eq(t.purchases.serviceId, DEMO.services.hybrid), eq(t.purchases.statusId, 1)));
    expect(scheduled).toBeDefined();
    const res = await pay(DEMO.services.hybrid, scheduled!.id);
    expect(res.status).toBe(200);
    const after = await service(DEMO.services.hybrid);
    expect(after.latestPeriodEndDate).toBe(addDays(before.latestPeriodEndDate!, 30));

    const next = await h.ctx.database.db
      .select()
      .from(t.purchases)
      .where(and(eq(t.purchases.serviceId, DEMO.services.hybrid), eq(t.purchases.statusId, 1)));
    expect(next).toHaveLength(1);
    expect(next[0]!.id).not.toBe(scheduled!.id);
    expect(next[0]).toMatchObject({ creationEventId: 3, amountCents: 29_900, mediumId: DEMO.mediums.card });
    expect(civilDate(next[0]!.purchaseDate)).toBe(addDays(after.latestPeriodEndDate!, -1));
  });

  it('E14C231D’s arrears paid: the service becomes PaidUp and its period starts today', async () => {
    const res = await pay(DEMO.services.recurringInArrears, DEMO.purchases.arrears);
    expect(res.status).toBe(200);
    const after = await service(DEMO.services.recurringInArrears);
    expect(after.billingStatus).toBe('PaidUp');
    expect(after.latestPeriodEndDate).toBe(addDays(civilDate(new Date()), 30));
  });
});
