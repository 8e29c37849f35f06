import { createTelemetry } from './lib/telemetry.ts';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../test/helpers/harness.ts';
import { buildApp } from './app.ts';
import { DEMO } from './demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('platform', () => {
  it('reports health without a token', async () => {
    const res = await h.call('GET', '/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: h.ctx.database.kind });
  });

  it('reports 503 when the database is unreachable', async () => {
    const broken = await createHarness();
    await broken.ctx.database.close();
    try {
      const res = await broken.call('GET', '/health', { token: null });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'unavailable', database: broken.ctx.database.kind });
    } finally {
      await broken.app.close();
      await broken.close().catch(() => {}); // the database is closed already; the run's teardown drops it
    }
  });

  it('serves Prometheus metrics with request counts by route pattern, never by raw id', async () => {
    await h.call('GET', `/services/${DEMO.services.hybrid}`);
    const res = await h.call('GET', '/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/payrail_http_requests_total\{method="GET",route="\/services\/:id",status_code="200"\} \d+/);
    expect(res.text).toContain('payrail_http_request_duration_seconds_bucket');
    expect(res.text).not.toContain(DEMO.services.hybrid);
  });

  it('generates OpenAPI 3 from the route schemas, with every enum and its numbers documented', async () => {
    const res = await h.call('GET', '/openapi.json', { token: null });
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/payment-mediums',
      '/services/{id}/details-and-actions',
      '/active-payment-medium-for-service',
      '/default',
      '/purchases/sources',
      '/configurations/billingScheme/Product/{productId}',
      '/config',
      '/orders',
      '/products',
      '/customers',
      '/collectors',
      '/operator',
      '/services',
      '/purchases',
      '/payments',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths['/purchases/sources']).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/active-payment-medium-for-service'].put).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/config'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/health'].get.security).toBeUndefined();

    const details = doc.paths['/services/{id}/details-and-actions'].get.responses['200'].content['application/json'].schema;
    const purchase = details.properties.must_pay_info.anyOf?.[0]?.properties?.arrears_purchase ?? details.properties.must_pay_info.properties?.arrears_purchase;
    expect(purchase.properties.purchase_status_id.enum).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(purchase.properties.purchase_status_id.description).toContain('1 = Scheduled');
    expect(purchase.properties.purchase_status_id.description).toContain('6 = Quote');
    expect(purchase.properties.purchase_creation_event_id.description).toContain('7 = Utility vend');
    expect(purchase.properties.purchase_lines.items.properties.purchase_line_type_id.description).toContain('3 = Installation/Once-off');
    expect(details.properties.mediums.items.properties.medium_type.description).toContain('1 = BankAccount; 2 = CreditCard');
    expect(details.properties.service_type.description).toContain('1 = Recurring');
    expect(doc.paths['/services/{id}/details-and-actions'].get.responses['404'].content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
  });

  it('serves Swagger UI at /docs without a token', async () => {
    const res = await h.call('GET', '/docs', { token: null });
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui');
    const config = await h.call('GET', '/docs/json', { token: null });
    expect(config.status).toBe(200);
    expect(config.body.openapi).toMatch(/^3\./);
  });

  it('answers a method a known path does not take with 405 and Allow, and an unknown path with 404', async () => {
    const post = await h.call('POST', '/health', { token: null });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD, OPTIONS');
    expect(post.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(post.body).toMatchObject({ status: 405, title: 'Method Not Allowed', code: 'route.method_not_allowed', instance: '/health' });
    // A path with an id, and a trailing slash: the route's pattern, not the literal path.
    const service = `/services/${DEMO.services.recurringInArrears}/`;
    const put = await h.call('PUT', service, { token: h.tokens.integrator });
    expect(put.status).toBe(405);
    expect(put.headers['allow']).toBe('GET, HEAD, OPTIONS, PATCH');
    expect(put.body.detail).toBe(`${service} does not take PUT; it takes GET, HEAD, OPTIONS, PATCH.`);
    expect((await h.call('DELETE', '/services/nope/nothing-here', { token: h.tokens.integrator })).status).toBe(404);
    // The path as the router reads it: an escaped letter is that letter.
    const escaped = await h.call('DELETE', '/heal%74h', { token: null });
    expect([escaped.status, escaped.headers['allow']]).toEqual([405, 'GET, HEAD, OPTIONS']);
    // OPTIONS is answered with what the path takes.
    const options = await h.call('OPTIONS', '/health', { token: null });
    expect([options.status, options.headers['allow'], options.text]).toEqual([204, 'GET, HEAD, OPTIONS', '']);
    expect((await h.call('OPTIONS', '/nope', { token: null })).status).toBe(404);
  });

  it('answers unknown routes, unsupported media and oversized bodies with problem+json', async () => {
    const missing = await h.call('GET', '/nope', { token: null });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 404, code: 'route.not_found', instance: '/nope' });
    const before = (await h.call('GET', '/customers?limit=100', { token: h.tokens.integrator })).body.items.length;
    const unsupported = { status: 415, code: 'request.unsupported_media_type', detail: 'This endpoint takes application/json bodies.' };
    const xml = await h.call('POST', '/customers', { token: h.tokens.integrator, body: '<customer/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.status).toBe(415);
    expect(xml.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(xml.body).toMatchObject(unsupported);
    // JSON sent as text is not taken as a string ("body must be object"): the type is wrong, and said so.
    const text = await h.call('POST', '/customers', { token: h.tokens.integrator, body: '{"name":"As text"}', headers: { 'content-type': 'text/plain' } });
    expect(text.body).toMatchObject(unsupported);
    const multipart = await h.call('POST', '/customers', { token: h.tokens.integrator, body: '--x\r\n\r\n--x--', headers: { 'content-type': 'multipart/form-data; boundary=x' } });
    expect(multipart.body).toMatchObject(unsupported);
    const huge = await h.call('POST', '/customers', { token: h.tokens.integrator, body: JSON.stringify({ name: 'x'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ status: 413, code: 'request.body_too_large', detail: 'The body is too large.' });
    const proto = await h.call('POST', '/customers', { token: h.tokens.integrator, body: '{"name":"x","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } });
    expect(proto.status).toBe(400);
    expect(proto.body).toMatchObject({ code: 'request.invalid', detail: 'The body holds a "__proto__" or "constructor.prototype" key, which is refused.' });
    // No Fastify code names anywhere, and nothing was created.
    for (const res of [xml, text, multipart, huge, proto]) expect(res.text).not.toMatch(/fst_err/i);
    expect((await h.call('GET', '/customers?limit=100', { token: h.tokens.integrator })).body.items.length).toBe(before);
  });

  it('hands handlers the ids of a path or query in lower case, however the client wrote them', async () => {
    const id = '0A1B2C3D-4E5F-4A6B-8C7D-8E9FA0B1C2D3';
    const run = await h.call('GET', `/billing/runs/${id}`, { token: h.tokens.integrator });
    expect(run.status).toBe(404);
    expect(run.body.detail).toBe(`No billing run with id ${id.toLowerCase()}.`);
  });

  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    const mine = await h.call('GET', '/health', { token: null, headers: { 'x-request-id': 'trace-123' } });
    expect(mine.headers['x-request-id']).toBe('trace-123');
    const evil = await h.call('GET', '/health', { token: null, headers: { 'x-request-id': 'a\u0000b<script>' } });
    expect(evil.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('logs', () => {
  it('write one line per request and never the bearer token, ids in the query, or provider tokens', async () => {
    const logged: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged.push(String(chunk));
        done();
      },
    });
    const app = await buildApp({ ...h.ctx, telemetry: createTelemetry(), log: pino({ level: 'info' }, sink) });
    const token = h.tokens.integrator;
    await app.inject({ method: 'GET', url: `/payment-mediums?userId=${FIX.otherCustomer.userId}`, headers: { authorization: `Bearer ${token}` } });
    await app.inject({ method: 'GET', url: '/services/nope/details-and-actions', headers: { authorization: `Bearer ${token}` } });
    await app.inject({ method: 'GET', url: '/health', headers: { authorization: 'Bearer secret-looking-value-123' } });
    await app.close();
    const text = logged.join('');
    expect(logged.filter((l) => l.includes('"msg":"request"'))).toHaveLength(3);
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain('secret-looking-value-123');
    expect(text).not.toContain(FIX.otherCustomer.userId); // query strings stay out of the logs
    expect(text).not.toContain('other-customer-token');
    expect(JSON.parse(logged[0]!)).toMatchObject({ msg: 'request', method: 'GET', route: '/payment-mediums', path: '/payment-mediums', status: 200, sub: DEMO.integratorUserId, operator: DEMO.operatorId });
  });
});
