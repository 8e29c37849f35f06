import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as t from '../../db/schema.ts';
import { DEMO } from '../../demo/ids.ts';
import { addDays, civilDate, type IsoDate } from '../../domain/periods.ts';
import { rational } from '../../domain/rational.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { insertPurchase } from '../purchases/repo.ts';
import { run } from '../../db/statement.ts';
import { enqueueEvents } from '../webhooks/enqueue-event.ts';
import { loadTarget, planCollection } from './plan-collection.ts';
import { settleStarted, settleStartedMany, type StartedAttempt } from './settle-payment.ts';
import { startAttempt, startAttempts } from './start-attempt.ts';
import type { CollectInput, CollectionActor } from './collection-types.ts';
import { LOCK_ATTEMPT, LOCK_SERVICE } from './settlement-sql.ts';
import { takeEveryEvent } from '../../../test/helpers/events.ts';

/**
 * settleStarted writes a plain success in one statement, guarded by the service's version: these tests
 * change things between starting an attempt and settling it, and check that nothing stale or partial is
 * ever written (the locked path takes over).
 */
let h: Harness;
let everyEvent: string;
beforeAll(async () => {
  h = await createHarness();
  everyEvent = await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
});
afterAll(async () => h?.close());

const SERVICE = DEMO.services.recurringInArrears;
const actor: CollectionActor = { id: DEMO.customerUserId, role: 'customer', requestId: 'test', operatorId: DEMO.operatorId, customerId: DEMO.customerId };

/** A new Submitted-able purchase of 30 days, and an attempt started on it with the demo card. */
async function started() {
  const purchaseId = randomUUID();
  await insertPurchase(h.ctx.database.db, {
    id: purchaseId,
    operatorId: DEMO.operatorId,
    customerId: DEMO.customerId,
    serviceId: SERVICE,
    purchasePlanId: null,
    statusId: 3,
    creationEventId: 5,
    purchaseDate: new Date(),
    lines: [{ id: randomUUID(), lineTypeId: 1, description: '30 days', quantity: 30, unitPriceIncl: rational(1_000), totalCents: 30_000, rateBp: 1500, periodContributionPerQuantity: 1, productPriceId: null }],
  });
  const input: CollectInput = { serviceId: SERVICE, purchaseId, mediumId: DEMO.mediums.card, actor };
  const target = await loadTarget(h.ctx, input);
  const plan = await planCollection(h.ctx, target, input);
  const { attempt } = await startAttempt(h.ctx, input, plan);
  return { purchaseId, attempt };
}

const service = async () => (await h.ctx.database.db.select().from(t.services).where(eq(t.services.id, SERVICE)))[0]!;
const purchase = async (id: string) => (await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, id)))[0]!;
const success = { status: 'succeeded' as const, providerReference: 'pf-1', raw: { ok: true } };
const eventsOf = async (purchaseId: string) =>
  (await h.ctx.database.db.select().from(t.outboxEvents)).filter((e) => (e.payload as { data: { purchase_id?: string } }).data.purchase_id === purchaseId).map((e) => e.type).sort();
const auditOf = async (entityId: string) => (await h.ctx.database.db.select().from(t.auditEvents).where(eq(t.auditEvents.entityId, entityId))).map((a) => a.action).sort();

