import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

const NOW = new Date('2024-11-26T09:33:10Z');

// Seed 000's payloads (the clock stands just after their purchase_date).
const bundleLine = () => ({
  id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  purchase_line_type_id: 1,
  description: '7 Day bundle',
  total_amount: 34.5,
  amount_per_quantity: 10,
  net_amount_excl: 30,
  tax_rate: 15,
  tax_amount: 4.5,
  quantity: 3,
  period_contribution_per_quantity: 7,
  product_price_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
});
const bundle = (line: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  service_id: DEMO.services.dayBundle,
  purchase_lines: [{ ...bundleLine(), ...line }],
  customer_statement_ref: 'string',
  purchase_date: '2024-11-26T09:33:07.601Z',
  ...extra,
});
const monthsLine = () => ({
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
});
const months = (line: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  customer_statement_ref: '',
  purchase_date: '2024-11-26T09:33:07.601Z',
  purchase_lines: [{ ...monthsLine(), ...line }],
  service_id: DEMO.services.recurringPaidUp,
  purchase_source_id: DEMO.sources.paymentLink,
  comment: 'Test comment',
  ...extra,
});

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ clock: () => NOW });
});
afterAll(() => h.close());

const countPurchases = async () => (await h.ctx.database.query<{ n: number }>('SELECT count(*)::int AS n FROM purchases'))[0]!.n;
let before = 0;
beforeEach(async () => {
  before = await countPurchases();
});
const buy = (body: unknown, token = h.tokens.customer) => h.call('POST', '/purchases/buy-now', { token, body });

/** A 422 problem with this code, and no purchase created. */
async function expectRefused(res: Awaited<ReturnType<typeof buy>>, code: string) {
  expect(res.status, res.text).toBe(422);
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(res.body).toMatchObject({ status: 422, title: 'Unprocessable Entity', code, instance: '/purchases/buy-now' });
  expect(await countPurchases()).toBe(before);
}

describe('buy-now: tampered figures are 422 purchase.price_mismatch and nothing is created', () => {
  it('names a tampered day-bundle total and gives the server’s value', async () => {
    const res = await buy(bundle({ total_amount: 34.4 }));
    await expectRefused(res, 'purchase.price_mismatch');
    expect(res.body.errors).toEqual([{ name: 'body.purchase_lines[0].total_amount', reason: 'should be 34.50 (sent 34.4)' }]);
    expect(res.body.detail).toContain('body.purchase_lines[0].total_amount should be 34.50');
  });

  it.each([
    ['amount_per_quantity', { amount_per_quantity: 9.99 }],
    ['amount_per_quantity', { amount_per_quantity: 10.00002 }],
    ['amount_per_quantity_incl', { amount_per_quantity_incl: 11.49 }],
    ['net_amount_excl', { net_amount_excl: 29.99 }],
    ['tax_amount', { tax_amount: 4.51 }],
    ['tax_rate', { tax_rate: 14 }],
    ['tax_rate', { tax_rate: 15.001 }],
    ['period_contribution_per_quantity', { period_contribution_per_quantity: 8 }],
    ['purchase_line_type_id', { purchase_line_type_id: 2 }],
  ])('refuses a day bundle with a changed %s (%j)', async (field, change) => {
    const res = await buy(bundle(change));
    await expectRefused(res, 'purchase.price_mismatch');
    expect(res.body.errors.map((e: { name: string }) => e.name)).toEqual([`body.purchase_lines[0].${field}`]);
  });

  it('refuses more bundles than were paid for: every figure the quantity changes is named', async () => {
    const res = await buy(bundle({ quantity: 4 }));
    await expectRefused(res, 'purchase.price_mismatch');
    expect(res.body.errors).toEqual([
      { name: 'body.purchase_lines[0].total_amount', reason: 'should be 46.00 (sent 34.5)' },
      { name: 'body.purchase_lines[0].net_amount_excl', reason: 'should be 40.00 (sent 30)' },
      { name: 'body.purchase_lines[0].tax_amount', reason: 'should be 6.00 (sent 4.5)' },
    ]);
  });

  it.each([
    ['quantity', { quantity: 80 }],
    ['amount_per_quantity', { amount_per_quantity: 10.98 }],
    ['amount_per_quantity', { amount_per_quantity: 10.9854 }],
    ['amount_per_quantity_incl', { amount_per_quantity_incl: 12.64 }],
    ['net_amount_excl', { net_amount_excl: 867.85 }],
    ['net_amount_excl', { net_amount_excl: 867.87 }],
    ['tax_amount', { tax_amount: 132.15 }],
    ['tax_amount', { tax_amount: 132.13 }],
    ['tax_amount', { total_amount: 1000.01 }],
  ])('refuses recurring months with a changed %s (%j)', async (field, change) => {
    const res = await buy(months(change));
    await expectRefused(res, 'purchase.price_mismatch');
    expect(res.body.errors.map((e: { name: string }) => e.name)).toEqual([`body.purchase_lines[0].${field}`]);
  });

  it('accepts drift below a cent in money and below one part in a million per unit, as the seed’s own floats have', async () => {
    const res = await buy(months({ net_amount_excl: 867.8595, tax_amount: 132.1405, amount_per_quantity: 10.98550 + 5e-6 }));
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ amount: 1000, amount_excl: 867.86, tax_amount: 132.14, purchase_lines: [{ quantity: 79 }] });
  });

  it('names the line at fault among several', async () => {
    const res = await buy({ ...bundle(), purchase_lines: [bundleLine(), { ...bundleLine(), tax_amount: 4.4 }] });
    await expectRefused(res, 'purchase.price_mismatch');
    expect(res.body.errors.map((e: { name: string }) => e.name)).toEqual(['body.purchase_lines[1].tax_amount']);
  });
});

