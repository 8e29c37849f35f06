import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { addDays, type IsoDate } from '../../src/domain/periods.ts';
import { workBillingCollections } from '../../src/modules/billing/work-collections.ts';
import { recordReturn } from '../../src/modules/payments/record-return.ts';
import { ledger, sandboxCardMedium } from '../helpers/collections.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * Day bundles and auto-recharge (SPEC §10) on the demo's services: the HybridDayBundle's Scheduled
 * auto-recharge is collected on its date, retried daily with a declining card and Failed after the last
 * attempt; a day-bundle service whose bundle ended is Suspended, and buying a bundle reinstates it.
 */
let today: IsoDate = '2000-01-01';
const clock = () => new Date(`${today}T10:00:00+02:00`);
let h: Harness;
/** The day the demo was seeded ("today" then): the demo's bundle dates count from it. */
let seeded: IsoDate;
beforeAll(async () => {
  h = await createHarness({ listen: true, clock });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
  const [hybrid] = await h.ctx.database.db.select().from(t.services).where(eq(t.services.id, DEMO.services.hybrid));
  seeded = addDays(hybrid!.latestPeriodEndDate!, -10);
  today = seeded;
});
afterAll(() => h?.close());

const recharges = () =>
  h.ctx.database.db
    .select()
    .from(t.purchases)
    .where(and(eq(t.purchases.serviceId, DEMO.services.hybrid), eq(t.purchases.creationEventId, 3)))
    .then((rows) => rows.sort((a, b) => a.purchaseDate.getTime() - b.purchaseDate.getTime()));
const service = async (id: string) => (await h.ctx.database.db.select().from(t.services).where(eq(t.services.id, id)))[0]!;
const attemptsOf = async (purchaseId: string) => {
  const refs = new Set((await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId))).map((p) => p.merchantReference));
  return (await ledger(h, 'payfast')).filter((c) => c.merchant_reference !== null && refs.has(c.merchant_reference) && c.kind !== 'card_update');
};
const events = async (type: string, key: 'purchase_id' | 'service_id', id: string) =>
  (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, type))).filter((e) => (e.payload as { data: Record<string, unknown> }).data[key] === id);
async function billOn(asOf: IsoDate) {
  today = asOf;
  const res = await h.call('POST', '/billing/runs', { token: h.tokens.integrator, body: { as_of: asOf } });
  expect([200, 201]).toContain(res.status);
  while ((await workBillingCollections(h.ctx)) > 0);
  return res.body as { purchases_failed: number; services_suspended: number; collections_started: number };
}

/**
 * A HybridDayBundle product of its own (a 7-day bundle, recharged 5 days before it ends) ordered for the
 * demo customer, activated, and its order paid with an approving card: its next recharge is Scheduled.
 */
async function hybridOfItsOwn(name: string): Promise<{ serviceId: string; good: string }> {
  const staff = { token: h.tokens.integrator };
  const product = await h.call('POST', '/products', {
    ...staff,
    body: { name, billing_scheme: 'HybridDayBundle', auto_recharge_lead_days: 5, prices: [{ description: '7 Day', purchase_line_type_id: 1, price_incl: 70, period_contribution_per_quantity: 7, on_order: true, buy_now: true }] },
  });
  expect(product.status, product.text).toBe(201);
  const order = await h.call('POST', '/orders', { ...staff, body: { customer_id: DEMO.customerId, product_id: product.body.id, collector_id: DEMO.collectorId } });
  expect(order.status, order.text).toBe(201);
  const serviceId = order.body.service.id as string;
  expect((await h.call('PATCH', `/services/${serviceId}`, { ...staff, body: { service_status: 'Active' } })).status).toBe(200);
  const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
  expect((await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: order.body.upfront_purchase.id, medium_id: good } })).status).toBe(200);
  return { serviceId, good };
}

