import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import type { IsoDate } from '../../src/domain/periods.ts';
import { workBillingCollections } from '../../src/modules/billing/work-collections.ts';
import { insertMedium } from '../../src/modules/mediums/repo.ts';
import { readPaymentFeeds } from '../../src/modules/payments/payment-feeds.ts';
import { captureBankAccount } from '../helpers/debitsuccess.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * Billing runs collecting Recurring services from bank accounts (SPEC §10, §11), over real HTTP to the
 * Debitsuccess sandbox: each service's own customer and bank account (captured on Debitsuccess's form),
 * a run on the collection day, its debit orders worked as the jobs would, the bank days moved, and the
 * results brought by Debitsuccess's webhooks and its payment-status feed at once. Every debit order is
 * submitted once and every result applied once: 1234567890 pays, 1111111111 fails and is retried on the
 * operator's first retry day, 2222222222 pays, is returned, and is retried too.
 *
 * DEBIT_ORDER_SERVICES sets how many services (default 24); with more, the figures are printed.
 */
const N = Math.max(3, Number(process.env.DEBIT_ORDER_SERVICES ?? 24));
const ACCOUNTS = ['1234567890', '1111111111', '2222222222'] as const;

let today: IsoDate = '2027-01-05';
const clock = () => new Date(`${today}T10:00:00+02:00`);
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true, clock });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
});
afterAll(() => h?.close());

const staff = () => h.tokens.integrator;
const sandbox = () => `${h.baseUrl}/sandbox/debitsuccess`;
const figures: Record<string, string> = {};
const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const out = await work();
  figures[name] = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  return out;
};

interface Subscriber {
  serviceId: string;
  account: (typeof ACCOUNTS)[number];
}

/** A customer of its own (a Debitsuccess account is the customer's), a Recurring order paid up front off-system, a bank account captured and active, the service Active. */
async function subscriber(i: number): Promise<Subscriber> {
  const account = ACCOUNTS[i % ACCOUNTS.length]!;
  const customer = await h.call('POST', '/customers', { token: staff(), body: { name: `Debit ${i}`, email: `debit${i}@example.com` } });
  expect(customer.status, customer.text).toBe(201);
  const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: customer.body.customer.id, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 15 } });
  expect(order.status, order.text).toBe(201);
  const serviceId = order.body.service.id as string;
  // Its off-system medium, as the operator's own system would have it (the demo seed gives one to the demo customer only).
  const offSystem = randomUUID();
  await insertMedium(h.ctx.database.db, h.ctx.vault, { id: offSystem, operatorId: DEMO.operatorId, customerId: customer.body.customer.id, mediumType: 'OffSystem', provider: 'OffSystem', externalReference: offSystem, accountName: 'N/A', accountNumber: null });
  const paid = await h.call('POST', '/purchases/submit-for-collection', {
    token: staff(),
    body: { service_id: serviceId, purchase_id: order.body.upfront_purchase.id, medium_id: offSystem, purchase_source_id: DEMO.sources.cash, comment: 'upfront' },
  });
  expect(paid.status, paid.text).toBe(200);
  await captureBankAccount(h, serviceId, account, `Debit ${i}`);
  const activated = await h.call('PATCH', `/services/${serviceId}`, { token: staff(), body: { service_status: 'Active', on_network_date: today } });
  expect(activated.status, activated.text).toBe(200);
  return { serviceId, account };
}

const monthlyOf = async (serviceIds: string[]) =>
  h.ctx.database.db
    .select()
    .from(t.purchases)
    .where(and(inArray(t.purchases.serviceId, serviceIds), eq(t.purchases.creationEventId, 2)));
const attemptsOf = async (purchaseIds: string[]) => h.ctx.database.db.select().from(t.payments).where(inArray(t.payments.purchaseId, purchaseIds));
async function debitOrders(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const page = (await (await fetch(`${sandbox()}/transactions?limit=500${cursor ? `&cursor=${cursor}` : ''}`)).json()) as { items: { kind: string; merchant_reference: string }[]; next_cursor?: string | null };
    for (const i of page.items) if (i.kind === 'debit_order') counts.set(i.merchant_reference, (counts.get(i.merchant_reference) ?? 0) + 1);
    cursor = page.next_cursor ?? null;
  } while (cursor);
  return counts;
}
const eventsFor = async (type: string, ids: Set<string>, key: string) =>
  (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, type))).filter((e) => ids.has((e.payload as { data: Record<string, string> }).data[key]!));
