import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

// A recurring buy-now of R1000 (seed 000's figures) for any service, dated now.
const months = (serviceId: string) => ({
  service_id: serviceId,
  purchase_lines: [
    {
      purchase_line_type_id: 1,
      description: 'Monthly Recurring 20/10',
      total_amount: 1000,
      amount_per_quantity: 10.985506666666668,
      net_amount_excl: 867.8550266666667,
      tax_rate: 15,
      tax_amount: 132.14497333333327,
      quantity: 79,
      period_contribution_per_quantity: 1,
    },
  ],
});

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  // Settle the other tenants' upfront purchases, so that only ownership stands between them and a quote.
  await h.ctx.database.query(`UPDATE purchases SET status_id = 4, paid_at = now() WHERE service_id = ANY($1::uuid[]) AND status_id = 3`, [
    [FIX.otherCustomer.serviceId, FIX.otherOperator.serviceId],
  ]);
});
afterAll(() => h.close());

const countPurchases = async () => (await h.ctx.database.query<{ n: number }>('SELECT count(*)::int AS n FROM purchases'))[0]!.n;
const buy = (body: unknown, token: string | null) => h.call('POST', '/purchases/buy-now', { token, body });

describe('buy-now: who may buy for which service', () => {
  it("answers a request without a token with seed 000's 401 body", async () => {
    const res = await buy(months(DEMO.services.recurringPaidUp), null);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ type: 'https://tools.ietf.org/html/rfc7235#section-3.1', title: 'Unauthorized', status: 401, detail: 'Unauthorized', instance: '/purchases/buy-now' });
  });

  it("gives a customer 404 for another customer's service, exactly as for one that does not exist, and creates nothing", async () => {
    const before = await countPurchases();
    const foreign = await buy(months(FIX.otherCustomer.serviceId), h.tokens.customer);
    const missing = await buy(months('00000000-0000-4000-8000-00000000ffff'), h.tokens.customer);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(foreign.body.code).toBe('service.not_found');
    expect({ ...foreign.body, detail: undefined }).toEqual({ ...missing.body, detail: undefined });
    expect(foreign.body.detail).not.toMatch(/customer|belongs|owner/i);
    // …and the other customer cannot buy for the demo customer's service either.
    expect((await buy(months(DEMO.services.recurringPaidUp), h.tokens.otherCustomer)).status).toBe(404);
    expect(await countPurchases()).toBe(before);
  });

  it("gives another operator's customer and integrator 404 for Net99's services, and Net99's staff 404 for theirs", async () => {
    const before = await countPurchases();
    expect((await buy(months(DEMO.services.recurringPaidUp), h.tokens.otherOperatorCustomer)).status).toBe(404);
    expect((await buy(months(DEMO.services.recurringPaidUp), h.tokens.otherOperatorIntegrator)).status).toBe(404);
    expect((await buy(months(FIX.otherOperator.serviceId), h.tokens.integrator)).status).toBe(404);
    expect((await buy(months(FIX.otherOperator.serviceId), h.tokens.admin)).status).toBe(404);
    expect(await countPurchases()).toBe(before);
  });

  it('lets the owners buy: the other customer for their own service, Net99 staff for it too, on the service’s customer', async () => {
    const own = await buy(months(FIX.otherCustomer.serviceId), h.tokens.otherCustomer);
    expect(own.status, own.text).toBe(201);
    const staff = await buy(months(FIX.otherCustomer.serviceId), h.tokens.integrator);
    expect(staff.status).toBe(201);
    // The quote belongs to the service's customer, whoever created it: they see it, the demo customer does not.
    expect((await h.call('GET', `/purchases/${staff.body.id}`, { token: h.tokens.otherCustomer })).status).toBe(200);
    expect((await h.call('GET', `/purchases/${staff.body.id}`, { token: h.tokens.customer })).status).toBe(404);
    // The other operator prices with its own product (R499 a month): R1000 buys 60 days there.
    const theirs = await buy(
      {
        service_id: FIX.otherOperator.serviceId,
        purchase_lines: [{ ...months('').purchase_lines[0], amount_per_quantity: 499 / 30 / 1.15, net_amount_excl: (60 * 499) / 30 / 1.15, tax_amount: 1000 - (60 * 499) / 30 / 1.15, quantity: 60 }],
      },
      h.tokens.otherOperatorIntegrator,
    );
    expect(theirs.status, theirs.text).toBe(201);
    expect(theirs.body).toMatchObject({ amount: 1000, amount_excl: 867.83, tax_amount: 132.17, purchase_lines: [{ quantity: 60 }] });
  });

  it('never trusts a customer with a price, even for their own service', async () => {
    const before = await countPurchases();
    const res = await buy({ ...months(DEMO.services.recurringPaidUp), purchase_lines: [{ ...months('').purchase_lines[0], quantity: 366 }] }, h.tokens.customer);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('purchase.price_mismatch');
    expect(await countPurchases()).toBe(before);
  });
});

describe('buy-now: replays and hostile bodies', () => {
  it('creates one quote for a retried request with the same Idempotency-Key, and refuses the key with another body', async () => {
    const before = await countPurchases();
    const headers = { 'idempotency-key': 'buy-now-retry-1' };
    const body = months(DEMO.services.recurringPaidUp);
    const first = await h.call('POST', '/purchases/buy-now', { body, headers });
    const again = await h.call('POST', '/purchases/buy-now', { body, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await countPurchases()).toBe(before + 1);
    const other = await h.call('POST', '/purchases/buy-now', { body: { ...body, purchase_lines: [{ ...body.purchase_lines[0], quantity: 78 }] }, headers });
    expect(other.status).toBe(422);
    expect(await countPurchases()).toBe(before + 1);
  });

  it('refuses prototype pollution and NUL characters with 400, creating nothing', async () => {
    const before = await countPurchases();
    const text = JSON.stringify(months(DEMO.services.recurringPaidUp));
    for (const payload of [text.replace('{', '{"__proto__":{"isAdmin":true},'), text.replace('{', '{"comment":"a\\u0000b",')]) {
      const res = await h.call('POST', '/purchases/buy-now', { body: payload, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    }
    expect(await countPurchases()).toBe(before);
  });

  it('keeps what it stores to the server’s figures: the client’s description and line id are not used', async () => {
    const body = months(DEMO.services.recurringPaidUp);
    const res = await buy({ ...body, purchase_lines: [{ ...body.purchase_lines[0], description: '<script>alert(1)</script>', id: DEMO.purchases.arrearsLine }] }, h.tokens.customer);
    expect(res.status, res.text).toBe(201);
    expect(res.body.purchase_lines[0].description).toBe('Monthly Recurring 20/10');
    expect(res.body.purchase_lines[0].id).not.toBe(DEMO.purchases.arrearsLine);
  });
});