describe('buy-now: choices that were not offered are 422 and create nothing', () => {
  it.each([
    ['another product’s price', DEMO.prices.hybrid30Day],
    ['the monthly price of a Recurring product', DEMO.prices.monthly],
    ['a price that does not exist', '00000000-0000-4000-8000-00000000beef'],
  ])('refuses %s on a DayBundle service', async (_what, priceId) => {
    const res = await buy(bundle({ product_price_id: priceId }));
    await expectRefused(res, 'purchase.option_not_offered');
    expect(res.body.errors[0].name).toBe('body.purchase_lines[0].product_price_id');
  });

  it('refuses a line without a price on a DayBundle service (there is no amount to spend)', async () => {
    const { product_price_id: _, ...line } = bundleLine();
    await expectRefused(await buy({ ...bundle(), purchase_lines: [line] }), 'purchase.option_not_offered');
  });

  it('refuses a bundle price on a Recurring service', async () => {
    await expectRefused(await buy(bundle({}, { service_id: DEMO.services.recurringPaidUp })), 'purchase.option_not_offered');
  });

  it('refuses more bundles than max_quantity, on one line or on several together', async () => {
    const one = await buy(bundle({ quantity: 53, total_amount: 609.5, net_amount_excl: 530, tax_amount: 79.5 }));
    await expectRefused(one, 'purchase.quantity_out_of_range');
    expect(one.body.errors[0]).toEqual({ name: 'body.purchase_lines[0].quantity', reason: 'must be from 1 to 52 (all lines of this price together)' });
    const thirty = { quantity: 30, total_amount: 345, net_amount_excl: 300, tax_amount: 45 };
    const several = await buy({ ...bundle(), purchase_lines: [{ ...bundleLine(), ...thirty }, { ...bundleLine(), ...thirty }] });
    await expectRefused(several, 'purchase.quantity_out_of_range');
    expect(several.body.errors[0].name).toBe('body.purchase_lines[1].quantity');
  });

  it('refuses an amount below the price of a day or above max_amount', async () => {
    const low = await buy(months({ total_amount: 12.63, quantity: 1 }));
    await expectRefused(low, 'purchase.amount_out_of_range');
    expect(low.body.errors).toEqual([{ name: 'body.purchase_lines[0].total_amount', reason: 'must be between 12.64 and 4623.80' }]);
    await expectRefused(await buy(months({ total_amount: 4623.81 })), 'purchase.amount_out_of_range');
    await expectRefused(await buy(months({ total_amount: 0 })), 'purchase.amount_out_of_range');
    const two = await buy(months({}, { purchase_lines: [{ ...monthsLine(), total_amount: 3000 }, { ...monthsLine(), total_amount: 3000 }] }));
    await expectRefused(two, 'purchase.amount_out_of_range');
    expect(two.body.errors[0].name).toBe('body.purchase_lines[1].total_amount');
  });
});