describe('auto-recharge', () => {
  it('is charged on its date, once, and schedules the next one', async () => {
    const [scheduled] = await recharges();
    expect(scheduled).toMatchObject({ statusId: 1 });
    const due = addDays(seeded, 9);
    await billOn(addDays(due, -1));
    expect((await recharges())[0]!.statusId).toBe(1);
    const run = await billOn(due);
    expect(run.collections_started).toBe(1);
    const [paid, next] = await recharges();
    expect(paid).toMatchObject({ id: scheduled!.id, statusId: 4 });
    expect(await attemptsOf(paid!.id)).toHaveLength(1);
    expect(next).toMatchObject({ statusId: 1 });
    expect((await service(DEMO.services.hybrid)).latestPeriodEndDate).toBe(addDays(seeded, 40));
    await billOn(addDays(due, 1));
    expect(await attemptsOf(paid!.id)).toHaveLength(1);
  });

  it('with a declining card: tried daily, Failed after the last attempt, the service Suspended when its bundle ends; buying a bundle reinstates it', async () => {
    const declining = await sandboxCardMedium(h, 'decline', 'PayFast', '0002');
    expect((await h.call('PUT', `/active-payment-medium-for-service?serviceId=${DEMO.services.hybrid}`, { body: { medium_id: declining } })).status).toBe(200);
    const next = (await recharges()).find((p) => p.statusId === 1)!;
    const due = addDays(seeded, 39);
    await billOn(due);
    expect(await attemptsOf(next.id)).toHaveLength(1);
    expect((await recharges()).find((p) => p.id === next.id)!.statusId).toBe(3);
    // Declined, the recharge is owed: InArrears until it is paid, to be suspended when the bundle ends.
    expect(await service(DEMO.services.hybrid)).toMatchObject({ status: 'Active', billingStatus: 'InArrears', suspensionDate: addDays(seeded, 40) });
    expect((await h.call('GET', `/services/${DEMO.services.hybrid}/details-and-actions`)).body).toMatchObject({ billing_status: 'InArrears', suspension_date: addDays(seeded, 40) });
    const inArrears = await h.call('GET', '/services?billing_status=InArrears&limit=100', { token: h.tokens.integrator });
    expect(inArrears.body.items.find((x: { id: string }) => x.id === DEMO.services.hybrid)).toMatchObject({ amount_due: next.amountCents / 100 });
    await billOn(addDays(due, 1));
    expect(await attemptsOf(next.id)).toHaveLength(2);
    await billOn(addDays(due, 2));
    expect(await attemptsOf(next.id)).toHaveLength(3); // the operator's auto_recharge_attempts (3)
    const given = await billOn(addDays(due, 3));
    expect(given.purchases_failed).toBe(1);
    expect((await recharges()).find((p) => p.id === next.id)!.statusId).toBe(5);
    expect(await attemptsOf(next.id)).toHaveLength(3);
    expect(await events('purchase.failed', 'purchase_id', next.id)).toHaveLength(1);
    // Its bundle ended on seeded + 40 (before the third retry's day): Suspended by the run of that day.
    expect(await service(DEMO.services.hybrid)).toMatchObject({ status: 'Suspended', billingStatus: 'Suspended' });
    expect(await events('service.suspended', 'service_id', DEMO.services.hybrid)).toHaveLength(1);
  });

  it('a day bundle that ended is Suspended, and a bundle bought and paid reinstates it at once', async () => {
    // The demo day bundle ended on seeded + 3; the runs above suspended it.
    expect(await service(DEMO.services.dayBundle)).toMatchObject({ status: 'Suspended', billingStatus: 'Suspended' });
    const quote = await h.call('POST', '/purchases/buy-now', {
      body: {
        service_id: DEMO.services.dayBundle,
        purchase_lines: [{ purchase_line_type_id: 1, description: '7 Day bundle', total_amount: 11.5, amount_per_quantity: 10, net_amount_excl: 10, tax_rate: 15, tax_amount: 1.5, quantity: 1, period_contribution_per_quantity: 7, product_price_id: DEMO.prices.bundle7Day }],
      },
    });
    expect(quote.status, quote.text).toBe(201);
    const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
    const paid = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: DEMO.services.dayBundle, purchase_id: quote.body.id, medium_id: good } });
    expect(paid.status, paid.text).toBe(200);
    expect(await service(DEMO.services.dayBundle)).toMatchObject({ status: 'Active', billingStatus: 'PaidUp', latestPeriodEndDate: addDays(today, 7) });
    const reinstated = await events('service.reinstated', 'service_id', DEMO.services.dayBundle);
    expect(reinstated).toHaveLength(1);
    // Written by the reinstatement trigger itself for the endpoint taking it, it waits for the webhook job.
    expect(reinstated[0]!.dispatchedAt).toBeNull();
  });

  it('a date skipped by the runs and run after a later one makes no retry the later run overtook', async () => {
    // The hybrid (Suspended above, its card declining) buys a bundle with a good card: reinstated, with its next auto-recharge Scheduled.
    const details = await h.call('GET', `/services/${DEMO.services.hybrid}/details-and-actions`);
    const { max_quantity: _max, ...option } = details.body.can_buy_info.options[0];
    const quote = await h.call('POST', '/purchases/buy-now', { body: { service_id: DEMO.services.hybrid, purchase_lines: [{ ...option, quantity: 1 }] } });
    expect(quote.status, JSON.stringify(option) + quote.text).toBe(201);
    const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
    expect((await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: DEMO.services.hybrid, purchase_id: quote.body.id, medium_id: good } })).status).toBe(200);
    const next = (await recharges()).find((p) => p.statusId === 1)!;
    expect(next).toBeDefined();
    const due = new Date(next.purchaseDate.getTime() + 2 * 3600_000).toISOString().slice(0, 10) as IsoDate;
    await billOn(due);
    expect(await attemptsOf(next.id)).toHaveLength(1);
    await billOn(addDays(due, 2)); // the day after is skipped: this run makes the latest retry only
    expect(await attemptsOf(next.id)).toHaveLength(2);
    const late = await billOn(addDays(due, 1));
    expect(late.collections_started).toBe(0);
    expect(await attemptsOf(next.id)).toHaveLength(2);
  });

  it('a recharge given up on before its bundle ends is owed no more: the service is PaidUp again, and Suspended when the bundle ends', async () => {
    const { serviceId } = await hybridOfItsOwn('Hybrid 7 early');
    const declining = await sandboxCardMedium(h, 'decline', 'PayFast', '0002');
    expect((await h.call('PUT', `/active-payment-medium-for-service?serviceId=${serviceId}`, { body: { medium_id: declining } })).status).toBe(200);
    const ends = (await service(serviceId)).latestPeriodEndDate!;
    expect(ends).toBe(addDays(today, 7));
    const [recharge] = await h.ctx.database.db
      .select()
      .from(t.purchases)
      .where(and(eq(t.purchases.serviceId, serviceId), eq(t.purchases.creationEventId, 3), eq(t.purchases.statusId, 1)));
    expect(recharge).toBeDefined();
    const due = addDays(ends, -5);

    expect((await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { auto_recharge_attempts: 2 } })).status).toBe(200);
    try {
      await billOn(due);
      expect(await service(serviceId)).toMatchObject({ status: 'Active', billingStatus: 'InArrears', suspensionDate: ends });
      await billOn(addDays(due, 1));
      expect(await attemptsOf(recharge!.id)).toHaveLength(2);
      const given = await billOn(addDays(due, 2));
      expect(given.purchases_failed).toBe(1);
      expect(await service(serviceId)).toMatchObject({ status: 'Active', billingStatus: 'PaidUp', suspensionDate: null });
      expect((await h.call('GET', `/services/${serviceId}/details-and-actions`)).body).toMatchObject({ billing_status: 'PaidUp' });
      await billOn(addDays(ends, -1));
      expect((await service(serviceId)).status).toBe('Active');
      await billOn(ends);
      expect(await service(serviceId)).toMatchObject({ status: 'Suspended', billingStatus: 'Suspended' });
    } finally {
      expect((await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { auto_recharge_attempts: 3 } })).status).toBe(200);
    }
  });

  it('a recharge reopened by a return of its payment stays owed: it is not given up on', async () => {
    const { serviceId, good } = await hybridOfItsOwn('Hybrid 7 returned');
    expect((await h.call('PUT', `/active-payment-medium-for-service?serviceId=${serviceId}`, { body: { medium_id: good } })).status).toBe(200);
    const due = addDays((await service(serviceId)).latestPeriodEndDate!, -5);
    const [recharge] = await h.ctx.database.db.select().from(t.purchases).where(and(eq(t.purchases.serviceId, serviceId), eq(t.purchases.creationEventId, 3)));
    await billOn(due);
    const [payment] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, recharge!.id));
    expect(payment).toMatchObject({ status: 'succeeded' });

    // Its money comes back; nothing more is collected (the plan has no card now).
    const returned = await recordReturn(h.ctx, { paymentId: payment!.id, returned: { code: 'Returned', message: 'Disputed by the card holder' }, providerReference: null, occurredAt: null, via: 'feed' });
    expect(returned).toMatchObject({ recorded: true, reopened: true });
    await h.ctx.database.query('UPDATE purchase_plans SET active_medium_id = NULL WHERE service_id = $1', [serviceId]);
    const given = await billOn(addDays(due, 3));
    expect(given.purchases_failed).toBe(0);
    expect((await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, recharge!.id)))[0]).toMatchObject({ statusId: 3 });
    expect(await service(serviceId)).toMatchObject({ billingStatus: 'InArrears' });
  });
});
