import { createTelemetry } from '../../lib/telemetry.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { buildApp } from '../../app.ts';
import { DEMO } from '../../demo/ids.ts';
import type { App } from '../route-kit.ts';

/**
 * details-and-actions is cached per process and revalidated against versions that database triggers
 * bump. These tests change each thing the response shows straight in the database (as another process
 * or a manual fix would) and check the cached app answers exactly what an uncached app answers.
 */
let h: Harness;
let uncached: App;
beforeAll(async () => {
  h = await createHarness();
  uncached = await buildApp({ ...h.ctx, telemetry: createTelemetry(), config: { ...testConfig(), detailsCacheSize: 0 } });
});
afterAll(async () => {
  await uncached.close();
  await h.close();
});

const sql = (text: string, params: unknown[] = []) => h.ctx.database.query(text, params);
const path = (id: string) => `/services/${id}/details-and-actions`;

async function expectFresh(serviceId: string, token = h.tokens.customer) {
  const cached = await h.call('GET', path(serviceId), { token });
  const fresh = await uncached.inject({ method: 'GET', url: path(serviceId), headers: { authorization: `Bearer ${token}` } });
  expect(cached.status).toBe(200);
  expect(cached.text).toBe(fresh.body);
  return cached;
}

describe('details-and-actions cache', () => {
  it.each([
    ['the purchase is paid', DEMO.services.recurringInArrears, `UPDATE purchases SET status_id = 4, paid_at = now() WHERE id = '${DEMO.purchases.arrears}'`, (b: any) => expect(b.must_pay_info).toBeNull()],
    ['a purchase line changes', DEMO.services.recurringPaidUp, `UPDATE purchase_lines SET description = 'Renamed' WHERE purchase_id IN (SELECT id FROM purchases WHERE service_id = '${DEMO.services.recurringPaidUp}')`, () => {}],
    ['a new unpaid purchase appears', DEMO.services.dayBundle, `INSERT INTO purchases (id, operator_id, customer_id, service_id, status_id, creation_event_id, purchase_date, amount_cents, amount_excl_cents, tax_cents) VALUES ('55555555-5555-4555-8555-555555555501', '${DEMO.operatorId}', '${DEMO.customerId}', '${DEMO.services.dayBundle}', 3, 5, now(), 0, 0, 0)`, (b: any) => expect(b.must_pay_info.arrears_purchase.id).toBe('55555555-5555-4555-8555-555555555501')],
    ['a medium is added', DEMO.services.hybrid, `INSERT INTO mediums (id, operator_id, customer_id, medium_type, external_reference, account_name, account_number) VALUES ('55555555-5555-4555-8555-555555555502', '${DEMO.operatorId}', '${DEMO.customerId}', 'CreditCard', 'x', 'New 5555', '5555')`, (b: any) => expect(b.mediums.map((m: any) => m.account_number)).toContain('5555')],
    ['a medium expires', DEMO.services.hybrid, `UPDATE mediums SET status = 'Expired' WHERE id = '${DEMO.mediums.card}'`, (b: any) => expect(b.mediums.map((m: any) => m.medium_detail_id)).not.toContain(DEMO.mediums.card)],
    ['a bundle price changes', DEMO.services.hybrid, `UPDATE product_prices SET price_incl_cents = 31900 WHERE id = '${DEMO.prices.hybrid30Day}'`, (b: any) => expect(b.can_buy_info.options[0].total_amount).toBe(319)],
    ['the operator changes its VAT rate', DEMO.services.hybrid, `UPDATE operators SET vat_rate_bp = 1600 WHERE id = '${DEMO.operatorId}'`, (b: any) => expect(b.can_buy_info.options[0].tax_rate).toBe(16)],
    ['the service itself changes', DEMO.services.hybrid, `UPDATE services SET billing_status = 'InArrears', suspension_date = '2030-01-01' WHERE id = '${DEMO.services.hybrid}'`, (b: any) => expect(b).toMatchObject({ billing_status: 'InArrears', suspension_date: '2030-01-01' })],
    ['the purchase plan changes', DEMO.services.hybrid, `UPDATE purchase_plans SET active_medium_id = NULL WHERE service_id = '${DEMO.services.hybrid}'`, (b: any) => expect(b.plan_id).toBe(DEMO.plans.hybrid)],
  ])('shows the change at once when %s', async (_what, serviceId, change, check) => {
    const before = await expectFresh(serviceId);
    const again = await h.call('GET', path(serviceId));
    expect(again.headers.etag).toBe(before.headers.etag); // unchanged: same version
    await sql(change);
    const after = await expectFresh(serviceId);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    check(after.body);
  });

  it('answers 304 to a matching If-None-Match and 200 once anything changed', async () => {
    const first = await h.call('GET', path(DEMO.services.recurringPaidUp));
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"da-\d+\.\d+\.\d+\.\d+"$/);
    expect(first.headers['cache-control']).toBe('private, no-cache');
    const notModified = await h.call('GET', path(DEMO.services.recurringPaidUp), { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    for (const header of [`"other", ${etag}`, `W/${etag}`, '*']) {
      expect((await h.call('GET', path(DEMO.services.recurringPaidUp), { headers: { 'if-none-match': header } })).status, header).toBe(304);
    }
    expect((await h.call('GET', path(DEMO.services.recurringPaidUp), { headers: { 'if-none-match': '"da-0.0.0.0"' } })).status).toBe(200);
    await sql(`UPDATE services SET collection_day = 2 WHERE id = $1`, [DEMO.services.recurringPaidUp]);
    const changed = await h.call('GET', path(DEMO.services.recurringPaidUp), { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.body.collection_day).toBe(2);
  });

  it('never serves a cached response to someone who may not see it', async () => {
    await h.call('GET', path(FIX.otherCustomer.serviceId), { token: h.tokens.integrator }); // cached now
    const other = await h.call('GET', path(FIX.otherCustomer.serviceId));
    expect(other.status).toBe(404);
    const foreign = await h.call('GET', path(FIX.otherCustomer.serviceId), { token: h.tokens.otherOperatorIntegrator });
    expect(foreign.status).toBe(404);
    const owner = await expectFresh(FIX.otherCustomer.serviceId, h.tokens.otherCustomer);
    expect(owner.body.service_id).toBe(FIX.otherCustomer.serviceId);
  });

  it('sees changes made through another app on the same database', async () => {
    const other = await buildApp({ ...h.ctx, telemetry: createTelemetry() });
    try {
      await h.call('GET', path(FIX.otherCustomer.serviceId), { token: h.tokens.otherCustomer });
      const put = await other.inject({
        method: 'PUT',
        url: `/active-payment-medium-for-service?serviceId=${FIX.otherCustomer.serviceId}`,
        headers: { authorization: `Bearer ${h.tokens.otherCustomer}` },
        payload: { medium_id: FIX.otherCustomer.cardId },
      });
      expect(put.statusCode).toBe(200);
      await sql(`UPDATE mediums SET account_name = 'Renamed card' WHERE id = $1`, [FIX.otherCustomer.cardId]);
      const res = await expectFresh(FIX.otherCustomer.serviceId, h.tokens.otherCustomer);
      expect(res.body.mediums.find((m: any) => m.medium_detail_id === FIX.otherCustomer.cardId).account_name).toBe('Renamed card');
    } finally {
      await other.close();
    }
  });
});
