import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import type { IsoDate } from '../../src/domain/periods.ts';
import { runBilling } from '../../src/modules/billing/run-billing.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * A billing run commits slice by slice (SPEC §10): one that stops part way keeps what it billed, stays
 * `running`, and running its date again bills the rest — every period once, the figures over both.
 * The failure is real: a trigger refuses one service's purchase, as a full disk or a lost connection would.
 */
let today: IsoDate = '2027-03-08';
const clock = () => new Date(`${today}T10:00:00+02:00`);
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ clock });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
});
afterAll(() => h?.close());

const system = { id: 't', role: 'system' as const, requestId: null };
const asOf: IsoDate = '2027-03-10';

async function activeRecurring(): Promise<string> {
  const order = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 10 } });
  expect(order.status).toBe(201);
  const activated = await h.call('PATCH', `/services/${order.body.service.id}`, { token: h.tokens.integrator, body: { service_status: 'Active', on_network_date: today } });
  expect(activated.status).toBe(200);
  return order.body.service.id as string;
}

/** The services due on `asOf` (the run's own rule), in the order slices take them. */
async function dueServices(): Promise<string[]> {
  const rows = await h.ctx.database.query<{ id: string }>(
    `SELECT id FROM services WHERE operator_id = $1 AND status = 'Active' AND billed_through <= $2::date AND collection_day IS NOT NULL ORDER BY id`,
    [DEMO.operatorId, asOf],
  );
  return rows.map((r) => r.id);
}

/** Monthly purchases the runs of this test made (stamped with its clock) for a service. */
const madeFor = (serviceId: string) =>
  h.ctx.database.db
    .select()
    .from(t.purchases)
    .where(and(eq(t.purchases.serviceId, serviceId), eq(t.purchases.creationEventId, 2), eq(t.purchases.createdAt, clock())));
const billedPast = async (serviceId: string) => (await h.ctx.database.db.select().from(t.services).where(eq(t.services.id, serviceId)))[0]!.billedThrough! > asOf;

describe('a billing run that stops part way', () => {
  it('keeps the slices it committed, stays running, and is finished by running its date again — each period once', async () => {
    for (let i = 0; i < 7; i++) await activeRecurring();
    today = asOf;
    const due = await dueServices();
    expect(due.length).toBeGreaterThanOrEqual(7);
    const last = due.at(-1)!;

    // The last service in slice order cannot be billed: the slices before its own commit, its own does not.
    await h.ctx.database.query(`CREATE FUNCTION test_refuse_purchase() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file'; END $$`);
    await h.ctx.database.query(`CREATE TRIGGER test_refuse_purchase BEFORE INSERT ON purchases FOR EACH ROW WHEN (NEW.service_id = '${last}') EXECUTE FUNCTION test_refuse_purchase()`);
    await expect(runBilling(h.ctx, DEMO.operatorId, asOf, system, { sliceSize: 2, lanes: 1 })).rejects.toThrow(/could not extend file/);

    const runs = await h.call('GET', '/billing/runs', { token: h.tokens.integrator });
    const stopped = runs.body.items.find((r: { as_of: string }) => r.as_of === asOf);
    expect(stopped).toMatchObject({ status: 'running' });
    const billedBefore = (await Promise.all(due.map(billedPast))).filter(Boolean).length;
    // The run shows what its committed slices made.
    const progress = await h.call('GET', `/billing/runs/${stopped.id}`, { token: h.tokens.integrator });
    expect(progress.body).toMatchObject({ status: 'running', purchases_created: (await Promise.all(due.map(madeFor))).flat().length });
    expect(progress.body.purchases_created).toBeGreaterThanOrEqual(billedBefore);
    // Every slice but the last committed (a slice is two services; the last holds one or two).
    expect(billedBefore).toBeGreaterThanOrEqual(due.length - 2);
    expect(billedBefore).toBeLessThan(due.length);
    expect(await madeFor(last)).toHaveLength(0);

    // The cause is gone; the date is run again (as the daily job's catch-up would): the rest is billed.
    await h.ctx.database.query('DROP TRIGGER test_refuse_purchase ON purchases');
    const resumed = await runBilling(h.ctx, DEMO.operatorId, asOf, system, { sliceSize: 2, lanes: 2 });
    expect(resumed.created).toBe(true);
    expect(resumed.run.id).toBe(stopped.id);
    const made = (await Promise.all(due.map(madeFor))).flat();
    expect(resumed.run).toMatchObject({ status: 'completed', purchasesCreated: made.length });
    expect(made.length).toBeGreaterThanOrEqual(due.length);
    for (const id of due) expect(await billedPast(id)).toBe(true);
    // One purchase per service and period, whichever attempt made it.
    expect(new Set(made.map((p) => `${p.serviceId} ${p.periodStart}`)).size).toBe(made.length);
    const events = (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, 'purchase.created'))).filter((e) =>
      due.includes((e.payload as { data: { service_id: string } }).data.service_id),
    );
    expect(events).toHaveLength(made.length);

    // And once more: found, nothing added.
    const again = await runBilling(h.ctx, DEMO.operatorId, asOf, system, { sliceSize: 3 });
    expect(again).toMatchObject({ created: false, run: { id: stopped.id, purchasesCreated: made.length } });
    expect((await Promise.all(due.map(madeFor))).flat()).toHaveLength(made.length);
  });
});
