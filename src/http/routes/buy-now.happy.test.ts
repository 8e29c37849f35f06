import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

// Seed 000's two buy-now payloads, verbatim. Their purchase_date is in 2024, so the clock stands just after it.
const DAY_BUNDLE_PAYLOAD = {
  service_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  purchase_lines: [
    {
      id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
      purchase_line_type_id: 1,
      description: '7 Day bundle',
      total_amount: 34.50,
      amount_per_quantity: 10,
      net_amount_excl: 30,
      tax_rate: 15,
      tax_amount: 4.50,
      quantity: 3,
      period_contribution_per_quantity: 7,
      product_price_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
    },
  ],
  customer_statement_ref: 'string',
  purchase_date: '2024-06-06T11:00:31.338Z',
};

const RECURRING_PAYLOAD = {
  customer_statement_ref: '',
  purchase_date: '2024-11-26T09:33:07.601Z',
  purchase_lines: [
    {
      description: 'Monthly Recurring 20/10',
      amount_per_quantity: 10.985506666666668,
      amount_per_quantity_incl: 12.633333333333333,
      net_amount_excl: 867.8550266666667,
      purchase_line_type_id: 1,
      total_amount: 1000,
      tax_rate: 15,
      tax_amount: 132.14497333333327,
      quantity: 79,
      period_contribution_per_quantity: 1,
    },
  ],
  service_id: '2afddac4-dfd8-40e6-ba4c-250b4926a4a8',
  purchase_source_id: 'e8cc35b7-192c-412e-9f1f-755c9835a0e8',
  comment: 'Test comment',
};

/** The keys of seed 000's response, in its order. */
const PURCHASE_KEYS = [
  'id', 'service_id', 'amount_excl', 'tax_amount', 'amount', 'medium_id', 'purchase_date', 'purchase_status_id', 'payment_reference',
  'small_key', 'purchase_plan_id', 'period_applied', 'purchase_source_id', 'purchase_creation_event_id', 'purchase_lines',
];
const LINE_KEYS = [
  'id', 'purchase_id', 'original_purchase_line_id', 'purchase_line_type_id', 'description', 'total_amount', 'amount_per_quantity',
  'net_amount_excl', 'tax_rate', 'tax_amount', 'quantity', 'period_contribution_per_quantity', 'product_price_id',
];

let h: Harness;
let now = new Date('2024-11-26T09:33:10Z');
beforeAll(async () => {
  h = await createHarness({ clock: () => now });
});
afterAll(() => h.close());