const bankDay = async () => expect((await fetch(`${sandbox()}/bank-day`, { method: 'POST' })).status).toBe(200);
/** Debitsuccess's webhooks arrive as they arrive; the feed is read meanwhile, as the job would. */
async function settleAll(purchaseIds: string[], done: (attempts: Awaited<ReturnType<typeof attemptsOf>>) => boolean) {
  let attempts: Awaited<ReturnType<typeof attemptsOf>> = [];
  for (let i = 0; i < 400; i++) {
    await readPaymentFeeds(h.ctx, { now: new Date(clock().getTime() + 3_600_000 * (i + 1)) });
    attempts = await attemptsOf(purchaseIds);
    if (done(attempts)) return attempts;
    await new Promise((r) => setTimeout(r, 50));
  }
  const counts = attempts.reduce<Record<string, number>>((c, a) => ({ ...c, [`${a.status}${a.returnedAt ? '+returned' : ''}`]: (c[`${a.status}${a.returnedAt ? '+returned' : ''}`] ?? 0) + 1 }), {});
  const feed = await h.ctx.database.db.select().from(t.providerFeeds);
  throw new Error(`debit orders did not settle: ${JSON.stringify(counts)}; feed ${JSON.stringify(feed)}`);
}

describe('a billing run collecting services on bank accounts', () => {
  it(`${N} services: every debit order submitted once, every result applied once; failures and returns retried on the retry day`, async () => {
    const subscribers: Subscriber[] = await timed('set-up', async () => {
      const out: Subscriber[] = [];
      for (let i = 0; i < N; i += 8) out.push(...(await Promise.all(Array.from({ length: Math.min(8, N - i) }, (_, k) => subscriber(i + k)))));
      return out;
    });
    const by = (account: string) => subscribers.filter((s) => s.account === account).length;

    // The collection day: one monthly purchase each, one debit order each, all pending (202).
    today = '2027-01-15';
    const run = await timed('billing run', () => h.call('POST', '/billing/runs', { token: staff(), body: { as_of: today } }));
    expect(run.status, run.text).toBe(201);
    // The demo's own Active services are billed too: ours are counted from the database below.
    expect(run.body.collections_started).toBeGreaterThanOrEqual(N);
    await timed('debit orders submitted', async () => {
      while ((await workBillingCollections(h.ctx, { limit: 50 })) > 0);
    });
    const months = await monthlyOf(subscribers.map((s) => s.serviceId));
    expect(months).toHaveLength(N);
    const purchaseIds = months.map((p) => p.id);
    let attempts = await attemptsOf(purchaseIds);
    expect(attempts).toHaveLength(N);
    expect(new Set(attempts.map((a) => a.status))).toEqual(new Set(['pending']));
    let orders = await debitOrders();
    expect(attempts.map((a) => orders.get(a.merchantReference))).toEqual(attempts.map(() => 1));

    // A bank day: cleared or refused, by webhook and feed at once, each applied once.
    await bankDay();
    attempts = await timed('first bank day settled', () => settleAll(purchaseIds, (list) => list.every((a) => a.status !== 'pending')));
    expect(attempts.filter((a) => a.status === 'succeeded')).toHaveLength(by('1234567890') + by('2222222222'));
    expect(attempts.filter((a) => a.status === 'failed' && a.failureCode === 'insufficient_funds')).toHaveLength(by('1111111111'));
    const purchaseSet = new Set(purchaseIds);
    expect(await eventsFor('purchase.paid', purchaseSet, 'purchase_id')).toHaveLength(by('1234567890') + by('2222222222'));
    expect(await eventsFor('payment.failed', purchaseSet, 'purchase_id')).toHaveLength(by('1111111111'));

    // Two more: Settled, then 2222222222's debit orders come back unpaid.
    await bankDay();
    await bankDay();
    await timed('returns applied', () => settleAll(purchaseIds, (list) => list.filter((a) => a.returnedAt !== null).length === by('2222222222')));
    expect(await eventsFor('payment.returned', purchaseSet, 'purchase_id')).toHaveLength(by('2222222222'));
    const owed = (await monthlyOf(subscribers.map((s) => s.serviceId))).filter((p) => p.statusId === 3);
    expect(owed).toHaveLength(by('1111111111') + by('2222222222'));
    const arrears = await h.ctx.database.db.select().from(t.services).where(inArray(t.services.id, subscribers.map((s) => s.serviceId)));
    expect(arrears.filter((s) => s.billingStatus === 'InArrears')).toHaveLength(by('1111111111') + by('2222222222'));

    // The first retry day (3 days after the collection day): one more debit order for each purchase owed, none for the paid.
    today = '2027-01-18';
    const retry = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: today } });
    expect(retry.body.retries_started).toBeGreaterThanOrEqual(by('1111111111') + by('2222222222'));
    while ((await workBillingCollections(h.ctx, { limit: 50 })) > 0);
    attempts = await attemptsOf(purchaseIds);
    const perPurchase = new Map<string, number>();
    for (const a of attempts) perPurchase.set(a.purchaseId, (perPurchase.get(a.purchaseId) ?? 0) + 1);
    const owedIds = new Set(owed.map((p) => p.id));
    for (const id of purchaseIds) expect(perPurchase.get(id)).toBe(owedIds.has(id) ? 2 : 1);
    orders = await debitOrders();
    expect(attempts.map((a) => orders.get(a.merchantReference))).toEqual(attempts.map(() => 1));

    if (process.env.DEBIT_ORDER_SERVICES) console.log(`debit-order billing, ${N} services on ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}:`, figures);
  }, Math.max(60_000, N * 1_000));
});
