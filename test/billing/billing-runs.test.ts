import { and, eq, inArray } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openPostgres } from '../../src/db/client.ts';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { addDays, nextCollectionDate, type IsoDate } from '../../src/domain/periods.ts';
import { BILL_MONTH, RETRY_MONTHS } from '../../src/modules/billing/billing-sql.ts';
import { runBilling, sliceSettings } from '../../src/modules/billing/run-billing.ts';
import { workBillingCollections } from '../../src/modules/billing/work-collections.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../../src/modules/mediums/repo.ts';
import { approvedCharges, ledger, sandboxCardMedium, type CardOutcome } from '../helpers/collections.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * Recurring billing (SPEC §10), decided by `as_of` alone: the test moves payrail's clock day by day
 * (a run may not be ahead of "today") and runs billing through the API, then works the collections the
 * runs queued as the jobs would, against the PayFast sandbox over real HTTP.
 */
let today: IsoDate = '2027-01-05';
const clock = () => new Date(`${today}T10:00:00+02:00`);
let h: Harness;
let everyEvent: string;
beforeAll(async () => {
  h = await createHarness({ listen: true, clock });
  everyEvent = await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
});
afterAll(() => h?.close());

const staff = () => h.tokens.integrator;
const monthly = (serviceId: string) =>
  h.ctx.database.db
    .select()
    .from(t.purchases)
    .where(and(eq(t.purchases.serviceId, serviceId), eq(t.purchases.creationEventId, 2)))
    .then((rows) => rows.sort((a, b) => (a.periodStart! < b.periodStart! ? -1 : 1)));
const serviceRow = async (id: string) => (await h.ctx.database.db.select().from(t.services).where(eq(t.services.id, id)))[0]!;
const eventsOf = async (type: string, serviceId: string) =>
  (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, type))).filter((e) => (e.payload as { data: { service_id?: string } }).data.service_id === serviceId);
/** Charges at the sandbox for a set of purchases (through their attempts' merchant references). */
async function chargesFor(purchaseIds: string[]) {
  const refs = new Set((await h.ctx.database.db.select().from(t.payments)).filter((p) => p.purchaseId !== null && purchaseIds.includes(p.purchaseId)).map((p) => p.merchantReference));
  return (await approvedCharges(h, 'payfast')).filter((c) => c.merchant_reference !== null && refs.has(c.merchant_reference));
}
async function attemptsAt(purchaseIds: string[]) {
  const refs = new Set((await h.ctx.database.db.select().from(t.payments)).filter((p) => p.purchaseId !== null && purchaseIds.includes(p.purchaseId)).map((p) => p.merchantReference));
  return (await ledger(h, 'payfast')).filter((c) => c.merchant_reference !== null && refs.has(c.merchant_reference) && c.kind !== 'card_update');
}

/** A Recurring order for the demo customer, paid up front, with a card of `outcome` active, activated on the order day. */
async function activeRecurring(collectionDay: number, outcome: CardOutcome = 'approve'): Promise<{ serviceId: string; card: string }> {
  const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: collectionDay } });
  expect(order.status).toBe(201);
  const serviceId = order.body.service.id as string;
  const card = await sandboxCardMedium(h, outcome, 'PayFast', outcome === 'approve' ? '1111' : '0002');
  const good = outcome === 'approve' ? card : await sandboxCardMedium(h, 'approve', 'PayFast', '1111');
  const paid = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: order.body.upfront_purchase.id, medium_id: good } });
  expect(paid.status).toBe(200);
  expect((await h.call('PUT', `/active-payment-medium-for-service?serviceId=${serviceId}`, { body: { medium_id: card } })).status).toBe(200);
  const activated = await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active', on_network_date: today } });
  expect(activated.status).toBe(200);
  expect(activated.body.service_status).toBe('Active');
  return { serviceId, card };
}

/** Runs billing for `asOf` (moving the clock there) and works every collection it queued, as the jobs do. */
async function billOn(asOf: IsoDate) {
  today = asOf;
  const res = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: asOf } });
  expect([200, 201]).toContain(res.status);
  while ((await workBillingCollections(h.ctx)) > 0);
  return res;
}

describe('the demo data', () => {
  it('has its paid-up Recurring service paid to the day its monthly billing starts: no day is left neither paid nor billed', async () => {
    // Read before any run of this file bills it.
    const demo = await serviceRow(DEMO.services.recurringPaidUp);
    expect(demo.status).toBe('Active');
    expect(demo.billedThrough).not.toBeNull();
    expect(demo.latestPeriodEndDate).toBe(demo.billedThrough);
  });
});

