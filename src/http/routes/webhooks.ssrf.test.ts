import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import type { HostResolver } from '../../context.ts';
import { DEMO } from '../../demo/ids.ts';
import { runWebhookJobs } from '../../jobs/webhooks.ts';
import { enqueueEvent } from '../../modules/webhooks/enqueue-event.ts';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../modules/webhooks/schema.ts';

/**
 * Webhook endpoints outside sandbox mode are a request to any URL a tenant's staff type: they must
 * never reach payrail's host, its network or the cloud's metadata service, by address, by name, or by a
 * name that changes its answer later (DNS rebinding). Names are resolved by a resolver the test controls.
 */
let h: Harness;
const answers = new Map<string, string[]>();
const asked: string[] = [];
const resolver: HostResolver = async (hostname) => {
  asked.push(hostname);
  const list = answers.get(hostname);
  if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const servers: Server[] = [];

beforeAll(async () => {
  h = await createHarness({ config: testConfig({ PAYRAIL_SANDBOX: 'false', PAYRAIL_WEBHOOK_ALLOWED_HOSTS: 'hooks.internal, 10.1.2.3, 127.0.0.77' }) });
  h.ctx.resolveHost = resolver;
});
afterEach(async () => {
  answers.clear();
  asked.length = 0;
  await h.ctx.database.db.update(webhookEndpoints).set({ enabled: false });
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});
afterAll(() => h.close());

const create = (url: string) => h.call('POST', '/webhook-endpoints', { token: h.tokens.integrator, body: { url } });
const endpointCount = async () => (await h.ctx.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.operatorId, DEMO.operatorId))).length;

