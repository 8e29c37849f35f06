import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('GET /services/{id}/details-and-actions (seed 000)', () => {
  it("shows seed 000's service with its unpaid upfront purchase and four mediums", async () => {
    const res = await h.call('GET', '/services/E14C231D-5899-44BE-B7A1-AA46893C8D83/details-and-actions');
    expect(res.status).toBe(200);
    const b = res.body;
    expect(Object.keys(b)).toEqual([
      'service_id', 'service_status', 'service_status_category', 'collector_id', 'service_type', 'billing_status',
      'latest_period_end_date', 'suspension_date', 'collection_day', 'plan_id', 'mediums', 'must_pay_info',
      'can_buy_info', 'last_purchase_is_pending', 'on_network_date',
    ]);
    expect(b).toMatchObject({
      service_id: DEMO.services.recurringInArrears,
      service_status: 'PendingIspApplication',
      service_status_category: 'PreActivationStatuses',
      collector_id: DEMO.collectorId,
      service_type: 'Recurring',
      billing_status: 'InArrears',
      latest_period_end_date: null,
      suspension_date: null,
      collection_day: 15,
      plan_id: DEMO.plans.recurringInArrears,
      can_buy_info: null,
      last_purchase_is_pending: false,
      on_network_date: null,
    });
    expect(b.mediums.map((m: { medium_type: string }) => m.medium_type)).toEqual(['CreditCard', 'PaymentLink', 'OffSystem', 'ProviderSelectedOpaque']);
    expect(b.mediums[3]).toEqual({
      external_reference: 'Global PeachPayment provider selected opaque medium',
      customer_id: null,
      medium_detail_id: 'aa8b416b-a7d9-4bc0-af81-041722e11ad4',
      medium_type: 'ProviderSelectedOpaque',
      medium_status: 'Valid',
      created_date: '2023-10-12T04:36:37.252Z',
      account_name: 'Add new payment method',
      account_number: null,
      provider: 'PeachPayments',
      mandate: null,
    });
    expect(b.mediums[0]).toMatchObject({ medium_detail_id: DEMO.mediums.card, account_name: 'test 4242', account_number: '4242', customer_id: DEMO.customerId });

    const p = b.must_pay_info.arrears_purchase;
    expect(b.must_pay_info.must_pay).toBe(true);
    expect(p).toMatchObject({
      id: DEMO.purchases.arrears,
      service_id: DEMO.services.recurringInArrears,
      amount: 379,
      amount_excl: 329.57,
      tax_amount: 49.43,
      medium_id: DEMO.mediums.card,
      purchase_status_id: 3,
      small_key: 1928142,
      purchase_creation_event_id: 1,
      period_applied: false,
      purchase_source_id: null,
      payment_reference: null,
    });
    expect(p.purchase_lines).toHaveLength(1);
    expect(p.purchase_lines[0]).toMatchObject({
      id: DEMO.purchases.arrearsLine,
      purchase_id: DEMO.purchases.arrears,
      original_purchase_line_id: null,
      purchase_line_type_id: 1,
      description: 'On Order/Upfront Monthly',
      total_amount: 379,
      tax_rate: 15,
      quantity: 30,
      period_contribution_per_quantity: 1,
      product_price_id: DEMO.prices.monthly,
    });
    expect(p.purchase_lines[0].amount_per_quantity).toBeCloseTo(10.985507246376812, 12);
    expect(p.purchase_lines[0].net_amount_excl + p.purchase_lines[0].tax_amount).toBeCloseTo(379, 9);
  });

  it('offers day bundles with server prices to a paid-up DayBundle service', async () => {
    const res = await h.call('GET', `/services/${DEMO.services.dayBundle}/details-and-actions`);
    expect(res.status).toBe(200);
    expect(res.body.must_pay_info).toBeNull();
    expect(res.body.service_type).toBe('DayBundle');
    const options = res.body.can_buy_info.options;
    expect(options.map((o: { description: string }) => o.description)).toEqual(['1 Day bundle', '7 Day bundle', '30 Day bundle']);
    expect(options[1]).toEqual({
      product_price_id: DEMO.prices.bundle7Day,
      purchase_line_type_id: 1,
      description: '7 Day bundle',
      quantity: 1,
      max_quantity: 52,
      total_amount: 11.5,
      amount_per_quantity: 10,
      amount_per_quantity_incl: 11.5,
      net_amount_excl: 10,
      tax_rate: 15,
      tax_amount: 1.5,
      period_contribution_per_quantity: 7,
    });
    expect(res.body.can_buy_info.variable_amount).toBeNull();
  });

  it('offers a variable amount of days to a paid-up Recurring service, priced from R379 a month', async () => {
    const res = await h.call('GET', `/services/${DEMO.services.recurringPaidUp}/details-and-actions`);
    expect(res.status).toBe(200);
    const v = res.body.can_buy_info.variable_amount;
    expect(v.description).toBe('Monthly Recurring 20/10');
    expect(v.amount_per_quantity_incl).toBeCloseTo(12.633333333333333, 12);
    expect(v.amount_per_quantity).toBeCloseTo(10.985507246376812, 12);
    expect(v).toMatchObject({ monthly_amount: 379, min_amount: 12.64, tax_rate: 15, period_contribution_per_quantity: 1, product_price_id: DEMO.prices.monthly });
    expect(v.max_amount).toBe(4623.8); // 366 days × 379/30
    expect(res.body.can_buy_info.options).toEqual([]);
  });

  it('lets an integrator read any service of the operator', async () => {
    const res = await h.call('GET', `/services/${DEMO.services.hybrid}/details-and-actions`, { token: h.tokens.integrator });
    expect(res.status).toBe(200);
    expect(res.body.service_type).toBe('HybridDayBundle');
  });
});