describe('a Recurring service walked through a year of billing runs', () => {
  it('collection day 15: twelve monthly purchases, each charged once; repeated runs and concurrent runs add nothing', async () => {
    today = '2027-01-05';
    const { serviceId } = await activeRecurring(15);
    expect((await serviceRow(serviceId)).billedThrough).toBe('2027-01-15');

    // The days that matter each month, and a few that do not.
    const days: IsoDate[] = [];
    for (let m = 1; m <= 12; m++) for (const d of [1, 14, 15, 16, 28]) days.push(`2027-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    for (const d of days.filter((d) => d >= '2027-01-05')) await billOn(d);

    const months = await monthly(serviceId);
    expect(months.map((p) => p.periodStart)).toEqual(Array.from({ length: 12 }, (_, i) => `2027-${String(i + 1).padStart(2, '0')}-15`));
    expect(months.map((p) => p.periodEnd)).toEqual(Array.from({ length: 12 }, (_, i) => (i === 11 ? '2028-01-15' : `2027-${String(i + 2).padStart(2, '0')}-15`)));
    expect(months.every((p) => p.statusId === 4 && p.amountCents === 37_900 && p.amountExclCents === 32_957 && p.taxCents === 4_943)).toBe(true);
    const charges = await chargesFor(months.map((p) => p.id));
    expect(charges).toHaveLength(12);
    expect(charges.every((c) => c.amount === '379.00')).toBe(true);
    // The line says which period it pays for, and is a Monthly line.
    const [line] = await h.ctx.database.db.select().from(t.purchaseLines).where(eq(t.purchaseLines.purchaseId, months[1]!.id));
    expect(line).toMatchObject({ lineTypeId: 2, quantity: 1, totalAmountCents: 37_900, periodContributionPerQuantity: 28 });
    expect(line!.description).toContain('2027-02-15 to 2027-03-15');
    expect(await eventsOf('purchase.created', serviceId)).toHaveLength(12);
    // Paid up to the end of the last month paid, not a month from each day it was paid.
    expect(await serviceRow(serviceId)).toMatchObject({ billingStatus: 'PaidUp', latestPeriodEndDate: '2028-01-15' });

    // The same dates again, through the API and directly: the runs are found, nothing is created or charged.
    const again = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: '2027-06-15' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ as_of: '2027-06-15', status: 'completed', purchases_created: 1 });
    await Promise.all([runBilling(h.ctx, DEMO.operatorId, '2027-12-15', { id: 't', role: 'system', requestId: null }), runBilling(h.ctx, DEMO.operatorId, '2027-12-15', { id: 't', role: 'system', requestId: null })]);
    while ((await workBillingCollections(h.ctx)) > 0);
    expect(await monthly(serviceId)).toHaveLength(12);
    expect(await chargesFor(months.map((p) => p.id))).toHaveLength(12);
  });
});

describe('collection days 29–31', () => {
  it('are accepted on orders and billed once a month on the clamped day, in a leap year too', async () => {
    today = '2028-01-03';
    const { serviceId: day31 } = await activeRecurring(31);
    const { serviceId: day30 } = await activeRecurring(30);
    const { serviceId: day29 } = await activeRecurring(29);
    for (let d: IsoDate = '2028-01-03'; d <= '2028-05-01'; d = addDays(d, 1)) {
      if (['28', '29', '30', '31', '01'].includes(d.slice(8))) await billOn(d);
    }
    expect((await monthly(day31)).map((p) => p.periodStart)).toEqual(['2028-01-31', '2028-02-29', '2028-03-31', '2028-04-30']);
    expect((await monthly(day30)).map((p) => p.periodStart)).toEqual(['2028-01-30', '2028-02-29', '2028-03-30', '2028-04-30']);
    expect((await monthly(day29)).map((p) => p.periodStart)).toEqual(['2028-01-29', '2028-02-29', '2028-03-29', '2028-04-29']);
    expect((await monthly(day31)).map((p) => p.periodEnd)).toEqual(['2028-02-29', '2028-03-31', '2028-04-30', '2028-05-31']);
  });

  it('the database and the domain agree on every collection date', async () => {
    const cases: [IsoDate, number][] = [];
    for (let d: IsoDate = '2027-12-25'; d <= '2029-03-05'; d = addDays(d, 3)) for (const day of [1, 15, 28, 29, 30, 31]) cases.push([d, day]);
    const rows = await h.ctx.database.query<{ next: string }>(
      `SELECT payrail_next_collection_date((c.v->>'d')::date, (c.v->>'day')::int)::text AS next FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(v, i) ORDER BY c.i`,
      [JSON.stringify(cases.map(([d, day]) => ({ d, day })))],
    );
    expect(rows.map((r) => r.next)).toEqual(cases.map(([d, day]) => nextCollectionDate(d, day)));
  });

  it('the collection-date functions are immutable in fact: the same dates in any time zone, and inlined into the statements that call them', async () => {
    const cases: [IsoDate, number][] = [];
    for (let d: IsoDate = '2028-01-27'; d <= '2028-04-02'; d = addDays(d, 1)) for (const day of [1, 29, 31]) cases.push([d, day]);
    for (const zone of ['Pacific/Kiritimati', 'America/Anchorage']) {
      const rows = await h.ctx.database.transaction(async ({ query }) => {
        await query(`SET LOCAL TimeZone = '${zone}'`);
        return query<{ next: string }>(
          `SELECT payrail_next_collection_date((c.v->>'d')::date, (c.v->>'day')::int)::text AS next FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(v, i) ORDER BY c.i`,
          [JSON.stringify(cases.map(([d, day]) => ({ d, day })))],
        );
      });
      expect(rows.map((r) => r.next), zone).toEqual(cases.map(([d, day]) => nextCollectionDate(d, day)));
    }
    // A SQL function whose body is more volatile than it is declared is called row by row, an executor
    // started each time (a billing run calls this one for every service it bills).
    const plan = await h.ctx.database.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (VERBOSE) SELECT payrail_next_collection_date(d::date, 31) FROM generate_series(1, 3) i CROSS JOIN LATERAL (SELECT DATE '2028-01-01' + i AS d) x`,
    );
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('date_trunc');
    expect(text).not.toMatch(/payrail_(next_collection_date|collection_date_in)\(/);
  });
});

describe('a service several periods behind', () => {
  it('is billed every period it missed by one run, each once, and the next run adds nothing', async () => {
    today = '2031-01-02';
    const { serviceId } = await activeRecurring(10);
    expect((await serviceRow(serviceId)).billedThrough).toBe('2031-01-10');
    await billOn('2031-04-12');
    const months = await monthly(serviceId);
    expect(months.map((p) => p.periodStart)).toEqual(['2031-01-10', '2031-02-10', '2031-03-10', '2031-04-10']);
    expect(await chargesFor(months.map((p) => p.id))).toHaveLength(4);
    expect((await serviceRow(serviceId)).billedThrough).toBe('2031-05-10');
    await billOn('2031-04-13');
    expect(await monthly(serviceId)).toHaveLength(4);
  });
});

describe('dunning', () => {
  it('a declining card: retries on days +3 and +7, InArrears until the suspension date, Suspended on it, reinstated at once by Pay Now', async () => {
    expect((await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { grace_days: 10, retry_days: [7, 3] } })).body).toMatchObject({ grace_days: 10, retry_days: [3, 7] });
    today = '2029-01-02';
    const { serviceId } = await activeRecurring(5, 'decline');
    await billOn('2029-01-05');
    const [due] = await monthly(serviceId);
    expect(due).toMatchObject({ statusId: 3, periodStart: '2029-01-05' });
    expect(await attemptsAt([due!.id])).toHaveLength(1);
    const arrears = await serviceRow(serviceId);
    expect(arrears).toMatchObject({ status: 'Active', billingStatus: 'InArrears', suspensionDate: '2029-01-15' });
    const details = await h.call('GET', `/services/${serviceId}/details-and-actions`);
    expect(details.body).toMatchObject({ billing_status: 'InArrears', suspension_date: '2029-01-15' });
    expect(details.body.must_pay_info).not.toBeNull();
    // Staff find it among the services in arrears, with what it owes, and its purchase among those due.
    const inArrears = await h.call('GET', '/services?billing_status=InArrears&limit=100', { token: staff() });
    expect(inArrears.body.items.find((x: { id: string }) => x.id === serviceId)).toMatchObject({ billing_status: 'InArrears', amount_due: 379 });
    expect(inArrears.body.items.every((x: { billing_status: string }) => x.billing_status === 'InArrears')).toBe(true);
    expect((await h.call('GET', '/services?billing_status=PaidUp&limit=100', { token: staff() })).body.items.some((x: { id: string }) => x.id === serviceId)).toBe(false);
    const dueBefore = await h.call('GET', '/purchases?status=3&due_before=2029-01-06&limit=100', { token: staff() });
    expect(dueBefore.body.items.map((p: { id: string }) => p.id)).toContain(due!.id);
    expect(dueBefore.body.items.every((p: { purchase_status_id: number }) => p.purchase_status_id === 3)).toBe(true);
    expect((await h.call('GET', '/purchases?status=3&due_before=2029-01-05&limit=100', { token: staff() })).body.items.map((p: { id: string }) => p.id)).not.toContain(due!.id);
    // The calendar's first and last days are days like any other (the first was a 500: its start, made in
    // JavaScript, was written as year 0000).
    const first = await h.call('GET', '/purchases?status=3&due_before=0001-01-01&limit=100', { token: staff() });
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([]);
    expect((await h.call('GET', '/purchases?status=3&due_before=9999-12-31&limit=100', { token: staff() })).body.items.map((p: { id: string }) => p.id)).toContain(due!.id);
    expect((await h.call('GET', '/purchases?status=3')).status).toBe(400); // a customer names the service
    // A date of the right shape not on the calendar is 422, as in bodies; another shape is 400.
    const impossible = await h.call('GET', '/purchases?due_before=2029-02-30', { token: staff() });
    expect(impossible.status).toBe(422);
    expect(impossible.body).toMatchObject({ code: 'purchase.due_before_invalid', errors: [{ name: 'query.due_before', reason: 'is not a calendar date' }] });
    expect((await h.call('GET', '/purchases?due_before=29-02-2029', { token: staff() })).status).toBe(400);
    expect((await h.call('GET', '/services?billing_status=Late', { token: staff() })).status).toBe(400);

    for (const d of ['2029-01-06', '2029-01-07']) await billOn(d);
    expect(await attemptsAt([due!.id])).toHaveLength(1);
    await billOn('2029-01-08'); // +3
    expect(await attemptsAt([due!.id])).toHaveLength(2);
    for (const d of ['2029-01-09', '2029-01-10', '2029-01-11']) await billOn(d);
    expect(await attemptsAt([due!.id])).toHaveLength(2);
    await billOn('2029-01-12'); // +7
    expect(await attemptsAt([due!.id])).toHaveLength(3);
    await billOn('2029-01-14');
    expect((await serviceRow(serviceId)).status).toBe('Active');

    const suspendedRun = await billOn('2029-01-15');
    expect(suspendedRun.body.services_suspended).toBeGreaterThanOrEqual(1);
    expect(await serviceRow(serviceId)).toMatchObject({ status: 'Suspended', billingStatus: 'Suspended' });
    expect(await eventsOf('service.suspended', serviceId)).toHaveLength(1);
    expect((await h.call('GET', `/services/${serviceId}/details-and-actions`)).body).toMatchObject({ billing_status: 'Suspended' });

    // Suspended: the next month is not billed.
    await billOn('2029-02-05');
    expect(await monthly(serviceId)).toHaveLength(1);
    expect(await attemptsAt([due!.id])).toHaveLength(3);

    // Pay Now with a good card: paid, PaidUp, Active, service.reinstated — at once, no run needed.
    today = '2029-02-07';
    const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
    // An endpoint takes service.reinstated: the event waits for the webhook job.
    const endpoint = await h.call('POST', '/webhook-endpoints', { token: staff(), body: { url: 'http://127.0.0.1:9/hooks', event_types: ['service.reinstated'] } });
    expect(endpoint.status, endpoint.text).toBe(201);
    const pay = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: due!.id, medium_id: good } });
    expect((await h.call('PATCH', `/webhook-endpoints/${endpoint.body.id}`, { token: staff(), body: { enabled: false } })).status).toBe(200);
    expect(pay.status).toBe(200);
    // Paid late, the January month still pays for January: the service's period ends where that month does.
    expect(await serviceRow(serviceId)).toMatchObject({ status: 'Active', billingStatus: 'PaidUp', suspensionDate: null, billedThrough: '2029-03-05', latestPeriodEndDate: '2029-02-05' });
    const reinstated = await eventsOf('service.reinstated', serviceId);
    expect(reinstated).toHaveLength(1);
    expect(reinstated[0]!.dispatchedAt).toBeNull();
    expect((await h.call('GET', `/services/${serviceId}/details-and-actions`)).body).toMatchObject({ billing_status: 'PaidUp', must_pay_info: null });
    // Billing resumes from the next collection date; the suspended month is not billed.
    await billOn('2029-03-05');
    expect((await monthly(serviceId)).map((p) => p.periodStart)).toEqual(['2029-01-05', '2029-03-05']);
  });
});

