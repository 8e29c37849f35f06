import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { SYSTEM_ACTOR } from '../../context.ts';
import { DEMO } from '../../demo/ids.ts';
import { runWebhookJobs } from '../../jobs/webhooks.ts';
import { backoffDelay, claimDueDeliveries, LEASE_MS, MAX_BACKOFF_MS } from './deliver-webhooks.ts';
import { dispatchEvents } from './dispatch-events.ts';
import { createWebhookEndpoint, sendTestEvent } from './endpoints.ts';
import { enqueueEvent, enqueueEvents } from './enqueue-event.ts';
import type { EventType } from './event-types.ts';
import { outboxEvents, webhookAttempts, webhookDeliveries, webhookEndpoints } from './schema.ts';
import { verifyPayrailSignature } from './signature.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on a random port; `answer` decides the status of the n-th request. */
async function receiver(answer: (n: number) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 200 })) {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const a = answer(requests.length);
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
      res.end(a.body ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return { url: `http://127.0.0.1:${port}/payrail-events`, requests };
}

let h: Harness;
const servers: ReturnType<typeof createServer>[] = [];
beforeAll(async () => {
  h = await createHarness();
});
// Each test's endpoints are switched off afterwards, so their deliveries never reach the next test's receivers.
afterEach(async () => {
  await h.ctx.database.db.update(webhookEndpoints).set({ enabled: false });
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});
afterAll(() => h.close());

const endpoint = (url: string, options: { operatorId?: string; eventTypes?: string[]; enabled?: boolean } = {}) =>
  createWebhookEndpoint(h.ctx, options.operatorId ?? DEMO.operatorId, SYSTEM_ACTOR, { url, eventTypes: options.eventTypes, enabled: options.enabled });

/** An event an endpoint takes (the test sets one up first): its id. */
const enqueue = async (type: EventType, data: Record<string, unknown> = {}, now = new Date(), operatorId: string = DEMO.operatorId) => {
  const id = await h.ctx.database.db.transaction((tx) => enqueueEvent(tx, { operatorId, type, data }, now));
  if (!id) throw new Error(`no endpoint takes ${type}: nothing was written`);
  return id;
};

const later = (from: Date, ms: number) => new Date(from.getTime() + ms);

async function deliveriesOf(eventId: string) {
  return h.ctx.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, eventId));
}