describe('buy-now: when there is nothing to buy', () => {
  it('refuses a service in arrears: pay the outstanding purchase first', async () => {
    const res = await buy(months({}, { service_id: 'E14C231D-5899-44BE-B7A1-AA46893C8D83' }));
    await expectRefused(res, 'purchase.buy_now_unavailable');
    expect(res.body.detail).toContain('pay the outstanding purchase first');
    expect(res.body.detail).toContain(DEMO.purchases.arrears);
  });

  it('refuses a cancelled service', async () => {
    await h.ctx.database.query(`UPDATE services SET status = 'Cancelled' WHERE id = $1`, [DEMO.services.hybrid]);
    const res = await buy(bundle({ product_price_id: DEMO.prices.hybrid30Day }, { service_id: DEMO.services.hybrid }), h.tokens.integrator);
    await expectRefused(res, 'purchase.buy_now_unavailable');
    expect(res.body.detail).toContain('the service is cancelled');
  });
});

describe('buy-now: dates and purchase sources', () => {
  it.each([
    ['more than a day ago', '2024-11-25T09:33:09Z'],
    ['more than 366 days ahead', '2025-11-27T09:33:11Z'],
  ])('refuses a purchase_date %s', async (_what, date) => {
    const res = await buy(months({}, { purchase_date: date }));
    await expectRefused(res, 'purchase.date_out_of_range');
    expect(res.body.errors[0].name).toBe('body.purchase_date');
  });

  it('takes now when there is no purchase_date, and accepts one within the window', async () => {
    const { purchase_date: _, ...body } = months();
    expect((await buy(body)).body.purchase_date).toBe(NOW.toISOString());
    expect((await buy(months({}, { purchase_date: '2025-11-26T09:33:10+02:00' }))).status).toBe(201);
  });

  it("refuses a purchase source that is not one of the collector's", async () => {
    const [other] = await h.ctx.database.query<{ id: string }>('SELECT id FROM purchase_sources WHERE operator_id = $1', [FIX.otherOperator.operatorId]);
    for (const source of [other!.id, '00000000-0000-4000-8000-00000000beef']) {
      const res = await buy(months({}, { purchase_source_id: source }));
      await expectRefused(res, 'purchase.unknown_source');
      expect(res.body.errors[0].name).toBe('body.purchase_source_id');
    }
  });
});

describe('buy-now: malformed bodies are 400 problem+json', () => {
  it.each([
    ['no service_id', { purchase_lines: [bundleLine()] }, 'body.service_id'],
    ['a service_id that is not a uuid', bundle({}, { service_id: 'E14C231D' }), 'body.service_id'],
    ['no lines', bundle({}, { purchase_lines: [] }), 'body.purchase_lines'],
    ['21 lines', bundle({}, { purchase_lines: Array.from({ length: 21 }, bundleLine) }), 'body.purchase_lines'],
    ['an unknown field', bundle({}, { discount: 10 }), 'body.discount'],
    ['an unknown line field', bundle({ max_quantity: 52 }), 'body.purchase_lines[0].max_quantity'],
    ['a total as text', bundle({ total_amount: '34.50' }), 'body.purchase_lines[0].total_amount'],
    ['a total with a third decimal', bundle({ total_amount: 34.501 }), 'body.purchase_lines[0].total_amount'],
    ['a negative total', bundle({ total_amount: -34.5 }), 'body.purchase_lines[0].total_amount'],
    ['a quantity of 0', bundle({ quantity: 0 }), 'body.purchase_lines[0].quantity'],
    ['a fractional quantity', bundle({ quantity: 2.5 }), 'body.purchase_lines[0].quantity'],
    ['an unknown line type', bundle({ purchase_line_type_id: 9 }), 'body.purchase_lines[0].purchase_line_type_id'],
    ['a line without tax_amount', { ...bundle(), purchase_lines: [{ ...bundleLine(), tax_amount: undefined }] }, 'body.purchase_lines[0].tax_amount'],
    ['a purchase_date that is not a date-time', bundle({}, { purchase_date: '2024-06-06' }), 'body.purchase_date'],
    ['a leap-second purchase_date', bundle({}, { purchase_date: '2024-11-26T23:59:60Z' }), 'body.purchase_date'],
    ['a purchase_source_id that is not a uuid', months({}, { purchase_source_id: 'Cash' }), 'body.purchase_source_id'],
  ])('refuses %s', async (_what, body, field) => {
    const res = await buy(body);
    expect(res.status, res.text).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', code: 'request.invalid', instance: '/purchases/buy-now' });
    expect(res.body.errors.map((e: { name: string }) => e.name)).toContain(field);
    expect(await countPurchases()).toBe(before);
  });

  it.each([
    ['not JSON', '{"service_id":'],
    ['an array', '[]'],
    ['null', 'null'],
    ['empty', ''],
  ])('refuses a body that is %s', async (_what, text) => {
    const res = await h.call('POST', '/purchases/buy-now', { body: text, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(await countPurchases()).toBe(before);
  });
});