describe('the service lifecycle', () => {
  it('a Cancelled service is never billed again, its Scheduled purchases are Cancelled, and moves the machine forbids are 409', async () => {
    today = '2030-01-02';
    const { serviceId } = await activeRecurring(10);
    // An endpoint that takes purchase.created gets the run's events, waiting for the webhook job.
    await billOn('2030-01-10');
    const created = await eventsOf('purchase.created', serviceId);
    expect(created).toHaveLength(1);
    expect(created[0]!.dispatchedAt).toBeNull();
    const cancel = await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Cancelled' } });
    expect(cancel.status).toBe(200);
    expect(cancel.body.service_status).toBe('Cancelled');
    expect(await eventsOf('service.cancelled', serviceId)).toHaveLength(1);
    await billOn('2030-02-10');
    await billOn('2030-03-10');
    expect(await monthly(serviceId)).toHaveLength(1); // the month billed before it was cancelled
    const back = await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active' } });
    expect(back.status).toBe(409);
    expect(back.body).toMatchObject({ code: 'service.status_move_not_allowed', status: 409, service_status: 'Cancelled' });
    expect((await h.call('PATCH', `/services/${serviceId}`, { body: { service_status: 'Active' } })).status).toBe(403); // a customer
    const suspend = await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Suspended' } });
    expect(suspend.status).toBe(400);
    expect(suspend.body.errors).toEqual([{ name: 'body.service_status', reason: 'must be equal to one of the allowed values' }]);
  });
});

describe('the events of a run', () => {
  it('are written only for an endpoint that takes them: with none, a run bills and writes no purchase.created', async () => {
    today = '2030-04-02';
    const { serviceId } = await activeRecurring(4);
    const setEnabled = async (enabled: boolean) => expect((await h.call('PATCH', `/webhook-endpoints/${everyEvent}`, { token: staff(), body: { enabled } })).status).toBe(200);
    await setEnabled(false);
    try {
      const outbox = async () => (await h.ctx.database.db.select({ id: t.outboxEvents.id }).from(t.outboxEvents)).length;
      const before = await outbox();
      const run = await billOn('2030-04-04');
      expect(run.body.purchases_created).toBeGreaterThanOrEqual(1);
      expect(await monthly(serviceId)).toHaveLength(1);
      expect(await eventsOf('purchase.created', serviceId)).toEqual([]);
      expect(await outbox()).toBe(before);
    } finally {
      await setEnabled(true);
    }
  });
});

