import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { testConfig, TEST_JWT_SECRET } from '../../../test/helpers/config.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';
import { Secret } from '../../lib/secret.ts';
import { signToken } from '../../lib/tokens.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('sandbox sign-in and /me (the client interface’s sign-in)', () => {
  it('lists the users to sign in as, without a token', async () => {
    const res = await h.call('GET', '/sandbox/sign-in', { token: null });
    expect(res.status).toBe(200);
    const konstand = res.body.items.find((u: { user_id: string }) => u.user_id === DEMO.customerUserId);
    expect(konstand).toEqual({ user_id: DEMO.customerUserId, name: 'Konstand Nel', role: 'customer', customer_id: DEMO.customerId, operator_id: DEMO.operatorId, operator_name: 'Net99' });
    expect(res.body.items.find((u: { user_id: string }) => u.user_id === DEMO.integratorUserId)).toMatchObject({ role: 'integrator', customer_id: null });
  });

  it('signs in as the chosen user: the token is theirs and works on the API', async () => {
    const res = await h.call('POST', '/sandbox/sign-in', { token: null, body: { user_id: DEMO.customerUserId } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ user_id: DEMO.customerUserId, role: 'customer' });
    const hours = (Date.parse(res.body.expires_date) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const me = await h.call('GET', '/me', { token: res.body.token });
    expect(me.body).toEqual(res.body.user);
    const details = await h.call('GET', `/services/${DEMO.services.recurringInArrears}/details-and-actions`, { token: res.body.token });
    expect(details.status).toBe(200);
    // A customer's token sees only their own customer.
    expect((await h.call('GET', `/services/${FIX.otherCustomer.serviceId}`, { token: res.body.token })).status).toBe(404);
  });

  it('offers only the demo operator’s users, and refuses another operator’s user exactly like an unknown one', async () => {
    const res = await h.call('GET', '/sandbox/sign-in', { token: null });
    expect(res.status).toBe(200);
    const items = res.body.items as { user_id: string; operator_id: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.filter((u) => u.operator_id !== DEMO.operatorId)).toEqual([]);
    expect(items.map((u) => u.user_id)).toEqual(expect.arrayContaining([DEMO.customerUserId, DEMO.integratorUserId, DEMO.adminUserId, FIX.otherCustomer.userId]));
    expect(items.map((u) => u.user_id)).not.toContain(FIX.otherOperator.integratorUserId);

    const unknownId = '99999999-9999-4999-8999-999999999999';
    const unknown = await h.call('POST', '/sandbox/sign-in', { token: null, body: { user_id: unknownId } });
    for (const userId of [FIX.otherOperator.userId, FIX.otherOperator.integratorUserId]) {
      const other = await h.call('POST', '/sandbox/sign-in', { token: null, body: { user_id: userId } });
      expect(other.status).toBe(404);
      expect(other.headers['content-type']).toContain('application/problem+json');
      expect(other.body.token).toBeUndefined();
      // The same answer as for an id nobody has, but for the id itself.
      const same = (body: Record<string, unknown>, id: string) => JSON.parse(JSON.stringify(body).replaceAll(id, '<id>'));
      expect(same(other.body, userId)).toEqual(same(unknown.body, unknownId));
    }
  });

  it('refuses unknown and malformed users with a problem and signs nothing', async () => {
    const unknown = await h.call('POST', '/sandbox/sign-in', { token: null, body: { user_id: '99999999-9999-4999-8999-999999999999' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.body).toMatchObject({ code: 'user.not_found' });
    expect(unknown.body.token).toBeUndefined();
    for (const body of [{}, { user_id: 'a40efeb6' }, { user_id: DEMO.customerUserId, role: 'admin' }, []]) {
      const bad = await h.call('POST', '/sandbox/sign-in', { token: null, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.token).toBeUndefined();
    }
  });

  it('answers /me from the token’s claims for a user payrail has no record of, and 401 without a token', async () => {
    const stranger = signToken(new Secret(TEST_JWT_SECRET), { sub: '77777777-7777-4777-8777-777777777777', operatorId: DEMO.operatorId, role: 'integrator' });
    expect((await h.call('GET', '/me', { token: stranger })).body).toEqual({
      user_id: '77777777-7777-4777-8777-777777777777',
      name: null,
      role: 'integrator',
      customer_id: null,
      operator_id: DEMO.operatorId,
      operator_name: 'Net99',
    });
    // A token naming a real user of another operator does not borrow that user's record.
    const crossed = signToken(new Secret(TEST_JWT_SECRET), { sub: FIX.otherOperator.userId, operatorId: DEMO.operatorId, role: 'admin' });
    expect((await h.call('GET', '/me', { token: crossed })).body).toMatchObject({ name: null, role: 'admin', customer_id: null });
    const anonymous = await h.call('GET', '/me', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.status).toBe(401);
  });

  it('does not exist outside sandbox mode', async () => {
    const live = await createHarness({ config: testConfig({ PAYRAIL_SANDBOX: 'false' }) });
    try {
      expect((await live.call('GET', '/sandbox/sign-in', { token: null })).status).toBe(404);
      expect((await live.call('POST', '/sandbox/sign-in', { token: null, body: { user_id: DEMO.customerUserId } })).status).toBe(404);
      expect((await live.call('GET', '/me')).body).toMatchObject({ user_id: DEMO.customerUserId, name: 'Konstand Nel' });
    } finally {
      await live.close();
    }
  });
});

describe('what the client interface reads', () => {
  it('names each service’s product', async () => {
    const list = await h.call('GET', '/services');
    const names = Object.fromEntries(list.body.items.map((s: { id: string; product_name: string }) => [s.id, s.product_name]));
    expect(names[DEMO.services.recurringInArrears]).toBe((await h.call('GET', `/products/${DEMO.products.recurring}`, { token: h.tokens.integrator })).body.name);
    expect(Object.values(names).every((n) => typeof n === 'string' && n.length > 0)).toBe(true);
    expect((await h.call('GET', `/services/${DEMO.services.dayBundle}`)).body.product_name).toBe(names[DEMO.services.dayBundle]);
  });

  it('lists the payments of every purchase of a service, scoped like the service', async () => {
    const purchases = (await h.call('GET', `/purchases?serviceId=${DEMO.services.dayBundle}`)).body.items as { id: string }[];
    const res = await h.call('GET', `/payments?serviceId=${DEMO.services.dayBundle}`);
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    for (const p of res.body.items) expect(purchases.map((x) => x.id)).toContain(p.purchase_id);
    const perPurchase = (await Promise.all(purchases.map((p) => h.call('GET', `/payments?purchaseId=${p.id}`)))).flatMap((r) => r.body.items.map((p: { id: string }) => p.id));
    expect(res.body.items.map((p: { id: string }) => p.id).sort()).toEqual(perPurchase.sort());
    expect((await h.call('GET', `/payments?serviceId=${DEMO.services.recurringInArrears}`)).body.items).toEqual([]);

    expect((await h.call('GET', `/payments?serviceId=${FIX.otherCustomer.serviceId}`)).status).toBe(404);
    expect((await h.call('GET', `/payments?serviceId=${FIX.otherCustomer.serviceId}`, { token: h.tokens.otherOperatorIntegrator })).status).toBe(404);
    expect((await h.call('GET', `/payments?serviceId=${FIX.otherCustomer.serviceId}`, { token: h.tokens.integrator })).status).toBe(200);
    const both = await h.call('GET', `/payments?serviceId=${DEMO.services.dayBundle}&purchaseId=${purchases[0]!.id}`);
    expect(both.status).toBe(400);
    expect(both.body.code).toBe('request.invalid');
    expect((await h.call('GET', '/payments')).status).toBe(400);
    expect((await h.call('GET', '/payments?serviceId=nope')).status).toBe(400);
  });
});
