import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('purchases and payments (reads)', () => {
  it('lists the purchases of a service, newest first, with their lines', async () => {
    const res = await h.call('GET', `/purchases?serviceId=${DEMO.services.hybrid}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { purchase_status_id: number }) => p.purchase_status_id)).toEqual([1, 4]); // scheduled auto-recharge, paid upfront
    expect(res.body.items[0]).toMatchObject({ purchase_creation_event_id: 3, amount: 299, amount_excl: 260, tax_amount: 39 });
    expect(res.body.items[1].purchase_lines[0]).toMatchObject({ description: '30 Day bundle', quantity: 1, period_contribution_per_quantity: 30 });
    expect(res.body.next_cursor).toBeNull();
    const paged = await h.call('GET', `/purchases?serviceId=${DEMO.services.hybrid}&limit=1`);
    expect(paged.body.items).toHaveLength(1);
    const next = await h.call('GET', `/purchases?serviceId=${DEMO.services.hybrid}&limit=1&cursor=${paged.body.next_cursor}`);
    expect(next.body.items[0].id).toBe(res.body.items[1].id);
    expect(next.body.next_cursor).toBeNull();
  });

  it('shows one purchase exactly as details-and-actions does', async () => {
    const one = await h.call('GET', `/purchases/${DEMO.purchases.arrears}`);
    const details = await h.call('GET', `/services/${DEMO.services.recurringInArrears}/details-and-actions`);
    expect(one.body).toEqual(details.body.must_pay_info.arrears_purchase);
  });

  it('lists the collection attempts of a purchase', async () => {
    const purchases = await h.call('GET', `/purchases?serviceId=${DEMO.services.dayBundle}`);
    const paid = purchases.body.items.find((p: { purchase_status_id: number }) => p.purchase_status_id === 4);
    const res = await h.call('GET', `/payments?purchaseId=${paid.id}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ purchase_id: paid.id, provider: 'OffSystem', status: 'succeeded', amount: 11.5, currency: 'ZAR', purchase_source_id: DEMO.sources.eft });
    expect((await h.call('GET', `/payments?purchaseId=${DEMO.purchases.arrears}`)).body.items).toEqual([]);
  });

  it("is 404 for another customer's or operator's purchases and 400 for malformed ids", async () => {
    const other = await h.call('GET', `/purchases?serviceId=${FIX.otherCustomer.serviceId}`, { token: h.tokens.otherCustomer });
    const otherPurchase = other.body.items[0].id;
    expect((await h.call('GET', `/purchases/${otherPurchase}`)).status).toBe(404);
    expect((await h.call('GET', `/purchases?serviceId=${FIX.otherCustomer.serviceId}`)).status).toBe(404);
    expect((await h.call('GET', `/payments?purchaseId=${otherPurchase}`)).status).toBe(404);
    expect((await h.call('GET', `/purchases/${otherPurchase}`, { token: h.tokens.otherOperatorIntegrator })).status).toBe(404);
    expect((await h.call('GET', `/purchases/${otherPurchase}`, { token: h.tokens.integrator })).status).toBe(200);
    expect((await h.call('GET', '/purchases')).status).toBe(400);
    expect((await h.call('GET', '/purchases/12')).status).toBe(400);
    expect((await h.call('GET', '/payments?purchaseId=x')).status).toBe(400);
  });

  it('keeps the audit trail to staff of the operator', async () => {
    expect((await h.call('GET', `/audit-events?entityId=${DEMO.operatorId}`)).status).toBe(403);
    const res = await h.call('GET', `/audit-events?entityId=${DEMO.operatorId}`, { token: h.tokens.integrator });
    expect(res.body.items.map((e: { action: string }) => e.action)).toContain('demo.seeded');
    expect((await h.call('GET', `/audit-events?entityId=${DEMO.operatorId}`, { token: h.tokens.otherOperatorIntegrator })).body.items).toEqual([]);
    expect((await h.call('GET', `/audit-events?entityId=${DEMO.operatorId}&cursor=abc`, { token: h.tokens.integrator })).status).toBe(400);
  });
});
