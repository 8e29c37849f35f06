import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../../src/modules/mediums/repo.ts';
import { settleUnsettledPayments } from '../../src/modules/payments/settle-unsettled-payments.ts';
import { eventually, unpaidPurchase } from '../helpers/collections.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * A real-time card payment on Debitsuccess's form (SPEC §11, issue item 4), over real HTTP to its sandbox:
 * when the operator's card provider is Debitsuccess, "Add new payment method" sends the customer to
 * Debitsuccess's PayNow form for the purchase's amount. The browser comes back with `Status=Success` — a
 * hint only: the purchase is paid when the Realtime webhook (X-Token) or GetCardPaymentStatusForCustomerAccount
 * says so, and never by a forged return or notice.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
  const set = await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { default_providers: { credit_card: 'Debitsuccess' } } });
  expect(set.status, set.text).toBe(200);
});
afterAll(() => h?.close());

const E14 = DEMO.services.recurringInArrears;
const sandbox = () => `${h.baseUrl}/sandbox/debitsuccess`;
const submit = (purchaseId: string) => h.call('POST', '/purchases/submit-for-collection', { body: { service_id: E14, purchase_id: purchaseId, medium_id: GLOBAL_OPAQUE_MEDIUM_ID, success_url: null, failure_url: null } });
const attempt = async (purchaseId: string) => (await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId)))[0]!;
const purchaseStatus = async (purchaseId: string) => (await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, purchaseId)))[0]!.statusId;
const ledger = async (token: string) => ((await (await fetch(`${sandbox()}/transactions?merchant_reference=${token}`)).json()) as { items: { kind: string; status: string; amount: string }[] }).items;

/** Pays on Debitsuccess's form with Debitsuccess's test card; returns where the form sends the browser. */
async function payOnForm(url: string, holder: 'AUTHORISED' | 'REFUSED'): Promise<URL> {
  expect((await fetch(url)).status).toBe(200);
  const posted = await fetch(url, { method: 'POST', body: new URLSearchParams({ card_number: '4444333322221111', expiry: '04/25', cvv: '123', holder }), redirect: 'manual' });
  expect(posted.status).toBe(302);
  return new URL(posted.headers.get('location')!);
}

describe('a real-time card payment through Debitsuccess', () => {
  it('is the operator’s card provider: "Add new payment method" opens its form for the purchase’s amount', async () => {
    expect((await h.call('GET', '/default?mediumType=2')).body.provider).toBe('Debitsuccess');
    const purchaseId = await unpaidPurchase(h, E14, 37_900);
    const res = await submit(purchaseId);
    expect(res.status, res.text).toBe(200);
    expect(res.body.payment_link_url).toMatch(new RegExp(`^${h.baseUrl}/sandbox/debitsuccess/PayNow/T/[A-Za-z0-9]{8}$`));
    const payment = await attempt(purchaseId);
    expect(payment).toMatchObject({ provider: 'Debitsuccess', kind: 'hosted', status: 'pending', amountCents: 37_900 });
    expect(res.body.payment_link_url.endsWith(payment.providerReference!)).toBe(true);

    // Approved: the browser comes back with Status=Success; Debitsuccess's webhook settles it.
    const back = await payOnForm(res.body.payment_link_url, 'AUTHORISED');
    expect(back.pathname).toBe(`/app/ext-pay/${DEMO.customerUserId}/${purchaseId}/1`);
    expect(back.searchParams.get('Status')).toBe('Success');
    await eventually(async () => (await purchaseStatus(purchaseId)) === 4);
    expect(await attempt(purchaseId)).toMatchObject({ status: 'succeeded' });
    const charges = await ledger(payment.providerReference!);
    expect(charges.map((c) => [c.kind, c.status, c.amount])).toEqual([['hosted', 'approved', '379.00']]);
  });

  it('a declined card: the attempt fails and the purchase is payable again, nothing charged', async () => {
    const purchaseId = await unpaidPurchase(h, E14, 12_000);
    const res = await submit(purchaseId);
    const back = await payOnForm(res.body.payment_link_url, 'REFUSED');
    expect(back.searchParams.get('Status')).toBe('Declined');
    await eventually(async () => (await attempt(purchaseId)).status === 'failed');
    expect(await attempt(purchaseId)).toMatchObject({ failureCode: 'declined' });
    expect(await purchaseStatus(purchaseId)).toBe(3);
  });

  it('the browser’s Status=Success and a forged notice settle nothing; GetCardPaymentStatusForCustomerAccount does', async () => {
    // Debitsuccess's webhooks go nowhere: only asking Debitsuccess can settle.
    await fetch(`${sandbox()}/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ webhookUrl: 'http://127.0.0.1:9/nowhere' }) });
    try {
      const purchaseId = await unpaidPurchase(h, E14, 5_000);
      const res = await submit(purchaseId);
      const payment = await attempt(purchaseId);
      // A typed return address claiming success, and a notice without the agreed X-Token. The return address
      // is only the client interface's page (503 app.not_built when `npm test` runs without a build of it).
      const page = await fetch(`${h.baseUrl}/app/ext-pay/${DEMO.customerUserId}/${purchaseId}/1?Status=Success&Token=${payment.providerReference}`);
      expect([200, 503]).toContain(page.status);
      const forged = await fetch(`${h.baseUrl}/callbacks/debitsuccess/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Token': 'guessed', 'X-EventName': 'Realtime.Account.Payment.Authorized', 'X-TraceId': crypto.randomUUID() },
        body: JSON.stringify({ ExternalTransactionIdentifier: payment.providerReference, Amount: 50, AccountReference: 'TST0000001', ContractPrefix: 'TST', DeclinedReason: null }),
      });
      expect(forged.status).toBe(200);
      await eventually(async () => (await h.ctx.database.db.select().from(t.providerEvents).where(and(eq(t.providerEvents.provider, 'Debitsuccess'), eq(t.providerEvents.rejection, 'X-Token is missing or not the agreed token'))))[0]);
      // Not paid yet: Debitsuccess says Processing, and the janitor leaves it pending.
      await settleUnsettledPayments(h.ctx, { now: new Date(Date.now() + 61_000) });
      expect(await attempt(purchaseId)).toMatchObject({ status: 'pending' });
      expect(await purchaseStatus(purchaseId)).toBe(2);

      // Now the customer pays; no webhook reaches payrail, and the janitor asks Debitsuccess.
      await payOnForm(res.body.payment_link_url, 'AUTHORISED');
      await settleUnsettledPayments(h.ctx, { now: new Date(Date.now() + 10 * 60_000) });
      expect(await attempt(purchaseId)).toMatchObject({ status: 'succeeded' });
      expect(await purchaseStatus(purchaseId)).toBe(4);
      expect(await ledger(payment.providerReference!)).toHaveLength(1);
    } finally {
      await fetch(`${sandbox()}/behaviour`, { method: 'DELETE' });
      await fetch(`${sandbox()}/webhook/enable`, { method: 'POST' });
    }
  });
});
