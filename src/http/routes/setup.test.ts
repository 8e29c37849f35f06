import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const staff = () => ({ token: h.tokens.integrator });

describe('collectors', () => {
  it('creates a collector with its purchase sources and lists it', async () => {
    const res = await h.call('POST', '/collectors', { ...staff(), body: { name: 'Net99 North', purchase_sources: [{ name: 'Cash' }, { name: 'EFT', off_system: true }] } });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Net99 North');
    expect(res.body.purchase_sources.map((s: { name: string }) => s.name).sort()).toEqual(['Cash', 'EFT']);
    const one = await h.call('GET', `/collectors/${res.body.id}`, staff());
    expect(one.body).toEqual(res.body);
    const list = await h.call('GET', '/collectors?limit=100', staff());
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([res.body.id, DEMO.collectorId]));
    expect(list.body.items.map((c: { id: string }) => c.id)).not.toContain(FIX.otherOperator.collectorId);
  });

  it('refuses duplicate source names within the request, unknown fields and customers', async () => {
    const dup = await h.call('POST', '/collectors', { ...staff(), body: { name: 'Dup', purchase_sources: [{ name: 'Cash' }, { name: 'Cash' }] } });
    expect(dup.status).toBe(409);
    expect((await h.call('GET', '/collectors?limit=100', staff())).body.items.map((c: { name: string }) => c.name)).not.toContain('Dup');
    expect((await h.call('POST', '/collectors', { ...staff(), body: { name: 'X', owner: 'me' } })).status).toBe(400);
    expect((await h.call('POST', '/collectors', { body: { name: 'X' } })).status).toBe(403);
    expect((await h.call('GET', `/collectors/${FIX.otherOperator.collectorId}`, staff())).status).toBe(404);
  });
});