describe('POST /purchases/buy-now (seed 000)', () => {
  it("creates seed 000's recurring quote: R1000 at R379 a month buys 79 days, 867.86 + 132.14", async () => {
    now = new Date('2024-11-26T09:33:10Z');
    const res = await h.call('POST', '/purchases/buy-now', { body: RECURRING_PAYLOAD });
    expect(res.status, res.text).toBe(201);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const p = res.body;
    expect(Object.keys(p)).toEqual(PURCHASE_KEYS);
    expect(p).toMatchObject({
      service_id: DEMO.services.recurringPaidUp,
      amount_excl: 867.86,
      tax_amount: 132.14,
      amount: 1000,
      medium_id: null,
      purchase_date: '2024-11-26T09:33:07.601Z',
      purchase_status_id: 6,
      payment_reference: null,
      purchase_plan_id: DEMO.plans.recurringPaidUp,
      period_applied: false,
      purchase_source_id: DEMO.sources.paymentLink,
      purchase_creation_event_id: 6,
    });
    expect(Number.isInteger(p.small_key)).toBe(true);
    expect(p.purchase_lines).toHaveLength(1);
    const line = p.purchase_lines[0];
    expect(Object.keys(line)).toEqual(LINE_KEYS);
    expect(line).toMatchObject({
      purchase_id: p.id,
      original_purchase_line_id: null,
      purchase_line_type_id: 1,
      description: 'Monthly Recurring 20/10',
      total_amount: 1000,
      tax_rate: 15,
      quantity: 79,
      period_contribution_per_quantity: 1,
      // The seed writes the nil uuid here; payrail names the monthly price the days were bought from.
      product_price_id: DEMO.prices.monthly,
    });
    expect(line.id).not.toBe(p.id);
    // Exact: 379/30/1.15 a day. The seed removes VAT with a rounded factor (× 0.86956), so it agrees to 5.3e-8.
    expect(line.amount_per_quantity).toBe(10.985507246376812);
    expect(line.net_amount_excl).toBe(867.8550724637681);
    expect(line.tax_amount).toBe(132.14492753623188);
    expect(line.amount_per_quantity).toBeCloseTo(10.985506666666668, 5);
    expect(line.net_amount_excl).toBeCloseTo(867.8550266666667, 3);
    expect(line.tax_amount).toBeCloseTo(132.14497333333327, 3);
  });

  it("creates seed 000's day-bundle quote: 3 × the 7-day bundle at R11.50", async () => {
    now = new Date('2024-06-06T11:01:00Z');
    const res = await h.call('POST', '/purchases/buy-now', { body: DAY_BUNDLE_PAYLOAD });
    expect(res.status, res.text).toBe(201);
    const p = res.body;
    expect(Object.keys(p)).toEqual(PURCHASE_KEYS);
    expect(p).toMatchObject({
      service_id: DEMO.services.dayBundle,
      amount_excl: 30,
      tax_amount: 4.5,
      amount: 34.5,
      medium_id: null,
      purchase_date: '2024-06-06T11:00:31.338Z',
      purchase_status_id: 6,
      purchase_plan_id: DEMO.plans.dayBundle,
      period_applied: false,
      purchase_source_id: null,
      purchase_creation_event_id: 6,
    });
    expect(p.purchase_lines).toEqual([
      {
        id: expect.any(String),
        purchase_id: p.id,
        original_purchase_line_id: null,
        purchase_line_type_id: 1,
        description: '7 Day bundle',
        total_amount: 34.5,
        amount_per_quantity: 10,
        net_amount_excl: 30,
        tax_rate: 15,
        tax_amount: 4.5,
        quantity: 3,
        period_contribution_per_quantity: 7,
        product_price_id: DEMO.prices.bundle7Day,
      },
    ]);
    // The payload's line id is Swagger's placeholder (it is also the service's id): the server gives its own.
    expect(p.purchase_lines[0].id).not.toBe(DAY_BUNDLE_PAYLOAD.purchase_lines[0]!.id);
  });

  it('lists the quote with the service’s purchases, with its statement reference and comment', async () => {
    now = new Date('2024-11-26T09:33:10Z');
    const created = (await h.call('POST', '/purchases/buy-now', { body: RECURRING_PAYLOAD })).body;
    const list = await h.call('GET', `/purchases?serviceId=${DEMO.services.recurringPaidUp}`);
    expect(list.status).toBe(200);
    const listed = list.body.items.find((p: { id: string }) => p.id === created.id);
    expect(listed).toEqual({ ...created, customer_statement_ref: '', comment: 'Test comment' });
    const one = await h.call('GET', `/purchases/${created.id}`, { token: h.tokens.integrator });
    expect(one.body).toEqual(listed);
  });

  it('keeps details-and-actions as it was: a quote is not owed, so can_buy_info stays and must_pay_info stays null', async () => {
    now = new Date('2024-06-06T11:01:00Z');
    const before = (await h.call('GET', `/services/${DEMO.services.dayBundle}/details-and-actions`)).body;
    expect((await h.call('POST', '/purchases/buy-now', { body: DAY_BUNDLE_PAYLOAD })).status).toBe(201);
    const after = (await h.call('GET', `/services/${DEMO.services.dayBundle}/details-and-actions`)).body;
    expect(after.must_pay_info).toBeNull();
    expect(after.last_purchase_is_pending).toBe(false);
    expect(after.can_buy_info).toEqual(before.can_buy_info);
    expect(after.can_buy_info.options.map((o: { description: string }) => o.description)).toContain('7 Day bundle');
  });

  it('lets an integrator and an admin buy for any service of the operator, and records who did', async () => {
    now = new Date('2024-11-26T09:33:10Z');
    const byIntegrator = await h.call('POST', '/purchases/buy-now', { token: h.tokens.integrator, body: RECURRING_PAYLOAD });
    expect(byIntegrator.status).toBe(201);
    const byAdmin = await h.call('POST', '/purchases/buy-now', { token: h.tokens.admin, body: { ...RECURRING_PAYLOAD, service_id: RECURRING_PAYLOAD.service_id.toUpperCase() } });
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body.service_id).toBe(DEMO.services.recurringPaidUp);

    const audit = await h.call('GET', `/audit-events?entityId=${byIntegrator.body.id}`, { token: h.tokens.integrator });
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        entity_type: 'purchase',
        action: 'purchase.created',
        to_state: '6',
        actor_id: DEMO.integratorUserId,
        actor_role: 'integrator',
        data: { amount_cents: 100000, creation_event_id: 6, service_id: DEMO.services.recurringPaidUp },
      }),
    ]);
  });

  it('prices any amount and any bundle choice itself: R12.64 buys one day, 52 × 7-day bundles is the most', async () => {
    now = new Date('2030-01-01T00:00:00Z');
    const oneDay = await h.call('POST', '/purchases/buy-now', {
      body: {
        service_id: DEMO.services.recurringPaidUp,
        purchase_lines: [
          { purchase_line_type_id: 1, description: 'x', total_amount: 12.64, amount_per_quantity: 10.985507246376812, net_amount_excl: 10.99, tax_rate: 15, tax_amount: 1.65, quantity: 1, period_contribution_per_quantity: 1, product_price_id: null },
        ],
      },
    });
    expect(oneDay.status, oneDay.text).toBe(201);
    expect(oneDay.body).toMatchObject({ amount: 12.64, amount_excl: 10.99, tax_amount: 1.65, purchase_date: '2030-01-01T00:00:00.000Z' });

    const bundles = await h.call('POST', '/purchases/buy-now', {
      body: {
        service_id: DEMO.services.dayBundle,
        purchase_lines: [
          { purchase_line_type_id: 1, description: '7 Day bundle', total_amount: 598, amount_per_quantity: 10, amount_per_quantity_incl: 11.5, net_amount_excl: 520, tax_rate: 15, tax_amount: 78, quantity: 52, period_contribution_per_quantity: 7, product_price_id: DEMO.prices.bundle7Day.toUpperCase() },
          { purchase_line_type_id: 1, description: '1 Day bundle', total_amount: 4.6, amount_per_quantity: 2, net_amount_excl: 4, tax_rate: 15, tax_amount: 0.6, quantity: 2, period_contribution_per_quantity: 1, product_price_id: DEMO.prices.bundle1Day },
        ],
      },
    });
    expect(bundles.status, bundles.text).toBe(201);
    expect(bundles.body).toMatchObject({ amount: 602.6, amount_excl: 524, tax_amount: 78.6 });
    expect(bundles.body.purchase_lines.map((l: { quantity: number }) => l.quantity)).toEqual([52, 2]);
  });
});
