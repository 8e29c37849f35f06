import { createHmac } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../../src/modules/mediums/repo.ts';
import { settleUnsettledPayments } from '../../src/modules/payments/settle-unsettled-payments.ts';
import { PEACH_SANDBOX_CREDENTIALS } from '../../src/providers/peach/credentials.ts';
import { withSignature } from '../../src/providers/peach/signature.ts';
import { eventually, firstPaymentOf, formOf, payOnHostedPage, postForm, purchaseStatusOf, sandboxBehaviour, unpaidPurchase } from '../helpers/collections.ts';
import { testConfig } from '../helpers/config.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Peach Payments as it really behaves (PROVIDERS.md), through payrail: a checkout reported cancelled that
 * turns successful, webhooks as JSON with a header HMAC, token charges on the card host with a standing
 * instruction, and a status service that answers two look-ups a minute.
 */
const E14 = DEMO.services.recurringInArrears;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

async function harness(env: Record<string, string> = {}): Promise<Harness> {
  return createHarness({ listen: true, clock, config: testConfig({ PAYRAIL_SANDBOX_PEACH_LATE_SUCCESS_MS: '600000', ...env }) });
}

function helpers(h: () => Harness) {
  const db = () => h().ctx.database.db;
  return {
    addNewCard: (purchaseId: string) => h().call('POST', '/purchases/submit-for-collection', { body: { service_id: E14, medium_id: GLOBAL_OPAQUE_MEDIUM_ID, purchase_id: purchaseId } }),
    behave: (settings: Record<string, unknown> | null) => sandboxBehaviour(h(), 'peach', settings),
    paymentOf: (purchaseId: string) => firstPaymentOf(h(), purchaseId),
    purchaseStatus: (purchaseId: string) => purchaseStatusOf(h(), purchaseId),
    webhooksOf: async (paymentId: string) => db().select().from(t.providerEvents).where(and(eq(t.providerEvents.paymentId, paymentId), eq(t.providerEvents.channel, 'webhook'))),
  };
}

