import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../test/helpers/harness.ts';
import { DEMO } from '../demo/ids.ts';

/**
 * Every route the OpenAPI document lists, called the way a careless or hostile client would: without a
 * token, and with junk in every path parameter, query parameter and body. The answer is always a
 * problem+json below 500 (or a success), never a crash.
 */
let h: Harness;
let routes: { method: string; path: string; secured: boolean; params: string[]; query: string[]; hasBody: boolean }[];
beforeAll(async () => {
  h = await createHarness();
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
});