describe('settling a success in one statement', () => {
  it('pays, moves the period from the state the attempt read, and writes the audit entries and events once', async () => {
    const { purchaseId, attempt } = await started();
    const before = await service();
    const settled = await settleStarted(h.ctx, { paymentId: attempt.payment.id, purchaseId, via: 'charge', result: success }, attempt);

    expect(settled).toMatchObject({ changed: true, purchaseStatusId: 4, conflict: null });
    expect(settled.payment).toMatchObject({ status: 'succeeded', providerReference: 'pf-1' });
    const after = await service();
    const today = civilDate(new Date());
    const from = before.latestPeriodEndDate && before.latestPeriodEndDate > today ? before.latestPeriodEndDate : today;
    expect(after.latestPeriodEndDate).toBe(addDays(from as IsoDate, 30));
    expect(after.version).toBe(before.version + 1);
    expect((await purchase(purchaseId)).statusId).toBe(4);
    expect(await eventsOf(purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
    expect(await auditOf(attempt.payment.id)).toEqual(['payment.started', 'payment.succeeded.charge']);
    expect(await auditOf(purchaseId)).toEqual(['purchase.paid']);
  });

  it('a service changed since the attempt started is fulfilled from its current state, not the one read', async () => {
    const { purchaseId, attempt } = await started();
    // Someone moves the period meanwhile (a manual fix, another payment): the version moves with it.
    await h.ctx.database.db.update(t.services).set({ latestPeriodEndDate: '2031-01-01' }).where(eq(t.services.id, SERVICE));
    const settled = await settleStarted(h.ctx, { paymentId: attempt.payment.id, purchaseId, via: 'charge', result: success }, attempt);

    expect(settled).toMatchObject({ changed: true, purchaseStatusId: 4 });
    expect((await service()).latestPeriodEndDate).toBe('2031-01-31');
    expect((await purchase(purchaseId)).statusId).toBe(4);
    expect(await eventsOf(purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
  });

  it('an attempt failed meanwhile without its purchase changing: the one statement writes nothing; the success is a late success', async () => {
    const { purchaseId, attempt } = await started();
    // No code path does this; the one-statement settlement must still refuse to pay around it.
    await h.ctx.database.db.update(t.payments).set({ status: 'failed', settledAt: new Date() }).where(eq(t.payments.id, attempt.payment.id));
    const before = await service();
    const settled = await settleStarted(h.ctx, { paymentId: attempt.payment.id, purchaseId, via: 'charge', result: success }, attempt);

    // The locked path took over: the failed attempt stays failed, and the money pays the purchase still owed.
    expect(settled).toMatchObject({ changed: true, conflict: null, late: { disposition: 'paid_purchase' } });
    const [row] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.id, attempt.payment.id));
    expect(row!.status).toBe('failed');
    const after = await service();
    expect(after.latestPeriodEndDate).toBe(addDays(before.latestPeriodEndDate!, 30));
    expect((await purchase(purchaseId)).statusId).toBe(4);
    expect(await eventsOf(purchaseId)).toEqual(['payment.late_success', 'purchase.paid']);
  });
});

/** Attempts started in one statement (startAttempts) on new 30-day purchases of each service, with the demo card, as a billing chunk starts them. */
async function startedTogether(serviceIds: string[]) {
  const system: CollectionActor = { id: 'billing', role: 'system', requestId: 'test', operatorId: DEMO.operatorId, customerId: null };
  const items = await Promise.all(
    serviceIds.map(async (serviceId) => {
      const purchaseId = randomUUID();
      await insertPurchase(h.ctx.database.db, {
        id: purchaseId,
        operatorId: DEMO.operatorId,
        customerId: DEMO.customerId,
        serviceId,
        purchasePlanId: null,
        statusId: 3,
        creationEventId: 5,
        purchaseDate: new Date(),
        lines: [{ id: randomUUID(), lineTypeId: 1, description: '30 days', quantity: 30, unitPriceIncl: rational(1_000), totalCents: 30_000, rateBp: 1500, periodContributionPerQuantity: 1, productPriceId: null }],
      });
      const input: CollectInput = { serviceId, purchaseId, mediumId: DEMO.mediums.card, actor: system };
      return { input, plan: await planCollection(h.ctx, await loadTarget(h.ctx, input), input) };
    }),
  );
  const attempts = await startAttempts(h.ctx, items);
  return items.map(({ input }, k) => ({ serviceId: input.serviceId, purchaseId: input.purchaseId, attempt: attempts[k] as StartedAttempt }));
}

/** The named statements `work` runs. */
async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  const named: string[] = [];
  const query = h.ctx.database.query;
  h.ctx.database.query = ((text: string, params?: readonly unknown[], name?: string) => (name && named.push(name), query(text, params, name))) as typeof query;
  try {
    await work();
  } finally {
    h.ctx.database.query = query;
  }
  return named;
}

describe('settling several successes in one statement (a billing chunk)', () => {
  const SERVICES = [DEMO.services.recurringInArrears, DEMO.services.dayBundle];
  const serviceRow = async (id: string) => (await h.ctx.database.db.select().from(t.services).where(eq(t.services.id, id)))[0]!;
  const periodFrom = (end: string | null) => {
    const today = civilDate(new Date());
    return (end && end > today ? end : today) as IsoDate;
  };

  it('pays each, moves each period from the state its attempt read, and writes each one’s audit entries and events once', async () => {
    const chunk = await startedTogether(SERVICES);
    expect(chunk.every((c) => c.attempt.payment.status === 'pending')).toBe(true);
    const before = await Promise.all(SERVICES.map(serviceRow));
    let settled: Awaited<ReturnType<typeof settleStartedMany>> = [];
    const named = await statementsOf(async () => {
      settled = await settleStartedMany(h.ctx, chunk.map((c, k) => ({ input: { paymentId: c.attempt.payment.id, purchaseId: c.purchaseId, via: 'charge', result: { ...success, providerReference: `pf-many-${k}` } }, started: c.attempt })));
    });
    expect(named.filter((n) => n.startsWith('payrail_settle_'))).toEqual(['payrail_settle_pay_fast_many_v3']);
    for (const [k, c] of chunk.entries()) {
      expect(settled[k]).toMatchObject({ changed: true, purchaseStatusId: 4, conflict: null, payment: { id: c.attempt.payment.id, status: 'succeeded', providerReference: `pf-many-${k}` } });
      const after = await serviceRow(c.serviceId);
      expect(after.latestPeriodEndDate).toBe(addDays(periodFrom(before[k]!.latestPeriodEndDate), 30));
      expect(after.version).toBe(before[k]!.version + 1);
      expect((await purchase(c.purchaseId)).statusId).toBe(4);
      expect(await eventsOf(c.purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
      expect(await auditOf(c.attempt.payment.id)).toEqual(['payment.started', 'payment.succeeded.charge']);
      expect(await auditOf(c.purchaseId)).toEqual(['purchase.paid']);
      // The provider's answer is kept as PAY_FAST keeps it.
      expect((await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.id, c.attempt.payment.id)))[0]!.raw).toEqual({ ok: true });
    }
  });

  it('a service changed since its attempt started is left out of the statement and fulfilled from its current state; the others are written by it', async () => {
    const chunk = await startedTogether(SERVICES);
    const untouched = await serviceRow(SERVICES[1]!);
    await h.ctx.database.db.update(t.services).set({ latestPeriodEndDate: '2031-01-01' }).where(eq(t.services.id, SERVICES[0]!));
    const named = await statementsOf(() => settleStartedMany(h.ctx, chunk.map((c) => ({ input: { paymentId: c.attempt.payment.id, purchaseId: c.purchaseId, via: 'charge', result: success }, started: c.attempt }))));
    // Both in the one statement, which paid only the untouched one; the moved one then on its own (and, as
    // its version moved, the locked way).
    expect(named.filter((n) => n.startsWith('payrail_settle_'))).toEqual(['payrail_settle_pay_fast_many_v3', 'payrail_settle_pay_fast_v6']);
    expect((await serviceRow(SERVICES[0]!)).latestPeriodEndDate).toBe('2031-01-31');
    expect((await serviceRow(SERVICES[1]!)).latestPeriodEndDate).toBe(addDays(periodFrom(untouched.latestPeriodEndDate), 30));
    for (const c of chunk) {
      expect((await purchase(c.purchaseId)).statusId).toBe(4);
      expect(await eventsOf(c.purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
    }
  });

  it('an attempt failed meanwhile without its purchase changing: the statement writes nothing at all, and each is settled on its own', async () => {
    const chunk = await startedTogether(SERVICES);
    await h.ctx.database.db.update(t.payments).set({ status: 'failed', settledAt: new Date() }).where(eq(t.payments.id, chunk[0]!.attempt.payment.id));
    const before = await Promise.all(SERVICES.map(serviceRow));
    const settled = await settleStartedMany(h.ctx, chunk.map((c) => ({ input: { paymentId: c.attempt.payment.id, purchaseId: c.purchaseId, via: 'charge', result: success }, started: c.attempt })));
    // The failed attempt stays failed and its money pays the purchase (a late success); the other is paid as usual.
    expect(settled[0]).toMatchObject({ late: { disposition: 'paid_purchase' } });
    expect(settled[1]).toMatchObject({ changed: true, purchaseStatusId: 4, payment: { status: 'succeeded' } });
    for (const [k, c] of chunk.entries()) {
      expect((await purchase(c.purchaseId)).statusId).toBe(4);
      expect((await serviceRow(c.serviceId)).latestPeriodEndDate).toBe(addDays(periodFrom(before[k]!.latestPeriodEndDate), 30));
    }
    expect(await eventsOf(chunk[0]!.purchaseId)).toEqual(['payment.late_success', 'purchase.paid']);
    expect(await eventsOf(chunk[1]!.purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
  });
});

/**
 * PayFast sends its ITN as it answers the charge, so the charge's answer (one statement) and the ITN (the
 * locked way: purchase and attempt, then service) often settle one attempt at the same moment. Both take
 * the rows in the same order, so one waits for the other; with the service locked first, the two
 * deadlocked and PostgreSQL broke the tie after a second (deadlock_timeout), aborting one of them.
 */
describe.runIf(inject('engine') === 'postgres')('a notice settling the same attempt at the same moment', () => {
  const deadlocks = async () => Number((await h.ctx.database.query<{ n: string }>('SELECT deadlocks::text AS n FROM pg_stat_database WHERE datname = current_database()'))[0]!.n);

  it('waits for the one statement or makes it wait, and never deadlocks with it', async () => {
    const { purchaseId, attempt } = await started();
    const before = await deadlocks();
    const fast: ReturnType<typeof settleStarted>[] = [];
    await h.ctx.database.transaction(async (tx) => {
      // The notice's settlement has locked the purchase and the attempt …
      await run(tx.query, LOCK_ATTEMPT, { purchaseId, paymentId: attempt.payment.id });
      // … when the charge's answer arrives and is settled in one statement, which must wait for them …
      fast.push(settleStarted(h.ctx, { paymentId: attempt.payment.id, purchaseId, via: 'charge', result: success }, attempt));
      // (Once it is waiting for a row the notice holds, whichever rows it took before that.)
      for (let i = 0; i < 100; i++) {
        // Asked on a connection of its own: a transaction sees pg_stat_activity as it was at its first look.
        const waiting = await h.ctx.database.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE services SET latest_period_end_date%'",
        );
        if (waiting[0]!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // … so the notice goes on to lock the service without waiting for that statement.
      await run(tx.query, LOCK_SERVICE, { serviceId: SERVICE, purchaseId });
    });
    const [settled] = await Promise.all(fast);
    expect(settled).toMatchObject({ purchaseStatusId: 4, payment: { status: 'succeeded' } });
    expect((await purchase(purchaseId)).statusId).toBe(4);
    expect(await eventsOf(purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
    // pg_stat_database's counter is updated when the statistics are flushed (at most a second later).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await deadlocks()) - before).toBe(0);
  });
});

describe('outbox events nobody takes', () => {
  it('are not written; an event type an endpoint takes is written, waiting for the webhook job', async () => {
    const undispatched = async (purchaseId: string) =>
      (await h.ctx.database.db.select().from(t.outboxEvents).where(sql`${t.outboxEvents.dispatchedAt} IS NULL`))
        .filter((e) => (e.payload as { data: { purchase_id?: string } }).data.purchase_id === purchaseId)
        .map((e) => e.type);
    const enable = (id: string, enabled: boolean) => h.ctx.database.db.update(t.webhookEndpoints).set({ enabled }).where(eq(t.webhookEndpoints.id, id));
    await enable(everyEvent, false);
    const endpointId = randomUUID();
    try {
      // No enabled endpoint: the settlement writes its audit entries and no event.
      const first = await started();
      await settleStarted(h.ctx, { paymentId: first.attempt.payment.id, purchaseId: first.purchaseId, via: 'charge', result: success }, first.attempt);
      expect((await purchase(first.purchaseId)).statusId).toBe(4);
      expect(await auditOf(first.purchaseId)).toContain('purchase.paid');
      expect(await eventsOf(first.purchaseId)).toEqual([]);

      // An endpoint taking purchase.paid: that event alone is written, for the webhook job.
      await h.ctx.database.db.insert(t.webhookEndpoints).values({ id: endpointId, operatorId: DEMO.operatorId, url: 'http://127.0.0.1:9/hook', eventTypes: ['purchase.paid'], sealedSecret: 'sealed' });
      const second = await started();
      await settleStarted(h.ctx, { paymentId: second.attempt.payment.id, purchaseId: second.purchaseId, via: 'charge', result: success }, second.attempt);
      expect(await eventsOf(second.purchaseId)).toEqual(['purchase.paid']);
      expect(await undispatched(second.purchaseId)).toEqual(['purchase.paid']);

      // enqueueEvents, which every other use-case writes with, applies the same rule in its insert.
      const ids = await enqueueEvents(
        h.ctx.database.db,
        [
          { operatorId: DEMO.operatorId, type: 'payment.failed', data: { purchase_id: 'by-enqueue' } },
          { operatorId: DEMO.operatorId, type: 'purchase.paid', data: { purchase_id: 'by-enqueue' } },
        ],
        new Date(),
      );
      expect(ids).toHaveLength(1);
      expect(await eventsOf('by-enqueue')).toEqual(['purchase.paid']);
      expect((await h.ctx.database.db.select().from(t.outboxEvents).where(inArray(t.outboxEvents.id, ids)))[0]).toMatchObject({ type: 'purchase.paid', dispatchedAt: null });
    } finally {
      await h.ctx.database.db.update(t.webhookEndpoints).set({ enabled: false }).where(and(eq(t.webhookEndpoints.id, endpointId)));
      await enable(everyEvent, true);
    }
  });
});