describe('the outbox', () => {
  it('delivers a committed event once, signed with the endpoint secret', async () => {
    const r = await receiver();
    const { endpoint: ep, secret } = await endpoint(r.url);
    const now = new Date();
    const eventId = await enqueue('purchase.paid', { purchase_id: 'p-1', amount: 378.9 }, now);

    expect(await runWebhookJobs(h.ctx, now)).toEqual({ dispatched: 1, attempted: 1 });
    expect(r.requests).toHaveLength(1);
    const [req] = r.requests;
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'payrail-webhooks/1',
      'payrail-event-id': eventId,
      'payrail-event-type': 'purchase.paid',
    });
    const [delivery] = await deliveriesOf(eventId);
    expect(req!.headers['payrail-delivery-id']).toBe(delivery!.id);
    expect(JSON.parse(req!.body)).toEqual({ id: eventId, type: 'purchase.paid', created_at: now.toISOString(), data: { purchase_id: 'p-1', amount: 378.9 } });
    expect(Object.keys(JSON.parse(req!.body))).toEqual(['id', 'type', 'created_at', 'data']);

    const header = req!.headers['payrail-signature'] as string;
    expect(header).toMatch(new RegExp(`^t=${Math.floor(now.getTime() / 1000)},v1=[0-9a-f]{64}$`));
    expect(verifyPayrailSignature(header, req!.body, secret, { now })).toBe(true);
    expect(verifyPayrailSignature(header, req!.body, 'whsec_another', { now })).toBe(false);
    expect(verifyPayrailSignature(header, req!.body.replace('378.9', '0.01'), secret, { now })).toBe(false);
    expect(verifyPayrailSignature(header, req!.body, secret, { now: later(now, 301_000) })).toBe(false);

    expect(delivery).toMatchObject({ endpointId: ep.id, status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, deliveredAt: now });
    const attempts = await h.ctx.database.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, delivery!.id));
    expect(attempts).toMatchObject([{ attempt: 1, statusCode: 200, error: null, responseExcerpt: 'ok' }]);

    // Later runs send nothing more.
    await runWebhookJobs(h.ctx, later(now, 3_600_000));
    expect(r.requests).toHaveLength(1);
  });

  it('leaves no event behind a rolled-back transaction', async () => {
    const r = await receiver();
    await endpoint(r.url);
    let eventId = '';
    await expect(
      h.ctx.database.db.transaction(async (tx) => {
        eventId = (await enqueueEvent(tx, { operatorId: DEMO.operatorId, type: 'purchase.paid', data: {} }, new Date())) ?? '';
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect(eventId).not.toBe('');
    expect(await h.ctx.database.db.select().from(outboxEvents).where(eq(outboxEvents.id, eventId))).toEqual([]);
    expect(await runWebhookJobs(h.ctx)).toEqual({ dispatched: 0, attempted: 0 });
    expect(r.requests).toHaveLength(0);
  });

  it('writes only the events an enabled endpoint of the operator takes', async () => {
    const count = async () => (await h.ctx.database.db.select({ id: outboxEvents.id }).from(outboxEvents)).length;
    const before = await count();
    const write = (type: EventType, operatorId: string = DEMO.operatorId) => h.ctx.database.db.transaction((tx) => enqueueEvent(tx, { operatorId, type, data: {} }, new Date()));
    // No endpoint: nothing is written, nothing is left to dispatch.
    expect(await write('purchase.paid')).toBeNull();
    // An endpoint of another operator, a disabled one, one taking other types: still nothing.
    const r = await receiver();
    await endpoint(r.url, { operatorId: FIX.otherOperator.operatorId });
    await endpoint(r.url, { enabled: false });
    const { endpoint: some } = await endpoint(r.url, { eventTypes: ['payment.failed'] });
    expect(await write('purchase.paid')).toBeNull();
    expect(await count()).toBe(before);
    // Of several events of one change, only those taken are written, and their ids answered.
    const ids = await h.ctx.database.db.transaction((tx) =>
      enqueueEvents(tx, [{ operatorId: DEMO.operatorId, type: 'purchase.paid', data: {} }, { operatorId: DEMO.operatorId, type: 'payment.failed', data: {} }], new Date()),
    );
    expect(ids).toHaveLength(1);
    expect((await h.ctx.database.db.select().from(outboxEvents).where(eq(outboxEvents.id, ids[0]!)))[0]).toMatchObject({ type: 'payment.failed', dispatchedAt: null });
    expect(await count()).toBe(before + 1);
    // A test event reaches its endpoint whatever types it takes.
    const test = await sendTestEvent(h.ctx, DEMO.operatorId, some.id);
    expect((await deliveriesOf(test.eventId)).map((d) => d.endpointId)).toEqual([some.id]);
    await runWebhookJobs(h.ctx);
    expect(r.requests.map((q) => q.headers['payrail-event-type']).sort()).toEqual(['payment.failed', 'webhook.test']);
  });

  it("never sends an event to another operator's endpoints, nor to disabled ones", async () => {
    const ours = await receiver();
    const theirs = await receiver();
    const off = await receiver();
    await endpoint(ours.url);
    await endpoint(theirs.url, { operatorId: FIX.otherOperator.operatorId });
    await endpoint(off.url, { enabled: false });
    const now = new Date();
    const eventId = await enqueue('payment.succeeded', {}, now);
    await runWebhookJobs(h.ctx, now);
    expect(ours.requests.map((q) => q.headers['payrail-event-id'])).toEqual([eventId]);
    expect(theirs.requests).toHaveLength(0);
    expect(off.requests).toHaveLength(0);
  });

  it('sends an endpoint only the event types it subscribes to (none listed: all)', async () => {
    const all = await receiver();
    const paid = await receiver();
    const failed = await receiver();
    await endpoint(all.url);
    await endpoint(paid.url, { eventTypes: ['purchase.paid', 'medium.created'] });
    await endpoint(failed.url, { eventTypes: ['payment.failed'] });
    const now = new Date();
    await enqueue('purchase.paid', {}, now);
    await enqueue('medium.updated', {}, now);
    await runWebhookJobs(h.ctx, now);
    const types = (r: Awaited<ReturnType<typeof receiver>>) => r.requests.map((q) => q.headers['payrail-event-type']).sort();
    expect(types(all)).toEqual(['medium.updated', 'purchase.paid']);
    expect(types(paid)).toEqual(['purchase.paid']);
    expect(types(failed)).toEqual([]);
  });

  it('retries with exponential backoff until answered 2xx, at least once', async () => {
    const r = await receiver((n) => (n <= 2 ? { status: 500, body: 'database down' } : { status: 204 }));
    await endpoint(r.url);
    const t0 = new Date();
    const eventId = await enqueue('payment.failed', {}, t0);
    await runWebhookJobs(h.ctx, t0);
    let [d] = await deliveriesOf(eventId);
    // PAYRAIL_WEBHOOK_BACKOFF_MS is 1 in tests: 1 ms after the first failure, 2 ms after the second.
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, nextAttemptAt: later(t0, 1) });
    // Not due yet: nothing is sent.
    expect((await runWebhookJobs(h.ctx, t0)).attempted).toBe(0);
    const t1 = later(t0, 1);
    await runWebhookJobs(h.ctx, t1);
    [d] = await deliveriesOf(eventId);
    expect(d).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: later(t1, 2) });
    await runWebhookJobs(h.ctx, later(t1, 2));
    [d] = await deliveriesOf(eventId);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204, lastError: null });
    expect(r.requests).toHaveLength(3);
    // Every attempt carries the same event id and the same body, so a receiver can dedupe.
    expect(new Set(r.requests.map((q) => q.headers['payrail-event-id']))).toEqual(new Set([eventId]));
    expect(new Set(r.requests.map((q) => q.body)).size).toBe(1);
    const log = await h.ctx.database.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, d!.id));
    expect(log.map((a) => [a.attempt, a.statusCode, a.responseExcerpt]).sort()).toEqual([
      [1, 500, 'database down'],
      [2, 500, 'database down'],
      [3, 204, null],
    ]);
  });

  it('gives up after the most attempts and marks the delivery failed', async () => {
    const r = await receiver(() => ({ status: 503 }));
    await endpoint(r.url);
    let now = new Date();
    const eventId = await enqueue('purchase.payment_failed', {}, now);
    const max = h.ctx.config.jobs.webhookMaxAttempts;
    for (let i = 0; i < max + 2; i++) {
      await runWebhookJobs(h.ctx, now);
      now = later(now, MAX_BACKOFF_MS);
    }
    expect(r.requests).toHaveLength(max);
    const [d] = await deliveriesOf(eventId);
    expect(d).toMatchObject({ status: 'failed', attempts: max, lastStatusCode: 503, deliveredAt: null });
  });

  it('keeps the first 200 characters of the answer in the log, and none of its headers', async () => {
    const r = await receiver(() => ({ status: 500, headers: { 'x-internal-token': 'hdr-7f3a9' }, body: `${'é'.repeat(150)}${'x'.repeat(5000)}` }));
    await endpoint(r.url);
    const now = new Date();
    const eventId = await enqueue('purchase.paid', {}, now);
    await runWebhookJobs(h.ctx, now);
    const [d] = await deliveriesOf(eventId);
    const [attempt] = await h.ctx.database.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, d!.id));
    expect(attempt!.statusCode).toBe(500);
    expect(attempt!.responseExcerpt).toBe(`${'é'.repeat(150)}${'x'.repeat(50)}`);
    expect(attempt!.responseExcerpt).not.toContain('hdr-7f3a9');
  });

  it('records a refused connection and a redirect as failed attempts', async () => {
    const target = await receiver();
    const redirecting = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const closed = await receiver();
    await endpoint(redirecting.url);
    const { endpoint: gone } = await endpoint(closed.url);
    for (const s of servers.splice(-1)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    const now = new Date();
    const eventId = await enqueue('medium.created', {}, now);
    await runWebhookJobs(h.ctx, now);
    const ds = await deliveriesOf(eventId);
    const viaRedirect = ds.find((d) => d.endpointId !== gone.id)!;
    expect(viaRedirect).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 302 });
    expect(viaRedirect.lastError).toMatch(/redirect/i);
    expect(target.requests).toHaveLength(0);
    const refused = ds.find((d) => d.endpointId === gone.id)!;
    expect(refused).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(refused.lastError).toMatch(/ECONNREFUSED/);
  });

  it('makes a claimed but unfinished delivery due again when its lease runs out', async () => {
    const r = await receiver();
    await endpoint(r.url);
    const now = new Date();
    const eventId = await enqueue('payment.unknown', {}, now);
    await dispatchEvents(h.ctx, { now });
    const [d] = await deliveriesOf(eventId);
    // A worker claims it and dies before sending.
    const claimed = await claimDueDeliveries(h.ctx, now, 100);
    expect(claimed.map((c) => c.id)).toContain(d!.id);
    expect(await claimDueDeliveries(h.ctx, now, 100)).toEqual([]);
    expect((await runWebhookJobs(h.ctx, later(now, LEASE_MS - 1))).attempted).toBe(0);
    expect(r.requests).toHaveLength(0);
    expect((await runWebhookJobs(h.ctx, later(now, LEASE_MS))).attempted).toBe(1);
    expect(r.requests.map((q) => q.headers['payrail-delivery-id'])).toEqual([d!.id]);
    expect((await deliveriesOf(eventId))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('sends each delivery once when workers run side by side', async () => {
    const r = await receiver();
    await endpoint(r.url);
    const now = new Date();
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => enqueue('purchase.paid', { n: i }, now)));
    await Promise.all([runWebhookJobs(h.ctx, now), runWebhookJobs(h.ctx, now), runWebhookJobs(h.ctx, now)]);
    expect(r.requests.map((q) => q.headers['payrail-event-id']).sort()).toEqual([...ids].sort());
    const rows = await h.ctx.database.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.eventId, ids));
    expect(rows.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
  });
});

describe('the retry schedule', () => {
  it('doubles from the base delay and never waits more than 6 hours', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 10_000))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(backoffDelay(12, 10_000)).toBe(20_480_000);
    expect(backoffDelay(13, 10_000)).toBe(MAX_BACKOFF_MS);
    expect(backoffDelay(100, 10_000)).toBe(MAX_BACKOFF_MS);
  });
});

describe('endpoint URLs', () => {
  it('must be https outside sandbox mode', async () => {
    const live = { ...h.ctx, config: { ...h.ctx.config, sandbox: false }, resolveHost: async () => [{ address: '93.184.215.14', family: 4 as const }] };
    await expect(createWebhookEndpoint(live, DEMO.operatorId, SYSTEM_ACTOR, { url: 'http://example.com/hooks' })).rejects.toMatchObject({
      status: 400,
      errors: [{ name: 'body.url', reason: expect.stringMatching(/https/) }],
    });
    const { endpoint: ep } = await createWebhookEndpoint(live, DEMO.operatorId, SYSTEM_ACTOR, { url: 'https://example.com/hooks' });
    expect(ep.url).toBe('https://example.com/hooks');
  });
});