describe('Peach through payrail, as Peach answers', () => {
  let h: Harness;
  beforeAll(async () => (h = await harness()));
  afterAll(async () => h?.close());
  const x = helpers(() => h);

  it('a checkout reported cancelled is not failed; when Peach later reports it successful, the purchase is paid', async () => {
    const purchaseId = await unpaidPurchase(h);
    const res = await x.addNewCard(purchaseId);
    expect(res.status).toBe(200);
    const back = await payOnHostedPage(res.body.payment_link_url, '4000000000000077');
    const { action, fields } = formOf(await back.text(), res.body.payment_link_url);
    expect(fields['result.code']).toBe('100.396.101');
    const landing = await postForm(action, fields);
    expect(landing.status).toBe(303);
    expect(landing.headers.get('location')).toMatch(/\/0$/);
    const payment = await x.paymentOf(purchaseId);
    await eventually(async () => (await x.webhooksOf(payment.id)).some((e) => e.processedAt));
    expect(await x.paymentOf(purchaseId)).toMatchObject({ status: 'pending' });
    expect(await x.purchaseStatus(purchaseId)).toBe(2);

    offsetMs = 11 * 60_000;
    try {
      await settleUnsettledPayments(h.ctx, { now: clock() });
    } finally {
      offsetMs = 0;
    }
    expect(await x.paymentOf(purchaseId)).toMatchObject({ status: 'succeeded' });
    expect(await x.purchaseStatus(purchaseId)).toBe(4);
  });

  it('takes JSON webhooks with a header HMAC, refuses a forged one, and charges the kept card on the card host with a standing instruction', async () => {
    await x.behave({ webhookFormat: 'json' });
    try {
      const purchaseId = await unpaidPurchase(h);
      const res = await x.addNewCard(purchaseId);
      await payOnHostedPage(res.body.payment_link_url, '4242424242424242');
      // The browser never comes back: the webhook alone settles it (after payrail asks Peach).
      const payment = await x.paymentOf(purchaseId);
      const [hook] = await eventually(async () => {
        const rows = await x.webhooksOf(payment.id);
        return rows.some((e) => e.processedAt) ? rows : null;
      });
      expect(hook!.verified).toBe(true);
      expect((hook!.headers as { headers: Record<string, string> }).headers['content-type']).toContain('application/json');
      await eventually(async () => (await x.purchaseStatus(purchaseId)) === 4);

      // A JSON webhook whose header HMAC was made with another key: 400, nothing changes.
      const other = await unpaidPurchase(h);
      await x.addNewCard(other);
      const pending = await x.paymentOf(other);
      const body = JSON.stringify({
        payload: withSignature({ amount: '379.00', checkoutId: pending.providerReference!, currency: 'ZAR', id: 'f'.repeat(32), merchantTransactionId: pending.merchantReference, 'result.code': '000.100.110', 'result.description': 'ok' }, PEACH_SANDBOX_CREDENTIALS.secret_token),
      });
      const url = `${h.baseUrl}/callbacks/peach/webhook`;
      const timestamp = String(Date.now());
      const forged = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-id': 'w-1', 'x-webhook-timestamp': timestamp, 'x-webhook-signature-algorithm': 'HmacSHA256', 'x-webhook-signature': createHmac('sha256', 'not-the-secret').update(`${timestamp}.w-1.${url}.${body}`).digest('hex') },
        body,
      });
      expect(forged.status).toBe(400);
      expect(await x.paymentOf(other)).toMatchObject({ status: 'pending' });

      // The card the first checkout kept is charged on Peach's card host, citing the payment that stored it.
      const card = (await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.id, (await x.paymentOf(purchaseId)).createdMediumId!)))[0]!;
      const next = await unpaidPurchase(h);
      const paid = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: E14, medium_id: card.id, purchase_id: next } });
      expect(paid.status).toBe(200);
      const ref = (await x.paymentOf(next)).merchantReference;
      const ledger = (await (await fetch(`${h.baseUrl}/sandbox/peach/transactions?merchant_reference=${ref}`)).json()) as { items: { status: string; details: Record<string, unknown> }[] };
      const first = (await (await fetch(`${h.baseUrl}/sandbox/peach/transactions?merchant_reference=${payment.merchantReference}`)).json()) as { items: { id: string }[] };
      expect(ledger.items).toEqual([expect.objectContaining({ status: 'approved', details: expect.objectContaining({ standingInstruction: expect.objectContaining({ mode: 'REPEATED', source: 'MIT', initialTransactionId: first.items[0]!.id }) }) })]);
    } finally {
      await x.behave(null);
    }
  });
});

describe('Peach’s look-up allowance (two a minute)', () => {
  let h: Harness;
  beforeAll(async () => (h = await harness({ PAYRAIL_PEACH_LOOKUPS_PER_MINUTE: '2', PAYRAIL_SANDBOX_PEACH_LOOKUPS_PER_MINUTE: '2' })));
  afterAll(async () => {
    offsetMs = 0;
    await h?.close();
  });
  const x = helpers(() => h);

  it('spaces the janitor’s look-ups 30 s apart across attempts, so Peach never refuses one', async () => {
    const purchases = [await unpaidPurchase(h), await unpaidPurchase(h), await unpaidPurchase(h)];
    for (const p of purchases) expect((await x.addNewCard(p)).status).toBe(200);
    const asked: number[] = [];
    for (let step = 0; step < 4; step++) {
      offsetMs = 120_000 + step * 30_000;
      const run = await settleUnsettledPayments(h.ctx, { now: clock() });
      expect(run.failedChecks).toBe(0);
      const payments = await Promise.all(purchases.map((p) => x.paymentOf(p)));
      asked.push(payments.filter((p) => p.raw && (p.raw as Record<string, unknown>)['result.code'] === '000.200.000').length);
      for (const p of payments) expect(p.lastCheckError).toBeNull();
    }
    // One more attempt asked per 30 s step, never two at once.
    expect(asked).toEqual([1, 2, 3, 3]);
  });
});
