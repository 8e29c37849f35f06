import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { amountLine, bundleLine, daysFor, vatFor } from '../../../web/src/buy-math.ts';
import type { BuyOption, VariableAmount } from '../../../web/src/types.ts';
import { DEMO } from '../../demo/ids.ts';

/**
 * The web app works out buy-now lines in floating point (web/src/buy-math.ts); the server prices them in
 * exact fractions and refuses any figure that differs. Awkward prices, every quantity and many amounts:
 * the server must accept every line the app would send, and the app's preview must be the quote's.
 */
let h: Harness;
const staff = () => ({ token: h.tokens.integrator });

/** A new service of the demo customer on a new product, its upfront purchase paid off-system so it can buy ahead. */
async function payingService(product: Record<string, unknown>): Promise<string> {
  const created = await h.call('POST', '/products', { ...staff(), body: product });
  expect(created.status).toBe(201);
  const order = await h.call('POST', '/orders', { ...staff(), body: { customer_id: DEMO.customerId, product_id: created.body.id, collector_id: DEMO.collectorId } });
  expect(order.status).toBe(201);
  const paid = await h.call('POST', '/purchases/submit-for-collection', {
    ...staff(),
    body: { service_id: order.body.service.id, purchase_id: order.body.upfront_purchase.id, medium_id: DEMO.mediums.offSystem, purchase_source_id: DEMO.sources.cash, comment: 'upfront' },
  });
  expect(paid.status).toBe(200);
  return order.body.service.id;
}

async function quote(serviceId: string, line: unknown) {
  return h.call('POST', '/purchases/buy-now', { body: { service_id: serviceId, customer_statement_ref: '', purchase_date: new Date().toISOString(), purchase_lines: [line] } });
}

beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('the web app’s buy-now arithmetic against the server’s price check', () => {
  it('is accepted for every quantity of bundles with awkward prices', async () => {
    const serviceId = await payingService({
      name: 'Odd bundles',
      billing_scheme: 'DayBundle',
      prices: [
        { description: 'Day', purchase_line_type_id: 1, price_incl: 11.49, period_contribution_per_quantity: 1, on_order: true, buy_now: true },
        { description: '3 Days', purchase_line_type_id: 1, price_incl: 7.77, period_contribution_per_quantity: 3, buy_now: true },
        { description: 'Month', purchase_line_type_id: 1, price_incl: 123.45, period_contribution_per_quantity: 30, buy_now: true },
      ],
    });
    const details = await h.call('GET', `/services/${serviceId}/details-and-actions`);
    const options = details.body.can_buy_info.options as BuyOption[];
    expect(options).toHaveLength(3);
    for (const option of options) {
      for (let qty = 1; qty <= option.max_quantity; qty++) {
        const res = await quote(serviceId, bundleLine(option, qty));
        expect(res.status, `${qty} × ${option.description}: ${JSON.stringify(res.body.errors ?? res.body)}`).toBe(201);
        expect(res.body.amount).toBe(Math.round(qty * option.total_amount * 100) / 100);
      }
    }
  });

  it('is accepted for amounts across a monthly price’s range, and previews the quote’s days and VAT', async () => {
    const serviceId = await payingService({
      name: 'Odd monthly',
      billing_scheme: 'Recurring',
      default_collection_day: 1,
      prices: [{ description: 'Monthly 411.37', purchase_line_type_id: 2, price_incl: 411.37, days_in_period: 30, on_order: true, buy_now: true }],
    });
    const details = await h.call('GET', `/services/${serviceId}/details-and-actions`);
    const va = details.body.can_buy_info.variable_amount as VariableAmount;
    // The range's ends, a month, round sums, and a fixed spread of cent amounts in between.
    const amounts = [va.min_amount, va.max_amount, va.monthly_amount, 100, 1000, 2500];
    for (let i = 0, x = 7919; i < 60; i++) {
      x = (x * 48271) % 2147483647;
      const cents = Math.round(va.min_amount * 100) + (x % Math.round((va.max_amount - va.min_amount) * 100));
      amounts.push(cents / 100);
    }
    for (const amount of amounts) {
      const res = await quote(serviceId, amountLine(va, amount));
      expect(res.status, `R${amount}: ${JSON.stringify(res.body.errors ?? res.body)}`).toBe(201);
      expect(res.body.amount).toBe(amount);
      expect(res.body.purchase_lines[0].quantity).toBe(daysFor(amount, va));
      expect(res.body.tax_amount).toBe(vatFor(amount, va));
    }
  });
});