describe('activating a service', () => {
  it('takes an on-network date that has come, and refuses another date for a line already live', async () => {
    today = '2030-06-10';
    const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 12 } });
    expect(order.status).toBe(201);
    const serviceId = order.body.service.id as string;
    const activate = (body: object) => h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active', ...body } });
    const state = async () => (await h.ctx.database.db.select({ status: t.services.status, onNetworkDate: t.services.onNetworkDate, billedThrough: t.services.billedThrough }).from(t.services).where(eq(t.services.id, serviceId)))[0];

    // A line is live from a day that has come: tomorrow would make it Active, and billed, before it is.
    const ahead = await activate({ on_network_date: '2030-06-11' });
    expect(ahead.status).toBe(422);
    expect(ahead.body).toMatchObject({ code: 'service.on_network_date_in_future', errors: [{ name: 'body.on_network_date', reason: 'is later than today (2030-06-10)' }] });
    const longAgo = await activate({ on_network_date: '2029-06-08' });
    expect(longAgo.status).toBe(422);
    expect(longAgo.body.code).toBe('service.on_network_date_out_of_range');
    expect(await state()).toMatchObject({ status: 'PendingIspApplication', onNetworkDate: null, billedThrough: null });
    expect(await eventsOf('service.activated', serviceId)).toHaveLength(0);

    const live = await activate({ on_network_date: '2030-06-09' });
    expect(live.status).toBe(200);
    expect(await state()).toMatchObject({ status: 'Active', onNetworkDate: '2030-06-09' });
    // The same again (with its date, or none) is a repeat: nothing changes.
    expect((await activate({ on_network_date: '2030-06-09' })).status).toBe(200);
    expect((await activate({})).status).toBe(200);
    // Another date is not a repeat: billing began from the first.
    const moved = await activate({ on_network_date: '2030-06-01' });
    expect(moved.status).toBe(409);
    expect(moved.body).toMatchObject({ code: 'service.already_active', on_network_date: '2030-06-09' });
    expect(moved.headers['content-type']).toContain('application/problem+json');
    expect(await state()).toMatchObject({ status: 'Active', onNetworkDate: '2030-06-09' });
    expect(await eventsOf('service.activated', serviceId)).toHaveLength(1);
  });

  it('never bills a month before the order, nor the days its order charged, however far back the line went live', async () => {
    today = '2030-09-10';
    const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 12 } });
    expect(order.status).toBe(201);
    const serviceId = order.body.service.id as string;
    // The upfront purchase (10 → 12 September) is left unpaid. A year back to the day is allowed; a day more is not.
    const tooOld = await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active', on_network_date: '2029-09-09' } });
    expect(tooOld.status).toBe(422);
    expect(tooOld.body.errors).toEqual([{ name: 'body.on_network_date', reason: 'is before 2029-09-10' }]);
    // Written in capitals: events carry the id as payrail writes it.
    const activated = await h.call('PATCH', `/services/${serviceId.toUpperCase()}`, { token: staff(), body: { service_status: 'Active', on_network_date: '2029-09-10' } });
    expect(activated.status).toBe(200);
    const [event] = await eventsOf('service.activated', serviceId);
    expect(event!.payload).toMatchObject({ data: { service_id: serviceId, on_network_date: '2029-09-10', billing_starts: '2030-09-12' } });
    expect((await serviceRow(serviceId)).billedThrough).toBe('2030-09-12');
    await billOn('2030-09-10');
    expect(await monthly(serviceId)).toHaveLength(0);
    await billOn('2030-09-12');
    expect((await monthly(serviceId)).map((p) => p.periodStart)).toEqual(['2030-09-12']);
  });

  it('takes an order’s on-network date under the same rule, and activates from it when PATCH gives none', async () => {
    today = '2030-10-20';
    const place = (onNetworkDate: string) =>
      h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 25, on_network_date: onNetworkDate } });
    const services = async () => (await h.ctx.database.query<{ n: number }>('SELECT count(*)::int AS n FROM services'))[0]!.n;
    const before = await services();
    for (const [date, code] of [
      ['2030-10-21', 'order.on_network_date_in_future'],
      ['2029-10-19', 'order.on_network_date_out_of_range'],
      ['2030-02-30', 'order.on_network_date_invalid'],
    ] as const) {
      const refused = await place(date);
      expect(refused.status, date).toBe(422);
      expect(refused.body.code).toBe(code);
    }
    expect(await services()).toBe(before);

    const order = await place('2030-10-18');
    expect(order.status).toBe(201);
    const serviceId = order.body.service.id as string;
    expect((await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active' } })).status).toBe(200);
    expect(await serviceRow(serviceId)).toMatchObject({ status: 'Active', onNetworkDate: '2030-10-18', billedThrough: '2030-10-25' });
  });
});

describe('an order dated other than today', () => {
  it('states the days it pays for from its order_date: activation bills from their end, and paying it late moves the period only to it', async () => {
    today = '2034-03-22';
    const place = async (body: object) => {
      const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 1, ...body } });
      expect(order.status, order.text).toBe(201);
      const [upfront] = await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, order.body.upfront_purchase.id));
      return { serviceId: order.body.service.id as string, upfront: upfront! };
    };
    const activate = async (serviceId: string, body: object = {}) =>
      expect((await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active', ...body } })).status).toBe(200);

    // Back-dated, the line live since then: its order paid 21 January to 1 February; February and March are owed.
    const back = await place({ order_date: '2034-01-21', on_network_date: '2034-01-21' });
    expect(back.upfront).toMatchObject({ periodStart: '2034-01-21', periodEnd: '2034-02-01', amountCents: Math.round((37900 * 11) / 30) });
    await activate(back.serviceId);
    expect((await serviceRow(back.serviceId)).billedThrough).toBe('2034-02-01');

    // Forward-dated: its order pays 10 May to 1 June, so billing starts on 1 June, not on 1 April as well.
    const ahead = await place({ order_date: '2034-05-10' });
    expect(ahead.upfront).toMatchObject({ periodStart: '2034-05-10', periodEnd: '2034-06-01' });
    await activate(ahead.serviceId);
    expect((await serviceRow(ahead.serviceId)).billedThrough).toBe('2034-06-01');

    await billOn('2034-03-22');
    expect((await monthly(back.serviceId)).map((p) => p.periodStart)).toEqual(['2034-02-01', '2034-03-01']);
    expect(await monthly(ahead.serviceId)).toHaveLength(0);
    await billOn('2034-04-01');
    expect(await monthly(ahead.serviceId)).toHaveLength(0);

    // Placed today, paid eight days later: the service is paid up to 1 April, as its order said, not to eight days after it.
    today = '2034-04-02';
    const late = await place({});
    expect(late.upfront).toMatchObject({ periodStart: '2034-04-02', periodEnd: '2034-05-01' });
    today = '2034-04-10';
    const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
    const paid = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: late.serviceId, purchase_id: late.upfront.id, medium_id: good } });
    expect(paid.status, paid.text).toBe(200);
    expect(await serviceRow(late.serviceId)).toMatchObject({ billingStatus: 'PaidUp', latestPeriodEndDate: '2034-05-01' });
  });
});

describe('a service activated while its order is unpaid', () => {
  it('owes the order from the day it goes live: InArrears with a suspension date after the grace days, and Suspended on it', async () => {
    today = '2036-02-02';
    const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 20 } });
    expect(order.status).toBe(201);
    const serviceId = order.body.service.id as string;
    expect(await serviceRow(serviceId)).toMatchObject({ billingStatus: 'InArrears', suspensionDate: null });
    today = '2036-02-05';
    expect((await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active' } })).status).toBe(200);
    const grace = (await h.call('GET', '/operator', { token: h.tokens.admin })).body.grace_days as number;
    const suspensionDate = addDays('2036-02-05', grace);
    expect(await serviceRow(serviceId)).toMatchObject({ status: 'Active', billingStatus: 'InArrears', suspensionDate });
    expect((await h.call('GET', `/services/${serviceId}/details-and-actions`)).body).toMatchObject({ suspension_date: suspensionDate });
    await billOn(addDays(suspensionDate, -1));
    expect((await serviceRow(serviceId)).status).toBe('Active');
    await billOn(suspensionDate);
    expect(await serviceRow(serviceId)).toMatchObject({ status: 'Suspended', billingStatus: 'Suspended' });
    expect(await eventsOf('service.suspended', serviceId)).toHaveLength(1);
  });
});

