import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';
import { runWebhookJobs } from '../../jobs/webhooks.ts';
import { enqueueEvent } from '../../modules/webhooks/enqueue-event.ts';
import { webhookEndpoints } from '../../modules/webhooks/schema.ts';
import { verifyPayrailSignature } from '../../modules/webhooks/signature.ts';

let h: Harness;
const servers: ReturnType<typeof createServer>[] = [];
beforeAll(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.ctx.database.db.update(webhookEndpoints).set({ enabled: false });
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});
afterAll(() => h.close());

const staff = () => ({ token: h.tokens.integrator });
const later = (from: Date, ms: number) => new Date(from.getTime() + ms);

async function receiver(answer: (n: number) => number = () => 200) {
  const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer(requests.length), { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, requests };
}

async function createEndpoint(body: Record<string, unknown>, token = h.tokens.integrator) {
  const res = await h.call('POST', '/webhook-endpoints', { token, body });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; secret: string; url: string };
}

describe('webhook endpoints (happy)', () => {
  it('creates an endpoint, shows its secret once, and delivers a signed purchase.paid', async () => {
    const r = await receiver();
    const created = await h.call('POST', '/webhook-endpoints', { ...staff(), body: { url: r.url, description: 'ERP', event_types: ['purchase.paid'] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: r.url, description: 'ERP', event_types: ['purchase.paid'], enabled: true });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const { id, secret } = created.body;

    const one = await h.call('GET', `/webhook-endpoints/${id}`, staff());
    expect(one.status).toBe(200);
    const { secret: _s, ...withoutSecret } = created.body;
    expect(one.body).toEqual(withoutSecret);
    const list = await h.call('GET', '/webhook-endpoints?limit=100', staff());
    expect(list.body.items.map((e: { id: string }) => e.id)).toContain(id);
    expect(list.text).not.toContain('whsec_');
    expect(list.text).not.toContain('secret');
    expect(one.text).not.toContain('whsec_');

    const now = new Date();
    const eventId = await h.ctx.database.db.transaction((tx) => enqueueEvent(tx, { operatorId: DEMO.operatorId, type: 'purchase.paid', data: { purchase_id: 'x' } }, now));
    await runWebhookJobs(h.ctx, now);
    await runWebhookJobs(h.ctx, later(now, 60_000));
    expect(r.requests).toHaveLength(1);
    const [req] = r.requests;
    expect(req!.headers['payrail-event-id']).toBe(eventId);
    expect(verifyPayrailSignature(req!.headers['payrail-signature'] as string, req!.body, secret, { now })).toBe(true);
    expect(verifyPayrailSignature(req!.headers['payrail-signature'] as string, req!.body, 'whsec_wrong', { now })).toBe(false);
  });

  it('shows three attempts (500, 500, 200) in the delivery log once a flaky receiver takes it', async () => {
    const r = await receiver((n) => (n <= 2 ? 500 : 200));
    const ep = await createEndpoint({ url: r.url });
    const t0 = new Date();
    const eventId = await h.ctx.database.db.transaction((tx) => enqueueEvent(tx, { operatorId: DEMO.operatorId, type: 'purchase.paid', data: {} }, t0));
    await runWebhookJobs(h.ctx, t0);
    await runWebhookJobs(h.ctx, later(t0, 1_000));
    expect(r.requests).toHaveLength(2);
    const pending = await h.call('GET', `/webhook-endpoints/${ep.id}/deliveries`, staff());
    expect(pending.body.items[0]).toMatchObject({ event_id: eventId, status: 'pending', attempts: 2, last_status_code: 500 });
    expect(Date.parse(pending.body.items[0].next_attempt_at)).toBeGreaterThan(t0.getTime());
    await runWebhookJobs(h.ctx, later(t0, 2_000));
    expect(r.requests).toHaveLength(3);

    const log = await h.call('GET', `/webhook-endpoints/${ep.id}/deliveries`, staff());
    expect(log.status).toBe(200);
    expect(log.body.next_cursor).toBeNull();
    expect(log.body.items).toHaveLength(1);
    const d = log.body.items[0];
    expect(d).toMatchObject({ endpoint_id: ep.id, event_id: eventId, event_type: 'purchase.paid', status: 'delivered', attempts: 3, last_status_code: 200, last_error: null, next_attempt_at: null });
    expect(d.delivered_at).not.toBeNull();
    expect(d.attempt_log.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(d.attempt_log[0]).toMatchObject({ error: null, response_excerpt: '{"received":true}' });
    expect(typeof d.attempt_log[0].duration_ms).toBe('number');
    expect((await h.call('GET', `/webhook-deliveries/${d.id}`, staff())).body).toEqual(d);
  });

  it('sends a webhook.test to one endpoint only, whatever it subscribes to', async () => {
    const target = await receiver();
    const bystander = await receiver();
    const ep = await createEndpoint({ url: target.url, event_types: ['payment.failed'] });
    await createEndpoint({ url: bystander.url });
    const res = await h.call('POST', `/webhook-endpoints/${ep.id}/test`, staff());
    expect(res.status).toBe(202);
    await runWebhookJobs(h.ctx);
    expect(target.requests.map((q) => [q.headers['payrail-event-id'], q.headers['payrail-event-type'], q.headers['payrail-delivery-id']])).toEqual([
      [res.body.event_id, 'webhook.test', res.body.delivery_id],
    ]);
    expect(JSON.parse(target.requests[0]!.body).data).toMatchObject({ endpoint_id: ep.id });
    expect(bystander.requests).toHaveLength(0);
    expect((await h.call('GET', `/webhook-deliveries/${res.body.delivery_id}`, staff())).body).toMatchObject({ status: 'delivered', event_type: 'webhook.test' });
  });

  it('updates an endpoint and rotates its secret, and audits both', async () => {
    const r = await receiver();
    const ep = await createEndpoint({ url: 'http://127.0.0.1:9/nowhere', description: 'old' });
    const patched = await h.call('PATCH', `/webhook-endpoints/${ep.id}`, { token: h.tokens.admin, body: { url: r.url, description: null, event_types: ['payment.succeeded', 'payment.succeeded'] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: r.url, description: null, event_types: ['payment.succeeded'], enabled: true });
    expect(patched.body.secret).toBeUndefined();

    const rotated = await h.call('POST', `/webhook-endpoints/${ep.id}/rotate-secret`, staff());
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);
    expect(rotated.body.id).toBe(ep.id);

    const test = await h.call('POST', `/webhook-endpoints/${ep.id}/test`, staff());
    await runWebhookJobs(h.ctx);
    const [req] = r.requests;
    expect(req!.headers['payrail-event-id']).toBe(test.body.event_id);
    expect(verifyPayrailSignature(req!.headers['payrail-signature'] as string, req!.body, rotated.body.secret)).toBe(true);
    expect(verifyPayrailSignature(req!.headers['payrail-signature'] as string, req!.body, ep.secret)).toBe(false);

    const audit = await h.call('GET', `/audit-events?entityId=${ep.id}`, staff());
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['webhook_endpoint.secret_rotated', 'webhook_endpoint.updated', 'webhook_endpoint.created']);
    expect(audit.text).not.toContain('whsec_');
  });

  it('pages the endpoint list with a cursor', async () => {
    for (let i = 0; i < 3; i++) await createEndpoint({ url: `https://example.com/${i}` });
    const first = await h.call('GET', '/webhook-endpoints?limit=2', staff());
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await h.call('GET', `/webhook-endpoints?limit=2&cursor=${first.body.next_cursor}`, staff());
    const ids = [...first.body.items, ...second.body.items].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('webhook endpoints (errors)', () => {
  it.each([
    ['a relative url', { url: '/hooks' }, 'body.url'],
    ['a non-http url', { url: 'ftp://example.com/hooks' }, 'body.url'],
    ['credentials in the url', { url: 'https://user:pass@example.com/hooks' }, 'body.url'],
    ['an over-long url', { url: `https://example.com/${'a'.repeat(2048)}` }, 'body.url'],
    ['no url', { description: 'x' }, 'body.url'],
    ['an unknown field', { url: 'https://example.com', secret: 'mine' }, 'body.secret'],
    ['an event type that is not a list', { url: 'https://example.com', event_types: 'purchase.paid' }, 'body.event_types'],
  ])('refuses %s with 400 and creates nothing', async (_what, body, field) => {
    const before = (await h.call('GET', '/webhook-endpoints?limit=100', staff())).body.items.length;
    const res = await h.call('POST', '/webhook-endpoints', { ...staff(), body });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body.errors.map((e: { name: string }) => e.name)).toContain(field);
    expect((await h.call('GET', '/webhook-endpoints?limit=100', staff())).body.items.length).toBe(before);
  });

  it('names an unknown event type', async () => {
    const res = await h.call('POST', '/webhook-endpoints', { ...staff(), body: { url: 'https://example.com', event_types: ['purchase.paid', 'purchase.refunded'] } });
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain('purchase.refunded');
    expect(res.body.errors).toEqual([{ name: 'body.event_types[1]', reason: expect.stringContaining('"purchase.refunded"') }]);
    const ep = await createEndpoint({ url: 'https://example.com' });
    const patch = await h.call('PATCH', `/webhook-endpoints/${ep.id}`, { ...staff(), body: { event_types: ['nope'] } });
    expect(patch.status).toBe(400);
    expect(patch.body.detail).toContain('nope');
    expect((await h.call('PATCH', `/webhook-endpoints/${ep.id}`, { ...staff(), body: {} })).status).toBe(400);
  });

  it('refuses a test event to a disabled endpoint with 409', async () => {
    const ep = await createEndpoint({ url: 'https://example.com', enabled: false });
    const res = await h.call('POST', `/webhook-endpoints/${ep.id}/test`, staff());
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('webhook_endpoint.disabled');
  });
});

describe('webhook endpoints (security)', () => {
  it('is for integrators and admins: customers get 403, no token 401', async () => {
    const ep = await createEndpoint({ url: 'https://example.com' });
    for (const [method, url, body] of [
      ['POST', '/webhook-endpoints', { url: 'https://example.com' }],
      ['GET', '/webhook-endpoints', undefined],
      ['GET', `/webhook-endpoints/${ep.id}`, undefined],
      ['PATCH', `/webhook-endpoints/${ep.id}`, { enabled: false }],
      ['POST', `/webhook-endpoints/${ep.id}/rotate-secret`, undefined],
      ['POST', `/webhook-endpoints/${ep.id}/test`, undefined],
      ['GET', `/webhook-endpoints/${ep.id}/deliveries`, undefined],
    ] as const) {
      expect((await h.call(method, url, { token: h.tokens.customer, body })).status, `${method} ${url}`).toBe(403);
      expect((await h.call(method, url, { token: null, body })).status, `${method} ${url}`).toBe(401);
    }
    expect((await h.call('GET', `/webhook-endpoints/${ep.id}`, staff())).body.enabled).toBe(true);
  });

  it("answers 404 for another operator's endpoints and deliveries, and never lists them", async () => {
    const ep = await createEndpoint({ url: 'https://example.com' });
    const test = await h.call('POST', `/webhook-endpoints/${ep.id}/test`, staff());
    const other = { token: h.tokens.otherOperatorIntegrator };
    for (const [method, url, body] of [
      ['GET', `/webhook-endpoints/${ep.id}`, undefined],
      ['PATCH', `/webhook-endpoints/${ep.id}`, { url: 'https://attacker.example' }],
      ['POST', `/webhook-endpoints/${ep.id}/rotate-secret`, undefined],
      ['POST', `/webhook-endpoints/${ep.id}/test`, undefined],
      ['GET', `/webhook-endpoints/${ep.id}/deliveries`, undefined],
      ['GET', `/webhook-deliveries/${test.body.delivery_id}`, undefined],
    ] as const) {
      const res = await h.call(method, url, { ...other, body });
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.text).not.toContain('example.com');
    }
    expect((await h.call('GET', '/webhook-endpoints?limit=100', other)).body.items.map((e: { id: string }) => e.id)).not.toContain(ep.id);
    expect((await h.call('GET', `/webhook-endpoints/${ep.id}`, staff())).body.url).toBe('https://example.com');
  });

  it('keeps a secret sealed in the Idempotency-Key store, while a replay still shows it', async () => {
    const headers = { 'idempotency-key': `create-${Date.now()}` };
    const body = { url: 'https://hooks.example/idempotent' };
    const first = await h.call('POST', '/webhook-endpoints', { ...staff(), body, headers });
    expect(first.status).toBe(201);
    const replay = await h.call('POST', '/webhook-endpoints', { ...staff(), body, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.secret).toBe(first.body.secret);
    const stored = await h.ctx.database.query<{ response_body: string }>('SELECT response_body FROM idempotency_keys WHERE key = $1', [headers['idempotency-key']]);
    expect(stored[0]!.response_body).toMatch(/^sealed:/);
    expect(stored[0]!.response_body).not.toContain(first.body.secret);
  });

  it('documents every route in OpenAPI under the Webhooks tag', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    for (const [path, method] of [
      ['/webhook-endpoints', 'post'],
      ['/webhook-endpoints', 'get'],
      ['/webhook-endpoints/{id}', 'get'],
      ['/webhook-endpoints/{id}', 'patch'],
      ['/webhook-endpoints/{id}/rotate-secret', 'post'],
      ['/webhook-endpoints/{id}/test', 'post'],
      ['/webhook-endpoints/{id}/deliveries', 'get'],
      ['/webhook-deliveries/{id}', 'get'],
    ]) {
      expect(doc.paths[path!]?.[method!]?.tags, `${method} ${path}`).toEqual(['Webhooks']);
    }
    expect(doc.tags.map((t: { name: string }) => t.name)).toContain('Webhooks');
  });
});
