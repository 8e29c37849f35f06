import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../../../test/helpers/config.ts';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const DETAILS = '/services/E14C231D-5899-44BE-B7A1-AA46893C8D83/details-and-actions';
const sign = (claims: Record<string, unknown>, opts: { key?: string; expiresIn?: number; algorithm?: 'HS256' | 'HS512' } = {}) =>
  createSigner({ key: opts.key ?? TEST_JWT_SECRET, algorithm: opts.algorithm ?? 'HS256', ...(opts.expiresIn === undefined ? {} : { expiresIn: opts.expiresIn }) })(claims);
const customerClaims = { sub: DEMO.customerUserId, operator_id: DEMO.operatorId, role: 'customer', customer_id: DEMO.customerId };

describe('authentication (SPEC §3)', () => {
  it("answers a request without a token with seed 000's 401 body, byte for byte in shape", async () => {
    const res = await h.call('POST', '/purchases/sources?collectorId=' + DEMO.collectorId, { token: null });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.text).toBe(
      '{"type":"https://tools.ietf.org/html/rfc7235#section-3.1","title":"Unauthorized","status":401,"detail":"Unauthorized","instance":"/purchases/sources"}',
    );
    expect(res.headers['www-authenticate']).toBe('Bearer realm="payrail"');
  });

  it.each([
    ['a malformed header', 'Token abc'],
    ['a garbage token', 'Bearer not-a-jwt-at-all'],
    ['a token signed with another key', `Bearer ${sign({ ...customerClaims }, { key: 'x'.repeat(40), expiresIn: 60_000 })}`],
    ['an expired token', `Bearer ${sign({ ...customerClaims, exp: Math.floor(Date.now() / 1000) - 10 })}`],
    ['a token without exp', `Bearer ${sign({ ...customerClaims })}`],
    ['an alg=none token', `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...customerClaims, exp: 9999999999 })).toString('base64url')}.`],
    ['an HS512 token', `Bearer ${sign({ ...customerClaims }, { algorithm: 'HS512', expiresIn: 60_000 })}`],
    ['a token with an unknown role', `Bearer ${sign({ ...customerClaims, role: 'superuser' }, { expiresIn: 60_000 })}`],
    ['a customer token without customer_id', `Bearer ${sign({ sub: DEMO.customerUserId, operator_id: DEMO.operatorId, role: 'customer' }, { expiresIn: 60_000 })}`],
    ['a token whose operator_id is not a uuid', `Bearer ${sign({ ...customerClaims, operator_id: "1' OR '1'='1" }, { expiresIn: 60_000 })}`],
  ])('refuses %s with the same 401 body', async (_what, authorization) => {
    const res = await h.call('GET', DETAILS, { token: null, headers: { authorization } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ type: 'https://tools.ietf.org/html/rfc7235#section-3.1', title: 'Unauthorized', status: 401, detail: 'Unauthorized', instance: DETAILS });
  });

  it('says why in WWW-Authenticate, never in the body', async () => {
    const expired = sign({ ...customerClaims, exp: Math.floor(Date.now() / 1000) - 10 });
    const res = await h.call('GET', DETAILS, { token: expired });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="payrail", error="invalid_token", error_description="token expired"');
  });

  it('accepts a valid token with the documented claims, whatever the case of "Bearer"', async () => {
    const token = sign(customerClaims, { expiresIn: 60_000 });
    expect((await h.call('GET', DETAILS, { token })).status).toBe(200);
    expect((await h.call('GET', DETAILS, { token: null, headers: { authorization: `bearer ${token}` } })).status).toBe(200);
  });
});

describe('tenant isolation', () => {
  it("gives a customer 404 for another customer's service, exactly as for one that does not exist", async () => {
    const foreign = await h.call('GET', `/services/${FIX.otherCustomer.serviceId}/details-and-actions`);
    const missing = await h.call('GET', '/services/00000000-0000-4000-8000-00000000ffff/details-and-actions');
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body.title).toBe(missing.body.title);
    expect(foreign.body.code).toBe('service.not_found');
    expect(foreign.body.detail).not.toMatch(/customer|belongs/i);
  });

  it("gives another operator's integrator 404 for Net99's services, and Net99's integrator 404 for theirs", async () => {
    expect((await h.call('GET', DETAILS, { token: h.tokens.otherOperatorIntegrator })).status).toBe(404);
    expect((await h.call('GET', `/services/${FIX.otherOperator.serviceId}/details-and-actions`, { token: h.tokens.integrator })).status).toBe(404);
    expect((await h.call('GET', `/services/${FIX.otherOperator.serviceId}`, { token: h.tokens.admin })).status).toBe(404);
  });

  it("lists only the customer's own services, whatever customerId they ask for", async () => {
    const own = await h.call('GET', '/services');
    expect(own.status).toBe(200);
    expect(own.body.items.map((s: { id: string }) => s.id).sort()).toEqual(
      [DEMO.services.recurringInArrears, DEMO.services.recurringPaidUp, DEMO.services.dayBundle, DEMO.services.hybrid, DEMO.services.electricity].sort(),
    );
    const other = await h.call('GET', `/services?customerId=${FIX.otherCustomer.customerId}`);
    expect(other.status).toBe(200);
    expect(other.body.items).toEqual([]);
  });

  it("lets an integrator list any of its operator's customers' services, and none of another operator's", async () => {
    const res = await h.call('GET', `/services?customerId=${FIX.otherCustomer.customerId}`, { token: h.tokens.integrator });
    expect(res.body.items.map((s: { id: string }) => s.id)).toEqual([FIX.otherCustomer.serviceId]);
    const foreign = await h.call('GET', `/services?customerId=${FIX.otherOperator.customerId}`, { token: h.tokens.integrator });
    expect(foreign.body.items).toEqual([]);
  });

  it("never shows another customer's medium in details-and-actions", async () => {
    const res = await h.call('GET', DETAILS);
    const ids = res.body.mediums.map((m: { medium_detail_id: string }) => m.medium_detail_id);
    expect(ids).not.toContain(FIX.otherCustomer.cardId);
    expect(ids).not.toContain(FIX.otherOperator.cardId);
  });
});