describe('months bought ahead', () => {
  it('a month paid for ahead is not billed; one paid in part is billed only its days not paid for', async () => {
    today = '2035-01-02';
    const { serviceId } = await activeRecurring(10);
    expect(await serviceRow(serviceId)).toMatchObject({ billedThrough: '2035-01-10', latestPeriodEndDate: '2035-01-10' });
    // Seed 000's recurring buy-now: R1000 at R379 a month buys 79 days.
    const quote = await h.call('POST', '/purchases/buy-now', {
      body: {
        service_id: serviceId,
        purchase_lines: [
          { description: 'Monthly Recurring 20/10', amount_per_quantity: 10.985506666666668, amount_per_quantity_incl: 12.633333333333333, net_amount_excl: 867.8550266666667, purchase_line_type_id: 1, total_amount: 1000, tax_rate: 15, tax_amount: 132.14497333333327, quantity: 79, period_contribution_per_quantity: 1 },
        ],
      },
    });
    expect(quote.status, quote.text).toBe(201);
    const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
    expect((await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: quote.body.id, medium_id: good } })).status).toBe(200);
    expect((await serviceRow(serviceId)).latestPeriodEndDate).toBe('2035-03-30');

    // January and February are paid for: no purchase, no charge, nothing owed.
    for (const d of ['2035-01-10', '2035-02-10'] as IsoDate[]) {
      await billOn(d);
      expect(await monthly(serviceId), d).toHaveLength(0);
    }
    expect(await serviceRow(serviceId)).toMatchObject({ billedThrough: '2035-03-10', billingStatus: 'PaidUp', suspensionDate: null });
    // March is paid to the 30th: its purchase is for the 11 days from then, at R379 over 30 days.
    await billOn('2035-03-10');
    const [march] = await monthly(serviceId);
    expect(march).toMatchObject({ periodStart: '2035-03-10', periodEnd: '2035-04-10', amountCents: Math.round((37900 * 11) / 30), statusId: 4 });
    expect(await chargesFor([march!.id])).toHaveLength(1);
    expect(Number((await chargesFor([march!.id]))[0]!.amount)).toBeCloseTo(138.97, 2);
    expect(await serviceRow(serviceId)).toMatchObject({ latestPeriodEndDate: '2035-04-10', billingStatus: 'PaidUp' });
    // April is billed whole.
    await billOn('2035-04-10');
    const months = await monthly(serviceId);
    expect(months.map((p) => [p.periodStart, p.amountCents])).toEqual([['2035-03-10', 13897], ['2035-04-10', 37900]]);
  });
});

describe('bad input to a billing run', () => {
  it.each([
    ['not a date', { as_of: 'tomorrow' }, 400],
    ['an impossible date', { as_of: '2030-02-30' }, 422],
    ['a date after today', { as_of: '2031-01-01' }, 422],
    ['a date before the operator existed', { as_of: '2001-01-01' }, 422],
    ['a date in the first century, before the operator existed', { as_of: '0099-12-31' }, 422, 'billing_run.as_of_out_of_range'],
    ['the year 0, which has no dates', { as_of: '0000-01-01' }, 422, 'billing_run.as_of_invalid'],
    ['an unknown field', { as_of: '2030-01-01', force: true }, 400],
    ['no body', undefined, 400],
  ] as [string, object | undefined, number, string?][])('%s → a problem, nothing created', async (_what, body, status, code) => {
    today = '2030-03-01';
    const before = (await h.ctx.database.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_runs'))[0]!.n;
    const res = await h.call('POST', '/billing/runs', { token: staff(), body });
    expect(res.status).toBe(status);
    if (code) expect(res.body.code).toBe(code);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect((await h.ctx.database.query<{ n: number }>('SELECT count(*)::int AS n FROM billing_runs'))[0]!.n).toBe(before);
  });

  it('a customer may not run billing or see runs', async () => {
    expect((await h.call('POST', '/billing/runs', { body: { as_of: '2030-01-01' } })).status).toBe(403);
    expect((await h.call('GET', '/billing/runs')).status).toBe(403);
  });

  it('lists runs and shows one with its collections; another operator’s run is not found', async () => {
    const list = await h.call('GET', '/billing/runs?limit=2', { token: staff() });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    expect(list.body.next_cursor).not.toBeNull();
    const one = await h.call('GET', `/billing/runs/${list.body.items[0].id}`, { token: staff() });
    expect(one.status).toBe(200);
    expect(one.body.collections).toMatchObject({ queued: 0 });
    const missing = await h.call('GET', '/billing/runs/00000000-0000-4000-8000-000000000001', { token: staff() });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'billing_run.not_found', detail: 'No billing run with id 00000000-0000-4000-8000-000000000001.' });
  });
});

describe.runIf(inject('engine') === 'postgres')('two processes running the same date (PostgreSQL)', () => {
  it('make one run: the second waits for the first and finds it done', async () => {
    today = '2030-04-02';
    const { serviceId } = await activeRecurring(3);
    today = '2030-04-03';
    const runs = await Promise.all(Array.from({ length: 4 }, () => runBilling(h.ctx, DEMO.operatorId, '2030-04-03', { id: 't', role: 'system', requestId: null })));
    expect(runs.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(runs.map((r) => r.run.id)).size).toBe(1);
    await Promise.all([workBillingCollections(h.ctx), workBillingCollections(h.ctx), workBillingCollections(h.ctx)]);
    const months = await monthly(serviceId);
    expect(months).toHaveLength(1);
    expect(await chargesFor(months.map((p) => p.id))).toHaveLength(1);
  });

  it('a run meeting another writer billing the same period waits for it, bills the slice again and makes no second purchase', async () => {
    today = '2030-05-02';
    const { serviceId } = await activeRecurring(3);
    const due = await serviceRow(serviceId);
    expect(due.billedThrough).toBe('2030-05-03');
    // Another run (of another date) has made this service's purchase for the period (Unpaid, creation event 2)
    // and not yet committed.
    const other = new pg.Client({ connectionString: h.url! });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO purchases (id, operator_id, customer_id, service_id, purchase_plan_id, status_id, creation_event_id, purchase_date,
           amount_cents, amount_excl_cents, tax_cents, period_start, period_end, created_at, updated_at)
         SELECT gen_random_uuid(), operator_id, customer_id, id, (SELECT id FROM purchase_plans WHERE service_id = $1 LIMIT 1), 3, 2, now(),
           37900, 32957, 4943, billed_through, billed_through + 31, now(), now()
         FROM services WHERE id = $1`,
        [serviceId],
      );
      today = '2030-05-03';
      const running = runBilling(h.ctx, DEMO.operatorId, '2030-05-03', { id: 't', role: 'system', requestId: null });
      // The run waits on the unique index of (service_id, period_start) for the other transaction.
      for (let i = 0; i < 200; i++) {
        const { rows } = await other.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO purchases%'",
        );
        if (rows[0]!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await other.query('COMMIT');
      const { run: made } = await running;
      expect(made.status).toBe('completed');
    } finally {
      await other.end();
    }
    const months = await monthly(serviceId);
    expect(months).toHaveLength(1);
    expect(await serviceRow(serviceId)).toMatchObject({ billedThrough: '2030-06-03' });
  });
});

describe.runIf(inject('engine') === 'postgres')('a slice’s plan (PostgreSQL)', () => {
  it('reads purchases by index, even when its statistics were taken while the table was small', async () => {
    // The plan a run's first slice makes is kept for the run, while every slice adds its purchases: one made
    // from a small table's statistics must not scan the table once per service.
    await h.ctx.database.query('ANALYZE purchases');
    const types: Record<string, string> = { operatorId: 'uuid', asOf: 'text', runId: 'uuid', now: 'timestamptz', afterId: 'text', uptoId: 'text' };
    const values: Record<string, string> = { operatorId: DEMO.operatorId, asOf: '2031-01-01', runId: DEMO.operatorId, now: '2031-01-01T08:00:00Z', afterId: '00000000-0000-0000-0000-000000000000', uptoId: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };
    const plan = await h.ctx.database.transaction(async (tx) => {
      await sliceSettings(tx, 'postgres');
      await tx.query(`PREPARE slice_plan(${BILL_MONTH.params.map((p) => types[p]).join(', ')}) AS ${BILL_MONTH.text}`);
      try {
        const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) EXECUTE slice_plan(${BILL_MONTH.params.map((p) => `'${values[p]}'`).join(', ')})`);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await tx.query('DEALLOCATE slice_plan');
      }
    });
    expect(plan).toContain('purchases_billing_period');
    expect(plan).not.toMatch(/Seq Scan on (purchases|services|purchase_plans)\b/);
  });
});

