import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../../test/helpers/config.ts';
import { createHarness, type Harness } from '../../test/helpers/harness.ts';
import { DEMO } from '../demo/ids.ts';
import { Secret } from '../lib/secret.ts';
import { signToken } from '../lib/tokens.ts';

/**
 * Every route the OpenAPI document lists, called the way a careless or hostile client would: without a
 * token, and with junk in every path parameter, query parameter and body. The answer is always a
 * problem+json below 500 (or a success), never a crash.
 */
let h: Harness;
let routes: { method: string; path: string; secured: boolean; params: string[]; query: string[]; hasBody: boolean }[];
/** Every line payrail logs while this file runs, down to debug. */
const logLines: string[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});
beforeAll(async () => {
  h = await createHarness({ listen: true, log: pino({ level: 'debug' }, logSink) });
  const doc = (await h.call('GET', '/openapi.json', { token: null })).body as {
    paths: Record<string, Record<string, { security?: unknown[]; parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
  };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      secured: Array.isArray(op.security) && op.security.length > 0,
      params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      hasBody: op.requestBody !== undefined,
    })),
  );
});
afterAll(() => h.close());

const fill = (path: string, value: string) => path.replace(/\{[^}]+\}/g, encodeURIComponent(value));

function expectProblem(res: { status: number; headers: Record<string, unknown>; text: string }, status: number, what: string) {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 300)}`).toBe(status);
  expect(res.headers['content-type'], what).toBe('application/problem+json; charset=utf-8');
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body, what).toMatchObject({ type: expect.stringMatching(/^https:\/\//), title: expect.any(String), status, detail: expect.any(String), instance: expect.stringMatching(/^\//) });
  expect(res.text, what).not.toMatch(/\.ts:\d+|node_modules|Error:|FST_ERR/);
}

/** A request over a real socket: Node's own HTTP parser answers some of these before Fastify sees them. */
function raw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${h.baseUrl}${path}`, { method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function expectProblemOrSuccess(res: { status: number; headers: Record<string, unknown>; text: string }, what: string) {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers['content-type'], what).toBe('application/problem+json; charset=utf-8');
    expect(res.text, what).not.toMatch(/\.ts:\d+|node_modules|Error:/);
  }
}

