import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { settleUnsettledPayments } from '../../src/modules/payments/settle-unsettled-payments.ts';
import { captureBankAccount } from '../helpers/debitsuccess.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Debit orders through Debitsuccess (SPEC §11), over real HTTP to its sandbox: a bank account captured on
 * Debitsuccess's form is debited by submit-for-collection (202, pending), and the purchase is paid or left
 * owed only when Debitsuccess's payment statuses say so, after the bank day moves.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
});
afterAll(() => h?.close());

const sandbox = () => `${h.baseUrl}/sandbox/debitsuccess`;

async function unpaidOrder(): Promise<{ serviceId: string; purchaseId: string }> {
  const order = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
  expect(order.status).toBe(201);
  return { serviceId: order.body.service.id, purchaseId: order.body.upfront_purchase.id };
}

const ledger = async (reference: string) => ((await (await fetch(`${sandbox()}/transactions?merchant_reference=${encodeURIComponent(reference)}`)).json()) as { items: { kind: string; status: string; amount: string }[] }).items;
const bankDay = () => fetch(`${sandbox()}/bank-day`, { method: 'POST' });
const purchaseStatus = async (purchaseId: string) => (await h.call('GET', `/purchases/${purchaseId}`, { token: h.tokens.integrator })).body.purchase_status_id as number;
/** The janitor, as if seven hours had passed (it asks about an acknowledged debit order six-hourly, the feed settling it meanwhile). */
const janitor = () => settleUnsettledPayments(h.ctx, { now: new Date(Date.now() + 7 * 3_600_000) });

describe('a debit order through Debitsuccess', () => {
  it('1234567890: 202 and pending until the bank day moves, then paid; one debit order at Debitsuccess', async () => {
    const { serviceId, purchaseId } = await unpaidOrder();
    const medium = await captureBankAccount(h, serviceId, '1234567890');
    const submitted = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: purchaseId, medium_id: medium } });
    expect(submitted.status, submitted.text).toBe(202);
    const [payment] = (await h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: h.tokens.integrator })).body.items;
    expect(payment).toMatchObject({ provider: 'Debitsuccess', status: 'pending' });

    // Still Pending at Debitsuccess: the janitor asks and nothing moves.
    await janitor();
    expect((await h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: h.tokens.integrator })).body.items[0].status).toBe('pending');
    expect(await purchaseStatus(purchaseId)).not.toBe(4);

    await bankDay();
    await janitor();
    expect((await h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: h.tokens.integrator })).body.items[0].status).toBe('succeeded');
    expect(await purchaseStatus(purchaseId)).toBe(4);
    const orders = await ledger(payment.merchant_reference);
    expect(orders).toHaveLength(1);
    // The purchase's amount (the upfront month, pro rata), debited once.
    expect(orders[0]).toMatchObject({ kind: 'debit_order', amount: Number(payment.amount).toFixed(2) });

    // Paid: another submit is refused, and no second debit order is made.
    expect((await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: purchaseId, medium_id: medium } })).status).toBe(409);
    expect(await ledger(payment.merchant_reference)).toHaveLength(1);
  });

  it('1111111111: the bank refuses it (insufficient funds): the attempt fails and the purchase stays owed', async () => {
    const { serviceId, purchaseId } = await unpaidOrder();
    const medium = await captureBankAccount(h, serviceId, '1111111111');
    expect((await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: purchaseId, medium_id: medium } })).status).toBe(202);
    await bankDay();
    await janitor();
    const [payment] = (await h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: h.tokens.integrator })).body.items;
    expect(payment).toMatchObject({ status: 'failed' });
    expect(JSON.stringify(payment)).toMatch(/insufficient/i);
    expect([3, 1]).toContain(await purchaseStatus(purchaseId));
  });
});