describe.runIf(inject('engine') === 'postgres')('a worker’s claim of collections (PostgreSQL)', () => {
  it('reads the queue by its index once the table is large, though the worker first claimed while it was small', async () => {
    today = '2031-02-02';
    const { serviceId } = await activeRecurring(3);
    today = '2031-02-03';
    await billOn('2031-02-03');
    const [purchase] = await monthly(serviceId);
    // One connection, so the worker's first claim and the later one share a session (and any plan it kept).
    const database = openPostgres(h.url!, 1);
    const worker = { ...h.ctx, database };
    const scans = async () => {
      await database.query('SELECT pg_stat_force_next_flush()');
      await database.query('SELECT pg_stat_clear_snapshot()');
      const [row] = await database.query<{ seq: number; idx: number }>("SELECT seq_scan::int AS seq, idx_scan::int AS idx FROM pg_stat_user_tables WHERE relname = 'billing_collections'");
      return row!;
    };
    try {
      expect(await workBillingCollections(worker)).toBe(0);
      // A month of a large operator's collections, worked (done), and one still queued.
      const [run] = await h.ctx.database.db.select().from(t.billingRuns).where(eq(t.billingRuns.asOf, '2031-02-03'));
      await h.ctx.database.query(
        `INSERT INTO billing_collections (id, run_id, operator_id, purchase_id, attempt, status, outcome, created_at, finished_at)
         SELECT gen_random_uuid(), $1, $2, $3, k, 'done', 'failed', now(), now() FROM generate_series(100, 30099) k`,
        [run!.id, DEMO.operatorId, purchase!.id],
      );
      await h.ctx.database.query(`INSERT INTO billing_collections (id, run_id, operator_id, purchase_id, attempt, created_at) VALUES (gen_random_uuid(), $1, $2, $3, 30100, now())`, [run!.id, DEMO.operatorId, purchase!.id]);
      const before = await scans();
      expect(await workBillingCollections(worker)).toBe(1);
      const after = await scans();
      expect(after.seq - before.seq).toBe(0);
      expect(after.idx).toBeGreaterThan(before.idx);
    } finally {
      await h.ctx.database.query('DELETE FROM billing_collections WHERE purchase_id = $1 AND attempt >= 100', [purchase!.id]);
      await database.close();
    }
  });
});

describe('a period whose purchase was made before the run', () => {
  /** The service's purchase for its due period, made by something other than a run (an import, a fix), with `statusId`. */
  const madeBefore = (serviceId: string, statusId: number) =>
    h.ctx.database.query(
      `INSERT INTO purchases (id, operator_id, customer_id, service_id, purchase_plan_id, status_id, creation_event_id, purchase_date,
         amount_cents, amount_excl_cents, tax_cents, period_start, period_end, paid_at, created_at, updated_at)
       SELECT gen_random_uuid(), operator_id, customer_id, id, (SELECT id FROM purchase_plans WHERE service_id = $1 LIMIT 1), $2::smallint, 2, now(),
         37900, 32957, 4943, billed_through, billed_through + 30, CASE WHEN $2::smallint = 4 THEN now() END, now(), now()
       FROM services WHERE id = $1`,
      [serviceId, statusId],
    );

  it('moves the service on, owing only if that purchase is still unpaid; nothing new is made or charged', async () => {
    today = '2031-06-02';
    const paid = (await activeRecurring(3)).serviceId;
    const unpaid = (await activeRecurring(3)).serviceId;
    await madeBefore(paid, 4);
    await madeBefore(unpaid, 3);
    expect(await serviceRow(paid)).toMatchObject({ billedThrough: '2031-06-03', billingStatus: 'PaidUp', suspensionDate: null });

    await billOn('2031-06-03');
    expect(await serviceRow(paid)).toMatchObject({ billedThrough: '2031-07-03', billingStatus: 'PaidUp', suspensionDate: null, status: 'Active' });
    const [operator] = await h.ctx.database.db.select().from(t.operators).where(eq(t.operators.id, DEMO.operatorId));
    expect(await serviceRow(unpaid)).toMatchObject({ billedThrough: '2031-07-03', billingStatus: 'InArrears', suspensionDate: addDays('2031-06-03', operator!.graceDays) });
    for (const serviceId of [paid, unpaid]) expect(await monthly(serviceId)).toHaveLength(1);
    expect(await eventsOf('purchase.created', paid)).toHaveLength(0);
  });
});