describe('products', () => {
  it('creates a DayBundle product with its prices', async () => {
    const res = await h.call('POST', '/products', {
      ...staff(),
      body: {
        name: 'Weekend bundle',
        billing_scheme: 'DayBundle',
        prices: [
          { description: '2 Day bundle', purchase_line_type_id: 1, price_incl: 5.75, period_contribution_per_quantity: 2, on_order: true, buy_now: true },
          { description: 'Installation', purchase_line_type_id: 3, price_incl: 999, on_order: true },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Weekend bundle', billing_scheme: 'DayBundle', auto_recharge: false, active: true });
    expect(res.body.prices[0]).toMatchObject({ description: '2 Day bundle', price_incl: 5.75, amount_per_quantity: 5, tax_rate: 15, period_contribution_per_quantity: 2, max_quantity: 52 });
    expect(res.body.prices[1]).toMatchObject({ purchase_line_type_id: 3, price_incl: 999, buy_now: false });
    expect((await h.call('GET', `/products/${res.body.id}`)).body).toEqual(res.body);
  });

  it('makes HybridDayBundle products auto-recharge', async () => {
    const res = await h.call('POST', '/products', {
      ...staff(),
      body: { name: 'Hybrid 7', billing_scheme: 'HybridDayBundle', auto_recharge_lead_days: 2, prices: [{ description: '7 Day', purchase_line_type_id: 1, price_incl: 70, period_contribution_per_quantity: 7, on_order: true, buy_now: true }] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ auto_recharge: true, auto_recharge_lead_days: 2 });
  });

  it.each([
    ['a price with three decimals', { name: 'P', billing_scheme: 'DayBundle', prices: [{ description: 'x', purchase_line_type_id: 1, price_incl: 1.005, period_contribution_per_quantity: 1 }] }, 400, 'body.prices[0].price_incl'],
    ['a zero price', { name: 'P', billing_scheme: 'DayBundle', prices: [{ description: 'x', purchase_line_type_id: 1, price_incl: 0, period_contribution_per_quantity: 1 }] }, 400, 'body.prices[0].price_incl'],
    ['an unknown scheme', { name: 'P', billing_scheme: 'Yearly', prices: [{ description: 'x', purchase_line_type_id: 1, price_incl: 1, period_contribution_per_quantity: 1 }] }, 400, 'body.billing_scheme'],
    ['a line type that does not exist', { name: 'P', billing_scheme: 'DayBundle', prices: [{ description: 'x', purchase_line_type_id: 9, price_incl: 1 }] }, 400, 'body.prices[0].purchase_line_type_id'],
    ['no prices', { name: 'P', billing_scheme: 'DayBundle', prices: [] }, 400, 'body.prices'],
    ['a Recurring product without a monthly price', { name: 'P', billing_scheme: 'Recurring', prices: [{ description: 'x', purchase_line_type_id: 1, price_incl: 1, period_contribution_per_quantity: 1 }] }, 422, 'body.prices'],
    ['a monthly price without days_in_period', { name: 'P', billing_scheme: 'Recurring', prices: [{ description: 'm', purchase_line_type_id: 2, price_incl: 100 }] }, 422, 'body.prices[0].days_in_period'],
    ['a monthly price on a DayBundle', { name: 'P', billing_scheme: 'DayBundle', prices: [{ description: 'm', purchase_line_type_id: 2, price_incl: 100, days_in_period: 30 }] }, 422, 'body.prices[0].purchase_line_type_id'],
    ['a day price that adds no days', { name: 'P', billing_scheme: 'DayBundle', prices: [{ description: 'd', purchase_line_type_id: 1, price_incl: 10 }] }, 422, 'body.prices[0].period_contribution_per_quantity'],
    ['a once-off charge offered for buy-now', { name: 'P', billing_scheme: 'DayBundle', prices: [{ description: 'i', purchase_line_type_id: 3, price_incl: 10, buy_now: true }] }, 422, 'body.prices[0].buy_now'],
    ['a collection day on a DayBundle', { name: 'P', billing_scheme: 'DayBundle', default_collection_day: 3, prices: [{ description: 'd', purchase_line_type_id: 1, price_incl: 10, period_contribution_per_quantity: 1 }] }, 422, 'body.default_collection_day'],
  ])('refuses %s (%i) and creates nothing', async (_what, body, status, field) => {
    const before = (await h.call('GET', '/products?limit=100')).body.items.length;
    const res = await h.call('POST', '/products', { ...staff(), body });
    expect(res.status).toBe(status);
    expect(res.body.errors.map((e: { name: string }) => e.name)).toContain(field);
    expect((await h.call('GET', '/products?limit=100')).body.items.length).toBe(before);
  });

  it("lists only the operator's products", async () => {
    const res = await h.call('GET', '/products?limit=100', { token: h.tokens.otherOperatorIntegrator });
    expect(res.body.items.map((p: { id: string }) => p.id)).toEqual([FIX.otherOperator.productId]);
  });
});

describe('customers and users', () => {
  it('creates a customer with a user who can then be given a token', async () => {
    const res = await h.call('POST', '/customers', { ...staff(), body: { name: 'Thandi M', email: 'thandi@example.co.za', cell_number: '+27831234567', users: [{ name: 'Thandi' }] } });
    expect(res.status).toBe(201);
    expect(res.body.customer).toMatchObject({ name: 'Thandi M', email: 'thandi@example.co.za', cell_number: '+27831234567' });
    expect(res.body.users[0]).toMatchObject({ name: 'Thandi', role: 'customer', customer_id: res.body.customer.id });
    const added = await h.call('POST', `/customers/${res.body.customer.id}/users`, { ...staff(), body: { name: 'Sipho', email: 'sipho@example.co.za' } });
    expect(added.status).toBe(201);
    expect((await h.call('GET', `/customers/${res.body.customer.id}/users`, staff())).body).toHaveLength(2);
  });

  it('lets a customer read themself but no one else', async () => {
    expect((await h.call('GET', `/customers/${DEMO.customerId}`)).body.name).toBe('Konstand Nel');
    expect((await h.call('GET', `/customers/${FIX.otherCustomer.customerId}`)).status).toBe(404);
    expect((await h.call('GET', `/customers/${FIX.otherCustomer.customerId}/users`)).status).toBe(404);
    expect((await h.call('GET', '/customers')).status).toBe(403);
    expect((await h.call('GET', `/customers/${DEMO.customerId}`, { token: h.tokens.otherOperatorIntegrator })).status).toBe(404);
  });

  it('refuses bad emails, a taken id and users for unknown customers', async () => {
    expect((await h.call('POST', '/customers', { ...staff(), body: { name: 'X', email: 'not an email' } })).status).toBe(400);
    expect((await h.call('POST', '/customers', { ...staff(), body: { id: DEMO.customerId, name: 'Copy' } })).status).toBe(409);
    // An id taken in another operator is a conflict too, and says nothing about whose it is.
    const foreign = await h.call('POST', '/customers', { ...staff(), body: { id: FIX.otherOperator.customerId, name: 'Copy' } });
    expect(foreign.status).toBe(409);
    expect(foreign.text).not.toContain('Other ISP');
    expect((await h.call('POST', `/customers/${FIX.otherOperator.customerId}/users`, { ...staff(), body: { name: 'Y' } })).status).toBe(404);
  });
});

describe('POST /orders', () => {
  it('creates a Recurring service with its pro-rata upfront purchase and the customer’s off-system and payment-link mediums', async () => {
    const customer = await h.call('POST', '/customers', { ...staff(), body: { name: 'New Order', email: 'new@example.co.za' } });
    const today = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 10);
    const res = await h.call('POST', '/orders', {
      ...staff(),
      body: { customer_id: customer.body.customer.id, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 15, order_date: '2026-11-06' },
    });
    expect(res.status).toBe(201);
    expect(res.body.service).toMatchObject({ customer_id: customer.body.customer.id, service_type: 'Recurring', service_status: 'PendingIspApplication', billing_status: 'InArrears', collection_day: 15, active_medium_id: null });
    const p = res.body.upfront_purchase;
    // 6 → 15 November is 9 days at R379/30 a day: R113.70, of which R98.87 excl (113.70 / 1.15 = 98.869…)
    expect(p).toMatchObject({ amount: 113.7, amount_excl: 98.87, tax_amount: 14.83, purchase_status_id: 3, purchase_creation_event_id: 1, purchase_plan_id: res.body.service.plan_id });
    expect(p.purchase_lines[0]).toMatchObject({ description: 'On Order/Upfront Monthly', quantity: 9, total_amount: 113.7, purchase_line_type_id: 1, period_contribution_per_quantity: 1, product_price_id: DEMO.prices.monthly });
    expect(res.body.created_mediums.map((m: { medium_type: string }) => m.medium_type).sort()).toEqual(['OffSystem', 'PaymentLink']);
    expect(res.body.created_mediums.find((m: { medium_type: string }) => m.medium_type === 'PaymentLink').account_name).toBe('new@example.co.za');
    expect(today).toMatch(/^\d{4}-/);

    const details = await h.call('GET', `/services/${res.body.service.id}/details-and-actions`, staff());
    expect(details.body.must_pay_info.arrears_purchase.id).toBe(p.id);
    expect(details.body.mediums.map((m: { medium_type: string }) => m.medium_type).sort()).toEqual(['OffSystem', 'PaymentLink', 'ProviderSelectedOpaque']);

    // A second order for the same customer reuses their mediums.
    const second = await h.call('POST', '/orders', { ...staff(), body: { customer_id: customer.body.customer.id, product_id: DEMO.products.dayBundle, collector_id: DEMO.collectorId } });
    expect(second.status).toBe(201);
    expect(second.body.created_mediums).toEqual([]);
    expect(second.body.upfront_purchase).toMatchObject({ amount: 11.5, amount_excl: 10, tax_amount: 1.5 });
    expect(second.body.service.collection_day).toBeNull();
  });

  it('uses the product’s default collection day and lets the client choose the service id', async () => {
    const id = '44444444-4444-4444-8444-444444444401';
    const res = await h.call('POST', '/orders', { ...staff(), body: { service_id: id, customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
    expect(res.status).toBe(201);
    expect(res.body.service).toMatchObject({ id, collection_day: 15 });
    const again = await h.call('POST', '/orders', { ...staff(), body: { service_id: id, customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('service.exists');
  });

  it.each([
    ['an unknown customer', { customer_id: '00000000-0000-4000-8000-00000000ffff' }, 422, 'body.customer_id'],
    ["another operator's customer", { customer_id: FIX.otherOperator.customerId }, 422, 'body.customer_id'],
    ["another operator's product", { product_id: FIX.otherOperator.productId }, 422, 'body.product_id'],
    ['an unknown collector', { collector_id: FIX.otherOperator.collectorId }, 422, 'body.collector_id'],
    ['a collection day on a DayBundle', { product_id: DEMO.products.dayBundle, collection_day: 5 }, 422, 'body.collection_day'],
    ['collection day 32', { collection_day: 32 }, 400, 'body.collection_day'],
    ['an impossible order date', { order_date: '2026-02-30' }, 422, 'body.order_date'],
    ['an order date years away', { order_date: '2031-01-01' }, 422, 'body.order_date'],
    ['a missing product', { product_id: undefined }, 400, 'body.product_id'],
    ['an unknown field', { discount: 50 }, 400, 'body.discount'],
  ])('refuses %s (%i) and creates nothing', async (_what, change, status, field) => {
    const count = async () => (await h.ctx.database.query<{ n: number }>('SELECT count(*)::int AS n FROM services'))[0]!.n;
    const before = await count();
    const body = { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, ...change };
    const res = await h.call('POST', '/orders', { ...staff(), body });
    expect(res.status).toBe(status);
    expect(res.body.errors.map((e: { name: string }) => e.name)).toContain(field);
    expect(await count()).toBe(before);
  });

  it('is for staff only', async () => {
    const res = await h.call('POST', '/orders', { body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('This operation is for integrator or admin users; you are signed in as a customer.');
    // The article follows the role: "an integrator", "an admin".
    const operatorSettings = await h.call('PATCH', '/operator', { token: h.tokens.integrator, body: { grace_days: 7 } });
    expect(operatorSettings.status).toBe(403);
    expect(operatorSettings.body.detail).toMatch(/; you are signed in as an integrator\.$/);
  });
});
