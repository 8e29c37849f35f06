import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('GET /default?mediumType= (Payment Service)', () => {
  it("names the operator's default provider for bank accounts (1) and cards (2)", async () => {
    expect((await h.call('GET', '/default?mediumType=1')).body).toEqual({ medium_type: 1, medium_type_name: 'BankAccount', provider: 'Debitsuccess', mandates: false });
    expect((await h.call('GET', '/default?mediumType=2')).body).toEqual({ medium_type: 2, medium_type_name: 'CreditCard', provider: 'PayFast', mandates: false });
    expect((await h.call('GET', '/default?mediumType=2', { token: h.tokens.otherOperatorCustomer })).body.provider).toBe('PeachPayments');
  });

  it.each(['', '?mediumType=3', '?mediumType=0', '?mediumType=CreditCard', '?mediumType=1.5'])('answers %s with 400', async (q) => {
    const res = await h.call('GET', `/default${q}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].name).toBe('query.mediumType');
  });
});

describe('GET /config', () => {
  it("is the token's operator's rules", async () => {
    const res = await h.call('GET', '/config');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      operator_id: DEMO.operatorId,
      operator_name: 'Net99',
      currency: 'ZAR',
      vat_rate: 15,
      payment_links_enabled: true,
      grace_days: 7,
      default_providers: { bank_account: 'Debitsuccess', credit_card: 'PayFast' },
      global_opaque_medium_id: 'aa8b416b-a7d9-4bc0-af81-041722e11ad4',
    });
    const other = await h.call('GET', '/config', { token: h.tokens.otherOperatorCustomer });
    expect(other.body).toMatchObject({ operator_id: FIX.otherOperator.operatorId, payment_links_enabled: false });
  });
});

describe('GET /configurations/billingScheme/Product/{productId}', () => {
  it('describes a Recurring product with its monthly price', async () => {
    const res = await h.call('GET', `/configurations/billingScheme/Product/${DEMO.products.recurring}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      product_id: DEMO.products.recurring,
      product_name: 'Monthly Recurring 20/10',
      billing_scheme: 'Recurring',
      billing_scheme_id: 1,
      billing_period: 'Monthly',
      default_collection_day: 15,
      auto_recharge: false,
    });
    expect(res.body.prices).toHaveLength(1);
    expect(res.body.prices[0]).toMatchObject({ id: DEMO.prices.monthly, purchase_line_type_id: 2, price_incl: 379, days_in_period: 30, tax_rate: 15, on_order: true, buy_now: true });
    expect(res.body.prices[0].amount_per_quantity).toBeCloseTo(329.5652173913, 9);
  });

  it('describes a HybridDayBundle product as auto-recharging', async () => {
    const res = await h.call('GET', `/configurations/billingScheme/Product/${DEMO.products.hybrid}`);
    expect(res.body).toMatchObject({ billing_scheme: 'HybridDayBundle', billing_scheme_id: 3, billing_period: 'Days', auto_recharge: true, auto_recharge_lead_days: 1 });
  });

  it("is 404 for another operator's product and 400 for a malformed id", async () => {
    expect((await h.call('GET', `/configurations/billingScheme/Product/${FIX.otherOperator.productId}`)).status).toBe(404);
    expect((await h.call('GET', '/configurations/billingScheme/Product/42')).status).toBe(400);
  });
});

describe('purchase sources (seed 000: POST /purchases/sources?collectorId=&offSystem=true)', () => {
  const seedList = [
    { id: DEMO.sources.cash, name: 'Cash' },
    { id: DEMO.sources.eft, name: 'EFT' },
    { id: DEMO.sources.paymentLink, name: 'Payment Link' },
    { id: DEMO.sources.shop2Shop, name: 'Shop 2 Shop' },
    { id: DEMO.sources.yoco, name: 'Yoco' },
  ];

  it('answers the POST as seed 000 documents it, and GET the same', async () => {
    const post = await h.call('POST', `/purchases/sources?collectorId=${DEMO.collectorId}&offSystem=true`, { token: h.tokens.integrator });
    expect(post.status).toBe(200);
    expect(post.body).toEqual(seedList);
    const get = await h.call('GET', `/purchases/sources?collectorId=${DEMO.collectorId.toUpperCase()}`);
    expect(get.body).toEqual(seedList);
  });

  it('filters by offSystem and leaves out inactive sources', async () => {
    const created = await h.call('POST', `/collectors/${DEMO.collectorId}/purchase-sources`, { token: h.tokens.integrator, body: { name: 'Debit order run', off_system: false } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Debit order run', off_system: false, active: true, collector_id: DEMO.collectorId });
    const onSystem = await h.call('GET', `/purchases/sources?collectorId=${DEMO.collectorId}&offSystem=false`);
    expect(onSystem.body).toEqual([{ id: created.body.id, name: 'Debit order run' }]);
    expect((await h.call('GET', `/purchases/sources?collectorId=${DEMO.collectorId}&offSystem=true`)).body).toEqual(seedList);
    expect((await h.call('GET', `/purchases/sources?collectorId=${DEMO.collectorId}`)).body).toHaveLength(6);
  });

  it('refuses a duplicate source name with 409', async () => {
    const dup = await h.call('POST', `/collectors/${DEMO.collectorId}/purchase-sources`, { token: h.tokens.admin, body: { name: 'Cash' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('purchase_source.exists');
  });

  it("is 400 without a collector or with a bad flag, 404 for another operator's collector", async () => {
    expect((await h.call('GET', '/purchases/sources')).status).toBe(400);
    expect((await h.call('GET', `/purchases/sources?collectorId=${DEMO.collectorId}&offSystem=maybe`)).status).toBe(400);
    expect((await h.call('POST', `/purchases/sources?collectorId=${FIX.otherOperator.collectorId}`)).status).toBe(404);
    expect((await h.call('POST', `/collectors/${FIX.otherOperator.collectorId}/purchase-sources`, { token: h.tokens.integrator, body: { name: 'X' } })).status).toBe(404);
  });

  it('does not let a customer add sources', async () => {
    const res = await h.call('POST', `/collectors/${DEMO.collectorId}/purchase-sources`, { body: { name: 'My own cash' } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('auth.forbidden');
  });
});