describe.runIf(inject('engine') === 'postgres')('a run’s retries (PostgreSQL)', () => {
  it('read only the unpaid monthly purchases whose first retry day has come, not the ones the collection day made', async () => {
    // 20,000 services billed this morning, their purchases unpaid: none can be retried before day +3, so the
    // retry step must not read them (at a million services it read them all: 7 s of the run).
    const asOf = '2031-03-03';
    // A new operator's database (the demo data), analysed before its first large run: the purchases the run
    // made are new to the statistics, as on a collection day.
    const fresh = await createHarness();
    try {
      const rows = await fresh.ctx.database.transaction(async (tx) => {
        await tx.query('ANALYZE');
        await tx.query(
          `WITH s AS (
             INSERT INTO services (id, operator_id, customer_id, product_id, collector_id, status, billing_status, collection_day, billed_through)
             SELECT payrail_uuid7(), $1, $2, $3, $4, 'Active', 'InArrears', 3, '2031-04-03' FROM generate_series(1, 20000)
             RETURNING id, operator_id, customer_id
           )
           INSERT INTO purchases (id, operator_id, customer_id, service_id, status_id, creation_event_id, purchase_date, amount_cents, amount_excl_cents, tax_cents, period_start, period_end)
           SELECT payrail_uuid7(), operator_id, customer_id, id, 3, 2, '2031-03-03T00:00:00+02:00', 37900, 32957, 4943, $5::date, '2031-04-03' FROM s`,
          [DEMO.operatorId, DEMO.customerId, DEMO.products.recurring, DEMO.collectorId, asOf],
        );
        // As the run's last step plans it (run-billing.ts finishRun).
        await tx.query("SET LOCAL plan_cache_mode = 'force_custom_plan'");
        const values: Record<string, unknown> = { operatorId: DEMO.operatorId, asOf, runId: DEMO.operatorId, now: new Date(`${asOf}T08:00:00Z`) };
        const [explained] = await tx.query<{ 'QUERY PLAN': PlanNode[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${RETRY_MONTHS.text}`, RETRY_MONTHS.params.map((p) => values[p]));
        await tx.query('ROLLBACK AND CHAIN');
        return purchasesRead(explained!['QUERY PLAN'][0]!.Plan!);
      });
      // Without the bound it reads all 20,000.
      expect(rows).toBeLessThan(100);
    } finally {
      await fresh.close();
    }
  });
});

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
  Plan?: PlanNode;
}

/** Rows of purchases the plan's scans read (kept or filtered out), over all their loops. */
function purchasesRead(node: PlanNode): number {
  const own = node['Relation Name'] === 'purchases' ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1) : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + purchasesRead(child), 0);
}

describe('a billing worker’s outcomes', () => {
  it('records why it skipped a collection, and a purchase its own attempt paid before the worker died as that collection’s success', async () => {
    today = '2032-04-02';
    const [cancelled, paidMeanwhile, charged] = [await activeRecurring(10), await activeRecurring(10), await activeRecurring(10)];
    today = '2032-04-10';
    const run = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: today } });
    expect(run.status).toBe(201);
    const collectionOf = async (serviceId: string) => {
      const [month] = await monthly(serviceId);
      const [row] = await h.ctx.database.db.select().from(t.billingCollections).where(eq(t.billingCollections.purchaseId, month!.id));
      return { month: month!, row: row! };
    };
    for (const s of [cancelled, paidMeanwhile, charged]) expect((await collectionOf(s.serviceId)).row).toMatchObject({ status: 'queued', outcome: null });

    // Before the workers come: one service is cancelled, another's month is paid by Pay Now.
    expect((await h.call('PATCH', `/services/${cancelled.serviceId}`, { token: staff(), body: { service_status: 'Cancelled' } })).status).toBe(200);
    const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
    const { month: paidMonth } = await collectionOf(paidMeanwhile.serviceId);
    expect((await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: paidMeanwhile.serviceId, purchase_id: paidMonth.id, medium_id: good } })).status).toBe(200);

    while ((await workBillingCollections(h.ctx)) > 0);
    const skippedCancelled = await collectionOf(cancelled.serviceId);
    expect(skippedCancelled.row).toMatchObject({ status: 'done', outcome: 'skipped', detail: 'the service is cancelled', paymentId: null });
    expect(await attemptsAt([skippedCancelled.month.id])).toHaveLength(0);
    const skippedPaid = await collectionOf(paidMeanwhile.serviceId);
    expect(skippedPaid.row).toMatchObject({ status: 'done', outcome: 'skipped', paymentId: null });
    expect(skippedPaid.row.detail).toMatch(/^purchase\.already_paid: /);
    expect(await attemptsAt([skippedPaid.month.id])).toHaveLength(1); // the customer's own
    const done = await collectionOf(charged.serviceId);
    expect(done.row).toMatchObject({ status: 'done', outcome: 'succeeded' });
    expect(done.row.paymentId).not.toBeNull();

    // The worker that charged it died before writing the outcome: the claim expires and is taken again.
    await h.ctx.database.db
      .update(t.billingCollections)
      .set({ status: 'running', outcome: null, paymentId: null, finishedAt: null, leaseUntil: new Date(clock().getTime() - 1000) })
      .where(eq(t.billingCollections.id, done.row.id));
    while ((await workBillingCollections(h.ctx)) > 0);
    expect((await collectionOf(charged.serviceId)).row).toMatchObject({ status: 'done', outcome: 'succeeded', paymentId: done.row.paymentId });
    expect(await attemptsAt([done.month.id])).toHaveLength(1); // charged once

    const figures = (await h.call('GET', `/billing/runs/${run.body.id}`, { token: staff() })).body.collections;
    expect(figures).toMatchObject({ queued: 0, failed: 0, unsettled: 0 });
    expect(figures.succeeded).toBeGreaterThanOrEqual(1);
    expect(figures.skipped).toBeGreaterThanOrEqual(2);
  });
});

describe('a chunk of collections worked together', () => {
  it('starts, charges and settles each as it would alone: two months of one service, a decline, an abandoned payment page', async () => {
    today = '2038-03-02';
    const [behind, plain, declining, withPage] = [await activeRecurring(10), await activeRecurring(10), await activeRecurring(10), await activeRecurring(10)];
    // The runs of this test bill these four alone (the file's other services are set aside, and back after).
    const mine = [behind, plain, declining, withPage].map((s) => s.serviceId);
    const others = (await h.ctx.database.db.select().from(t.services).where(eq(t.services.status, 'Active'))).filter((s) => !mine.includes(s.id)).map((s) => s.id);
    await h.ctx.database.db.update(t.services).set({ status: 'PendingIspApplication' }).where(inArray(t.services.id, others));
    // The services' first month is 2038-03-10; the run of 2038-04-10 bills two months of `behind`, whose first
    // month the run of 2038-03-10 billed for the others (paid, each once) while `behind` was suspended by hand.
    await h.ctx.database.db.update(t.services).set({ status: 'Suspended' }).where(eq(t.services.id, behind.serviceId));
    await billOn('2038-03-10');
    await h.ctx.database.db.update(t.services).set({ status: 'Active' }).where(eq(t.services.id, behind.serviceId));
    expect(await monthly(behind.serviceId)).toHaveLength(0);
    // From April, one card declines.
    const declines = await sandboxCardMedium(h, 'decline', 'PayFast', '0002');
    expect((await h.call('PUT', `/active-payment-medium-for-service?serviceId=${declining.serviceId}`, { body: { medium_id: declines } })).status).toBe(200);
    // The day before the worker comes, the customer opens a payment page for withPage's April month and leaves it.
    today = '2038-04-10';
    const april = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: today } });
    expect(april.status).toBe(201);
    const [, aprilOfPage] = await monthly(withPage.serviceId);
    today = '2038-04-09';
    const page = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: withPage.serviceId, purchase_id: aprilOfPage!.id, medium_id: GLOBAL_OPAQUE_MEDIUM_ID } });
    expect(page.status).toBe(200);
    expect(page.body.payment_link_url).toMatch(/^http/);
    today = '2038-04-10';

    const queued = await h.ctx.database.db.select().from(t.billingCollections).where(and(eq(t.billingCollections.runId, april.body.id), eq(t.billingCollections.status, 'queued')));
    expect(queued).toHaveLength(5); // behind × 2, plain, declining, withPage
    // One chunk: its attempts started in one statement (its answers are settled in groups as they come:
    // src/modules/payments/settle-started.test.ts).
    const named: string[] = [];
    const query = h.ctx.database.query;
    h.ctx.database.query = ((text: string, params?: readonly unknown[], name?: string) => (name && named.push(name), query(text, params, name))) as typeof query;
    try {
      expect(await workBillingCollections(h.ctx, { limit: 25 })).toBe(5);
    } finally {
      h.ctx.database.query = query;
    }
    const count = (name: string) => named.filter((n) => n === name).length;
    // On their own: the purchase with a page open (twice: once to find the page, once after superseding it),
    // and `behind`'s second month (one purchase of a service a statement).
    expect([count('payrail_start_attempts_v1'), count('payrail_start_attempt_v6')]).toEqual([1, 3]);

    const months = await monthly(behind.serviceId);
    expect(months.map((p) => [p.periodStart, p.statusId])).toEqual([['2038-03-10', 4], ['2038-04-10', 4]]);
    expect(await chargesFor(months.map((p) => p.id))).toHaveLength(2);
    expect(await serviceRow(behind.serviceId)).toMatchObject({ billingStatus: 'PaidUp', latestPeriodEndDate: '2038-05-10', suspensionDate: null });

    const [, aprilOfPlain] = await monthly(plain.serviceId);
    expect(aprilOfPlain!.statusId).toBe(4);
    expect(await chargesFor([aprilOfPlain!.id])).toHaveLength(1);
    expect(await serviceRow(plain.serviceId)).toMatchObject({ billingStatus: 'PaidUp', latestPeriodEndDate: '2038-05-10' });

    const [, aprilDeclined] = await monthly(declining.serviceId);
    expect(aprilDeclined!.statusId).toBe(3);
    const declined = await attemptsAt([aprilDeclined!.id]);
    expect(declined.map((c) => c.status)).toEqual(['declined']);
    expect((await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, aprilDeclined!.id))).map((p) => p.status)).toEqual(['failed']);

    // The page nobody paid was superseded, and the card charged once.
    const attempts = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, aprilOfPage!.id));
    expect(attempts.map((p) => [p.kind, p.status]).sort()).toEqual([
      ['hosted', 'failed'],
      ['token', 'succeeded'],
    ]);
    expect(attempts.find((p) => p.kind === 'hosted')!.failureMessage).toMatch(/replaced by a new attempt/i);
    expect((await monthly(withPage.serviceId))[1]!.statusId).toBe(4);
    expect(await chargesFor([aprilOfPage!.id])).toHaveLength(1);

    const rows = await h.ctx.database.db.select().from(t.billingCollections).where(eq(t.billingCollections.runId, april.body.id));
    expect(rows.map((r) => r.outcome).sort()).toEqual(['failed', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    // Every attempt is audited as started once, and each paid purchase tells the operator once.
    const started = await h.ctx.database.db.select().from(t.auditEvents).where(eq(t.auditEvents.action, 'payment.started'));
    for (const p of [...months, aprilOfPlain!, aprilDeclined!]) {
      const ids = (await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, p.id))).map((x) => x.id);
      expect(started.filter((a) => ids.includes(a.entityId)).length).toBe(ids.length);
    }
    const paidEvents = (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, 'purchase.paid'))).map((e) => (e.payload as { data: { purchase_id: string } }).data.purchase_id);
    for (const p of [...months, aprilOfPlain!, aprilOfPage!]) expect(paidEvents.filter((id) => id === p.id)).toHaveLength(1);
    await h.ctx.database.db.update(t.services).set({ status: 'Active' }).where(inArray(t.services.id, others));
  });
});

describe('a suspension date that is also a collection day', () => {
  // Grace 7 with retries on days 3 and 7: the last retry falls on the suspension date. The run queues it,
  // and its outcome decides: a run that suspended before the retry was worked cut off customers whose card
  // paid that day (suspended, then reinstated seconds later, with both events sent).
  const setTerms = async (graceDays: number, retryDays: number[]) =>
    expect((await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { grace_days: graceDays, retry_days: retryDays } })).status).toBe(200);
  const runFigures = async (id: string) => (await h.call('GET', `/billing/runs/${id}`, { token: staff() })).body;

  it('a retry that pays keeps the service; one that fails suspends it once done, counted in its run; an earlier date run afterwards adds no retry', async () => {
    await setTerms(7, [3, 7]);
    try {
      today = '2033-03-01';
      const payer = await activeRecurring(5, 'decline');
      const defaulter = await activeRecurring(5, 'decline');
      await billOn('2033-03-05');
      // No run on +3 (2033-03-08): the run of +7 makes the latest retry only.
      const [payerMonth] = await monthly(payer.serviceId);
      const [defaulterMonth] = await monthly(defaulter.serviceId);
      expect(await attemptsAt([payerMonth!.id])).toHaveLength(1);
      expect(await attemptsAt([defaulterMonth!.id])).toHaveLength(1);
      expect(await serviceRow(payer.serviceId)).toMatchObject({ billingStatus: 'InArrears', suspensionDate: '2033-03-12' });
      // The payer's card is replaced by one that pays before the last retry.
      const good = await sandboxCardMedium(h, 'approve', 'PayFast', '4242');
      expect((await h.call('PUT', `/active-payment-medium-for-service?serviceId=${payer.serviceId}`, { body: { medium_id: good } })).status).toBe(200);

      today = '2033-03-12'; // +7: the last retry, and the suspension date
      const run = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: today } });
      expect(run.status).toBe(201);
      expect(run.body).toMatchObject({ retries_started: 2, services_suspended: 0 });
      for (const s of [payer, defaulter]) expect((await serviceRow(s.serviceId)).status).toBe('Active');
      while ((await workBillingCollections(h.ctx)) > 0);

      expect(await serviceRow(payer.serviceId)).toMatchObject({ status: 'Active', billingStatus: 'PaidUp', suspensionDate: null });
      expect(await eventsOf('service.suspended', payer.serviceId)).toHaveLength(0);
      expect(await eventsOf('service.reinstated', payer.serviceId)).toHaveLength(0);
      expect(await serviceRow(defaulter.serviceId)).toMatchObject({ status: 'Suspended', billingStatus: 'Suspended' });
      const suspended = await eventsOf('service.suspended', defaulter.serviceId);
      expect(suspended).toHaveLength(1);
      expect((suspended[0]!.payload as { data: { as_of: string } }).data.as_of).toBe('2033-03-12');
      expect(await attemptsAt([defaulterMonth!.id])).toHaveLength(2);
      expect(await runFigures(run.body.id)).toMatchObject({ services_suspended: 1, services_reinstated: 0 });

      // The same date again, and the next: nothing more.
      await billOn('2033-03-12');
      await billOn('2033-03-13');
      expect(await eventsOf('service.suspended', defaulter.serviceId)).toHaveLength(1);
      expect(await runFigures(run.body.id)).toMatchObject({ services_suspended: 1 });

      // The date skipped by the runs, run after a later one: its retry (attempt 1) was overtaken by the
      // later run's (attempt 2) and is not made; the card is not charged again.
      const late = await billOn('2033-03-08');
      expect(late.body).toMatchObject({ retries_started: 0 });
      expect(await attemptsAt([defaulterMonth!.id])).toHaveLength(2);
      expect(await attemptsAt([payerMonth!.id])).toHaveLength(2);
    } finally {
      await setTerms(10, [3, 7]);
    }
  });

  it('workers behind the runs: a collection an earlier run queued, failing after a later run reached the suspension date, suspends the service then', async () => {
    await setTerms(7, [3, 7]);
    try {
      today = '2037-03-01';
      const { serviceId } = await activeRecurring(5, 'decline');
      const post = async (asOf: IsoDate) => {
        today = asOf;
        const res = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: asOf } });
        expect(res.status).toBe(201);
        return res.body;
      };
      await post('2037-03-05'); // the month's collection is queued, and no worker comes
      const reached = await post('2037-03-12'); // its suspension date: the run leaves the service to that collection
      expect(reached.services_suspended).toBe(0);
      expect((await serviceRow(serviceId)).status).toBe('Active');
      while ((await workBillingCollections(h.ctx)) > 0);
      expect(await serviceRow(serviceId)).toMatchObject({ status: 'Suspended', billingStatus: 'Suspended' });
      const events = await eventsOf('service.suspended', serviceId);
      expect(events).toHaveLength(1);
      expect((events[0]!.payload as { data: { as_of: string } }).data.as_of).toBe('2037-03-12');
      expect((await runFigures(reached.id)).services_suspended).toBe(1);
    } finally {
      await setTerms(10, [3, 7]);
    }
  });
});