describe('a hostile client', () => {
  it('finds every documented route behind the bearer token, with the seed 401 body', async () => {
    const secured = routes.filter((r) => r.secured);
    expect(secured.length).toBeGreaterThanOrEqual(25);
    for (const r of secured) {
      const path = fill(r.path, DEMO.services.recurringInArrears);
      const res = await h.call(r.method, path, { token: null, ...(r.hasBody ? { body: {} } : {}) });
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
      expect(res.body).toEqual({ type: 'https://tools.ietf.org/html/rfc7235#section-3.1', title: 'Unauthorized', status: 401, detail: 'Unauthorized', instance: path });
    }
  });

  it('gets 400, never 500, for junk path parameters on every route', async () => {
    for (const r of routes.filter((r) => r.params.length > 0)) {
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 60, unit: 'binary' }), async (junk) => {
          const res = await h.call(r.method, fill(r.path, junk), { token: h.tokens.admin, ...(r.hasBody ? { body: {} } : {}) });
          expectProblemOrSuccess(res, `${r.method} ${r.path} with ${JSON.stringify(junk)}`);
        }),
        { numRuns: 15 },
      );
    }
  });

  it('gets a problem, never 500, for junk query parameters on every route', async () => {
    for (const r of routes.filter((r) => r.query.length > 0)) {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...r.query, 'extra'), fc.string({ maxLength: 40, unit: 'binary' })), async (query) => {
          const qs = new URLSearchParams(query).toString();
          const res = await h.call(r.method, `${fill(r.path, DEMO.services.recurringInArrears)}?${qs}`, { token: h.tokens.admin, ...(r.hasBody ? { body: {} } : {}) });
          expectProblemOrSuccess(res, `${r.method} ${r.path}?${qs}`);
        }),
        { numRuns: 20 },
      );
    }
  });

  it('gets a problem or a success, never 500, for any JSON body on every write', async () => {
    const junkStrings = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('\u0000', 'a\u0000b', "'; DROP TABLE services; --", '9'.repeat(400), '-1', '1e400'));
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(
        fc.constantFrom('name', 'email', 'customer_id', 'product_id', 'collector_id', 'medium_id', 'vat_rate', 'grace_days', 'prices', 'price_incl', 'billing_scheme', 'purchase_sources', 'users', 'collection_day', 'order_date', 'description'),
        fc.oneof(junkStrings, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })),
      ),
    );
    for (const r of routes.filter((r) => r.hasBody)) {
      await fc.assert(
        fc.asyncProperty(body, async (payload) => {
          const res = await h.call(r.method, fill(r.path, DEMO.collectorId), { token: h.tokens.admin, body: payload as object });
          expectProblemOrSuccess(res, `${r.method} ${r.path} with ${JSON.stringify(payload)?.slice(0, 200)}`);
        }),
        { numRuns: 120 },
      );
    }
  });

  it('gets a problem for bodies that are not JSON objects at all', async () => {
    for (const r of routes.filter((r) => r.hasBody)) {
      for (const [text, type] of [
        ['{', 'application/json'],
        ['null', 'application/json'],
        ['[]', 'application/json'],
        ['"x"', 'application/json'],
        ['{"name":"\\u0000"}', 'application/json'],
        ['name=x', 'application/x-www-form-urlencoded'],
        ['', 'application/json'],
      ] as const) {
        const res = await h.call(r.method, fill(r.path, DEMO.collectorId), { token: h.tokens.admin, body: text, headers: { 'content-type': type } });
        expectProblemOrSuccess(res, `${r.method} ${r.path} with ${type} ${text}`);
        expect(res.status, `${r.method} ${r.path} ${text}`).toBeGreaterThanOrEqual(400);
      }
    }
  });

  it('gets 400 problem+json for JSON nested 20,000 deep on every route that takes a body, the provider callbacks first', async () => {
    const writes = routes.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
    const paths = writes.map((r) => r.path);
    for (const callback of ['/callbacks/payfast/itn', '/callbacks/peach/webhook', '/peach-redirect/{collectorId}', '/payfast-payments/itn', '/peach-payments/webhook']) {
      expect(paths, callback).toContain(callback);
    }
    const deepArray = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const deepObject = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const payload = `{"payload":${deepObject}}`;
    for (const r of writes) {
      for (const text of [deepArray, deepObject, payload]) {
        const path = `${fill(r.path, DEMO.collectorId)}${r.path.startsWith('/peach-redirect') ? '?url=http%3A%2F%2Flocalhost%3A8080%2Fapp%2Fx%2F1' : ''}`;
        const res = await h.call(r.method, path, { token: h.tokens.admin, body: text, headers: { 'content-type': 'application/json' } });
        expectProblem(res, 400, `${r.method} ${r.path} with ${text.slice(0, 12)}…`);
      }
    }
  });

  it('answers a bad %-escape in the path with a 400 problem on every route', async () => {
    for (const r of routes) {
      const path = r.params.length > 0 ? r.path.replace(/\{[^}]+\}/g, '%E0%A4%A') : `${r.path}/%zz`;
      expectProblem(await h.call(r.method, path, { token: h.tokens.admin }), 400, `${r.method} ${path}`);
    }
    expectProblem(await raw('/services/%E0%A4%A', { authorization: `Bearer ${h.tokens.admin}` }), 400, 'over a socket');
  });

  it('answers an over-long path parameter with a 414 problem on every route that has one', async () => {
    for (const r of routes.filter((r) => r.params.length > 0)) {
      expectProblem(await h.call(r.method, fill(r.path, 'a'.repeat(201)), { token: h.tokens.admin }), 414, `${r.method} ${r.path}`);
    }
  });

  it('answers an over-long query string or header with a 431 problem, from Node’s parser', async () => {
    for (const r of routes.filter((r) => r.method === 'GET').slice(0, 12)) {
      expectProblem(await raw(`${fill(r.path, DEMO.collectorId)}?q=${'a'.repeat(20_000)}`, { authorization: `Bearer ${h.tokens.admin}` }), 431, `${r.path} long query`);
    }
    expectProblem(await raw('/services', { authorization: `Bearer ${h.tokens.admin}`, 'x-padding': 'a'.repeat(20_000) }), 431, 'long header');
  });

  it('refuses a valid token whose operator payrail does not have with the seed 401 on every route, and logs nothing the caller sent', async () => {
    const secret = new Secret(TEST_JWT_SECRET);
    const ghost = { sub: '7b0c7a4e-5c1d-4e2f-9a3b-000000000001', operatorId: '7b0c7a4e-5c1d-4e2f-9a3b-0000000000ff' };
    const tokens = [
      signToken(secret, { ...ghost, role: 'admin' }),
      signToken(secret, { ...ghost, role: 'integrator' }),
      signToken(secret, { ...ghost, role: 'customer', customerId: '7b0c7a4e-5c1d-4e2f-9a3b-000000000002' }),
    ];
    const person = { name: 'Nomvula Ghosttenant', email: 'nomvula.ghost@example.co.za', cell_number: '+27825550199' };
    const bodies: Record<string, object> = {
      '/customers': { ...person, users: [{ name: 'Sipho Ghostuser', email: 'sipho.ghost@example.co.za' }] },
      '/collectors': { name: 'Ghost Collections', purchase_sources: [{ name: 'Cash' }] },
      '/webhook-endpoints': { url: 'https://example.com/ghost-hooks' },
    };
    logLines.length = 0;
    for (const token of tokens) {
      for (const r of routes.filter((r) => r.secured)) {
        const path = fill(r.path, DEMO.services.recurringInArrears);
        const res = await h.call(r.method, path, { token, ...(r.hasBody ? { body: bodies[r.path] ?? person } : {}) });
        expect(res.status, `${r.method} ${r.path}: ${res.text.slice(0, 200)}`).toBe(401);
        expect(res.body).toEqual({ type: 'https://tools.ietf.org/html/rfc7235#section-3.1', title: 'Unauthorized', status: 401, detail: 'Unauthorized', instance: path });
        expect(res.headers['www-authenticate']).toBe('Bearer realm="payrail", error="invalid_token", error_description="unknown operator"');
      }
    }
    const log = logLines.join('');
    expect(log).toContain('"status":401');
    for (const secretText of ['Ghosttenant', 'nomvula.ghost', '5550199', 'Ghostuser', 'sipho.ghost', 'ghost-hooks', 'Ghost Collections']) expect(log).not.toContain(secretText);
    expect(log).not.toMatch(/"level":50/);
  });
});