/** A plain TCP listener on a loopback address that counts the connections it gets (TLS never completes). */
async function listener(host = '127.0.0.1') {
  const seen = { connections: 0 };
  const server = createTcpServer((socket) => {
    seen.connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, seen };
}

function expectRefused(res: Awaited<ReturnType<typeof create>>, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(422);
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(res.body).toMatchObject({ status: 422, code: 'webhook_endpoint.forbidden_target' });
  expect(res.body.errors).toEqual([{ name: 'body.url', reason: expect.stringContaining('public internet address') }]);
}

describe('webhook endpoints outside sandbox mode (SSRF)', () => {
  it.each([
    'https://127.0.0.1',
    'https://127.0.0.1:8080/sandbox/sign-in',
    'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'https://[::1]',
    'https://localhost',
    'https://localhost./hooks',
    'https://app.localhost',
    'https://10.0.0.1',
    'https://172.16.5.4',
    'https://192.168.1.1',
    'https://100.64.0.1',
    'https://100.100.100.200',
    'https://0.0.0.0',
    'https://0',
    'https://2130706433',
    'https://0x7f.1',
    'https://017700000001',
    'https://[::ffff:127.0.0.1]',
    'https://[::ffff:a9fe:a9fe]',
    'https://[::ffff:10.0.0.1]',
    'https://[64:ff9b::a9fe:a9fe]',
    'https://[2002:a9fe:a9fe::1]',
    'https://[fd00:ec2::254]',
    'https://[fe80::1]',
    'https://[::]',
    'https://224.0.0.1',
    'https://255.255.255.255',
  ])('refuses %s with a 422 naming body.url, and creates nothing', async (url) => {
    const before = await endpointCount();
    expectRefused(await create(url), url);
    expect(await endpointCount()).toBe(before);
  });

  it('refuses a public-looking name that resolves to a private address, or to any private address among public ones', async () => {
    answers.set('hooks.example.com', ['10.0.0.7']);
    answers.set('mixed.example.com', ['93.184.215.14', '169.254.169.254']);
    answers.set('v6.example.com', ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', 'fd12::1']);
    const before = await endpointCount();
    for (const url of ['https://hooks.example.com/payrail', 'https://mixed.example.com/payrail', 'https://v6.example.com/payrail', 'https://nowhere.example.com/']) {
      const res = await create(url);
      expectRefused(res, url);
      // The answer does not say what the name resolved to: no map of payrail's own network.
      expect(res.text).not.toMatch(/10\.0\.0\.7|169\.254|fd12/);
    }
    expect(asked).toEqual(['hooks.example.com', 'mixed.example.com', 'v6.example.com', 'nowhere.example.com']);
    expect(await endpointCount()).toBe(before);
  });

  it('accepts a name that resolves to public addresses only, and refuses changing it to a forbidden one', async () => {
    answers.set('erp.example.com', ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    const created = await create('https://erp.example.com/payrail');
    expect(created.status, created.text).toBe(201);
    const patched = await h.call('PATCH', `/webhook-endpoints/${created.body.id}`, { token: h.tokens.integrator, body: { url: 'https://169.254.169.254/' } });
    expectRefused(patched, 'PATCH');
    expect((await h.call('GET', `/webhook-endpoints/${created.body.id}`, { token: h.tokens.integrator })).body.url).toBe('https://erp.example.com/payrail');
  });

  it('allows the hosts named in PAYRAIL_WEBHOOK_ALLOWED_HOSTS: by name whatever it resolves to, by address', async () => {
    answers.set('hooks.internal', ['10.20.30.40']);
    answers.set('ledger.corp.example', ['10.1.2.3']);
    for (const url of ['https://hooks.internal/payrail', 'https://HOOKS.internal./payrail', 'https://10.1.2.3:8443/payrail', 'https://ledger.corp.example/payrail']) {
      const res = await create(url);
      expect(res.status, `${url}: ${res.text}`).toBe(201);
    }
    // Only what is listed: a neighbour of the listed address is still refused.
    expectRefused(await create('https://10.1.2.4/payrail'), '10.1.2.4');
    answers.set('other.internal', ['10.20.30.40']);
    expectRefused(await create('https://other.internal/payrail'), 'other.internal');
  });

  it('refuses a delivery whose name now resolves to a forbidden address (DNS rebinding), without connecting, and retries it', async () => {
    const target = await listener();
    answers.set('rebind.example.com', ['93.184.215.14']);
    const created = await create(`https://rebind.example.com:${target.port}/payrail`);
    expect(created.status, created.text).toBe(201);
    // The name now points at payrail's own host, where something listens on that port.
    answers.set('rebind.example.com', ['127.0.0.1']);
    const now = new Date();
    await h.ctx.database.db.transaction((tx) => enqueueEvent(tx, { operatorId: DEMO.operatorId, type: 'purchase.paid', data: {} }, now));
    expect((await runWebhookJobs(h.ctx, now)).attempted).toBe(1);
    expect(target.seen.connections).toBe(0);
    const [delivery] = await h.ctx.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, created.body.id));
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(delivery!.lastError).toMatch(/^Not sent: rebind\.example\.com does not resolve to public internet addresses only/);
    expect(delivery!.nextAttemptAt.getTime()).toBeGreaterThan(now.getTime());
    const log = await h.call('GET', `/webhook-endpoints/${created.body.id}/deliveries`, { token: h.tokens.integrator });
    expect(log.body.items[0].attempt_log).toEqual([expect.objectContaining({ attempt: 1, status_code: null, error: delivery!.lastError, response_excerpt: null })]);
  });

  it('connects to the address it checked, asking the resolver once per attempt', async () => {
    const target = await listener('127.0.0.77');
    // 127.0.0.77 is allowed by address; the name is checked, then must not be looked up again.
    let calls = 0;
    h.ctx.resolveHost = async (hostname) => {
      calls++;
      return hostname === 'pinned.example.com' && calls % 2 === 1 ? [{ address: '127.0.0.77', family: 4 }] : [{ address: '10.255.255.1', family: 4 }];
    };
    try {
      const created = await create(`https://pinned.example.com:${target.port}/payrail`);
      expect(created.status, created.text).toBe(201);
      calls = 0;
      const now = new Date();
      await h.ctx.database.db.transaction((tx) => enqueueEvent(tx, { operatorId: DEMO.operatorId, type: 'purchase.paid', data: {} }, now));
      await runWebhookJobs(h.ctx, now);
      expect(calls).toBe(1);
      // The TLS handshake fails on a plain TCP listener, but the connection went to the checked address.
      expect(target.seen.connections).toBe(1);
      const [attempt] = await h.ctx.database.db
        .select()
        .from(webhookAttempts)
        .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
        .where(eq(webhookDeliveries.endpointId, created.body.id));
      expect(attempt!.webhook_attempts.error).not.toMatch(/^Not sent/);
    } finally {
      h.ctx.resolveHost = resolver;
    }
  });
});
