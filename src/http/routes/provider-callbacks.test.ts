import { createServer, type Server } from 'node:http';
import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../db/schema.ts';
import { DEMO } from '../../demo/ids.ts';
import { connectorContext } from '../../modules/payments/connector-context.ts';
import { processCallback } from '../../modules/payments/provider-callbacks.ts';
import { settlePayment } from '../../modules/payments/settle-payment.ts';
import { verifyPayrailSignature } from '../../modules/webhooks/signature.ts';
import { runWebhookJobs } from '../../jobs/webhooks.ts';
import { PAYFAST_SANDBOX_MERCHANT } from '../../providers/payfast/credentials.ts';
import { itnSignature, paramString } from '../../providers/payfast/signature.ts';
import { approvedCharges, CARDS, eventually, formOf, payOnHostedPage, postForm, storedCallbacks, unpaidPurchase as newUnpaidPurchase } from '../../../test/helpers/collections.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { takeEveryEvent } from '../../../test/helpers/events.ts';

const E14 = DEMO.services.recurringInArrears;
let h: Harness;
let everyEvent: string;
beforeAll(async () => {
  h = await createHarness({ listen: true });
  everyEvent = await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
});
afterAll(async () => h?.close());

const db = () => h.ctx.database.db;
const submit = (body: Record<string, unknown>, token = h.tokens.customer) => h.call('POST', '/purchases/submit-for-collection', { token, body });
const purchaseRow = async (id: string) => (await db().select().from(t.purchases).where(eq(t.purchases.id, id)))[0]!;
const paymentsOf = (purchaseId: string) => db().select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId));

const unpaidPurchase = (amount?: number) => newUnpaidPurchase(h, E14, amount);

/** Submits a purchase with the PaymentLink medium: a pending PayFast attempt and its page. */
async function linkAttempt() {
  const purchaseId = await unpaidPurchase();
  const res = await submit({ service_id: E14, medium_id: DEMO.mediums.paymentLink, purchase_id: purchaseId });
  expect(res.status).toBe(200);
  const [payment] = await paymentsOf(purchaseId);
  return { purchaseId, url: res.body.payment_link_url as string, payment: payment! };
}

// The ITN receiver PayFast's connector declares; its earlier address is served too (see the legacy-path test).
const itnUrl = () => `${h.baseUrl}/callbacks/payfast/itn`;
const postItn = (body: string) => fetch(itnUrl(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
const eventsFor = (paymentId: string) => db().select().from(t.providerEvents).where(eq(t.providerEvents.paymentId, paymentId));

describe('PayFast ITN', () => {
  it('a duplicate ITN is stored, and recognised as repeating the settled payment: processed once', async () => {
    const { purchaseId, url, payment } = await linkAttempt();
    await payOnHostedPage(url, CARDS.approve);
    await eventually(async () => (await purchaseRow(purchaseId)).statusId === 4);
    const [sent] = await db().select().from(t.sandboxNotifications).where(and(eq(t.sandboxNotifications.provider, 'PayFast'), like(t.sandboxNotifications.body, `m_payment_id=${payment.merchantReference}&%`)));
    expect(sent).toBeDefined();

    const again = await postItn(sent!.body);
    expect(again.status).toBe(200);
    await eventually(async () => (await eventsFor(payment.id)).filter((e) => e.processedAt).length === 2);
    const events = await eventsFor(payment.id);
    // The first settled the payment; the second repeats it exactly, so it is not confirmed with PayFast again.
    expect(events.map((e) => e.outcome?.split(':')[0]).sort()).toEqual(['processed', 'processed']);
    const repeats = events.filter((e) => e.outcome?.startsWith(`processed: repeats the settled outcome of payment ${payment.id} (succeeded)`) && !e.verified);
    expect(repeats).toHaveLength(1);
    // Processed again (the callbacks job and the request both at it): the same outcome, nothing else changes.
    expect(await processCallback(h.ctx, repeats[0]!.id)).toMatchObject({ verdict: 'processed', payment: { id: payment.id, status: 'succeeded' } });
    expect((await eventsFor(payment.id)).find((e) => e.id === repeats[0]!.id)).toMatchObject({ verified: false, outcome: repeats[0]!.outcome });
    expect((await paymentsOf(purchaseId)).map((p) => p.status)).toEqual(['succeeded']);
    const paidEvents = (await db().select().from(t.outboxEvents).where(eq(t.outboxEvents.type, 'purchase.paid'))).filter((e) => (e.payload as { data: { purchase_id: string } }).data.purchase_id === purchaseId);
    expect(paidEvents).toHaveLength(1);
  });

  it('an ITN naming a settled payment’s transaction with another status or amount is no repeat: PayFast is asked, and nothing changes', async () => {
    const { purchaseId, url, payment } = await linkAttempt();
    await payOnHostedPage(url, CARDS.approve);
    await eventually(async () => (await purchaseRow(purchaseId)).statusId === 4);
    const [paid] = await paymentsOf(purchaseId);
    const signedItn = (status: string, gross: string) => {
      const params = paramString([
        ['m_payment_id', payment.merchantReference], ['pf_payment_id', paid!.providerReference!], ['payment_status', status], ['item_name', 'x'], ['item_description', ''],
        ['amount_gross', gross], ['amount_fee', '0.00'], ['amount_net', gross], ['merchant_id', PAYFAST_SANDBOX_MERCHANT.merchantId],
      ]);
      return `${params}&signature=${itnSignature(params, PAYFAST_SANDBOX_MERCHANT.passphrase)}`;
    };
    for (const body of [signedItn('FAILED', '379.00'), signedItn('COMPLETE', '1.00')]) expect((await postItn(body)).status).toBe(200);
    const forged = await eventually(async () => {
      const r = await storedCallbacks(h, (b) => b.startsWith(`m_payment_id=${payment.merchantReference}&`) && b.includes('amount_fee=0.00'));
      return r.length === 2 && r.every((e) => e.processedAt) ? r : null;
    });
    // Neither was taken as a repeat: both went to PayFast's validate service, which never sent them.
    expect(forged.map((e) => [e.verified, e.rejection])).toEqual([
      [false, 'server confirmation: PayFast answered INVALID.'],
      [false, 'server confirmation: PayFast answered INVALID.'],
    ]);
    expect((await paymentsOf(purchaseId)).map((p) => [p.status, p.providerReference])).toEqual([['succeeded', paid!.providerReference]]);
    expect((await purchaseRow(purchaseId)).statusId).toBe(4);
  });

  it('stores an ITN whose query string carries a NUL (%00), as sent but for the NUL, and answers 200', async () => {
    const { purchaseId, payment } = await linkAttempt();
    const body = `m_payment_id=${payment.merchantReference}&pf_payment_id=999003&payment_status=COMPLETE`;
    const res = await fetch(`${itnUrl()}?x=%00&%00=1`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(res.status).toBe(200);
    const [row] = await eventually(async () => {
      const r = await storedCallbacks(h, (b) => b === body);
      return r[0]?.processedAt ? r : null;
    });
    expect((row!.headers as { query: Record<string, string> }).query).toEqual({ x: '\uFFFD', '\uFFFD': '1' });
    expect(row!.rejection).toMatch(/^signature/);
    expect((await purchaseRow(purchaseId)).statusId).toBe(2);
  });

  it('a bad signature is rejected, logged with its reason, and changes nothing', async () => {
    const { purchaseId, payment } = await linkAttempt();
    const params = paramString([
      ['m_payment_id', payment.merchantReference], ['pf_payment_id', '999001'], ['payment_status', 'COMPLETE'], ['item_name', 'x'], ['amount_gross', '379.00'], ['merchant_id', PAYFAST_SANDBOX_MERCHANT.merchantId],
    ]);
    const res = await postItn(`${params}&signature=${'0'.repeat(32)}`);
    expect(res.status).toBe(200); // PayFast is answered at once; verification follows
    const rows = await eventually(async () => {
      const r = await storedCallbacks(h, (b) => b.startsWith(`m_payment_id=${payment.merchantReference}&pf_payment_id=999001`));
      return r[0]?.processedAt ? r : null;
    });
    expect(rows[0]).toMatchObject({ verified: false });
    expect(rows[0]!.rejection).toMatch(/signature/i);
    expect((await purchaseRow(purchaseId)).statusId).toBe(2);
    expect((await paymentsOf(purchaseId))[0]!.status).toBe('pending');
  });

  it('a correctly signed ITN that PayFast never sent fails server validation and changes nothing', async () => {
    const { purchaseId, payment } = await linkAttempt();
    const params = paramString([
      ['m_payment_id', payment.merchantReference], ['pf_payment_id', '999002'], ['payment_status', 'COMPLETE'], ['item_name', 'x'], ['item_description', ''],
      ['amount_gross', '379.00'], ['amount_fee', '-15.27'], ['amount_net', '363.73'], ['merchant_id', PAYFAST_SANDBOX_MERCHANT.merchantId],
    ]);
    await postItn(`${params}&signature=${itnSignature(params, PAYFAST_SANDBOX_MERCHANT.passphrase)}`);
    const rows = await eventually(async () => {
      const r = await storedCallbacks(h, (b) => b.includes('pf_payment_id=999002'));
      return r[0]?.processedAt ? r : null;
    });
    expect(rows[0]!.verified).toBe(false);
    expect(rows[0]!.rejection).toMatch(/valid/i);
    expect((await purchaseRow(purchaseId)).statusId).toBe(2);
  });

  it('an ITN for another amount is rejected and changes nothing', async () => {
    const { purchaseId, payment } = await linkAttempt();
    // A genuine PayFast payment of R1.00 carrying our attempt's reference.
    const session = await h.ctx.connectors.get('PayFast').createPaymentLink!(
      { merchantReference: payment.merchantReference, amount: { amountCents: 100, currency: 'ZAR' }, description: 'Not the purchase', customer: { id: DEMO.customerId, name: 'K Nel', email: null, cellNumber: null }, returnUrl: `${h.baseUrl}/app/x/1`, cancelUrl: `${h.baseUrl}/app/x/0`, notificationUrl: itnUrl(), tokenise: false },
      connectorContext(h.ctx, h.ctx.connectors.get('PayFast')),
    );
    await payOnHostedPage(session.redirectUrl, CARDS.approve);
    const rows = await eventually(async () => {
      const r = (await eventsFor(payment.id)).filter((e) => e.processedAt);
      return r.length > 0 ? r : null;
    });
    expect(rows[0]!.outcome).toMatch(/^rejected: amount/);
    expect((await purchaseRow(purchaseId)).statusId).toBe(2);
    expect((await paymentsOf(purchaseId))[0]!.status).toBe('pending');
  });
});

describe('callback addresses', () => {
  it('serves each declared callback at its path and its earlier one; an unsigned post to either changes nothing', async () => {
    for (const path of ['/callbacks/payfast/itn', '/payfast-payments/itn']) {
      const res = await fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'm_payment_id=nobody' });
      expect(res.status).toBe(200); // PayFast's rule: answered at once, verified after
    }
    for (const path of ['/callbacks/peach/webhook', '/peach-payments/webhook']) {
      const res = await fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'checkoutId=x' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const spec = (await h.call('GET', '/openapi.json', { token: null })).body as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/callbacks/payfast/itn', '/callbacks/peach/webhook', '/peach-redirect/{collectorId}']));
  });
});

describe('states never move backwards', () => {
  it('a late failure for a succeeded payment is ignored (and reported), the purchase stays Paid', async () => {
    const purchaseId = await unpaidPurchase();
    expect((await submit({ service_id: E14, medium_id: DEMO.mediums.card, purchase_id: purchaseId })).status).toBe(200);
    const [payment] = await paymentsOf(purchaseId);
    const late = await settlePayment(h.ctx, { paymentId: payment!.id, via: 'callback', result: { status: 'failed', providerReference: null, failure: { code: 'x', message: 'late', kind: 'declined' }, raw: null } });
    expect(late.changed).toBe(false);
    expect(late.conflict).toMatch(/succeeded/);
    const pending = await settlePayment(h.ctx, { paymentId: payment!.id, via: 'callback', result: { status: 'pending', providerReference: null, raw: null } });
    expect(pending.changed).toBe(false);
    expect((await purchaseRow(purchaseId)).statusId).toBe(4);
    expect((await paymentsOf(purchaseId))[0]!.status).toBe('succeeded');
  });
});

describe('Peach webhook', () => {
  it('arrives signed, is verified and stored once, and agrees with the redirect', async () => {
    const purchaseId = await unpaidPurchase();
    const ui = `${h.baseUrl}/app/ext-pay/${DEMO.customerUserId}/${purchaseId}/1`;
    const res = await submit({ service_id: E14, medium_id: '00000000-0000-0000-0000-000000000000'.replace(/^.*$/, 'aa8b416b-a7d9-4bc0-af81-041722e11ad4'), purchase_id: purchaseId, success_url: `${h.baseUrl}/peach-redirect/${DEMO.collectorId}?url=${encodeURIComponent(ui)}` });
    expect(res.status).toBe(200);
    const back = await payOnHostedPage(res.body.payment_link_url, CARDS.approve);
    const { action, fields } = formOf(await back.text(), res.body.payment_link_url);
    const [payment] = await paymentsOf(purchaseId);
    // The webhook alone settles it, whether or not the browser comes back.
    await eventually(async () => (await eventsFor(payment!.id)).some((e) => e.channel === 'webhook' && e.processedAt));
    expect((await purchaseRow(purchaseId)).statusId).toBe(4);
    const landing = await postForm(action, fields);
    expect(landing.headers.get('location')).toBe(ui);
    const events = await eventsFor(payment!.id);
    expect(events.filter((e) => e.verified).map((e) => e.channel).sort()).toEqual(['redirect', 'webhook']);
  });
});

describe('PayFast card update (seed 000)', () => {
  it('returns the PayFast page URL for the card; the new card arrives by notification and the medium shows it', async () => {
    const res = await h.call('GET', `/payfast-payments/card-medium-update/${DEMO.mediums.card}`);
    expect(res.status).toBe(200);
    expect(res.body.pay_fast_url).toMatch(new RegExp(`^${h.baseUrl}/sandbox/payfast/eng/recurring/update/[0-9a-f-]{36}$`));
    const back = `${h.baseUrl}/app/card-updated`;
    const answer = await payOnHostedPage(`${res.body.pay_fast_url}?return=${encodeURIComponent(back)}`, '5200000000000007', { expiry: '11/32' });
    expect([302, 303]).toContain(answer.status);
    expect(answer.headers.get('location')).toBe(back);
    await eventually(async () => (await db().select().from(t.mediums).where(eq(t.mediums.id, DEMO.mediums.card)))[0]!.accountNumber === '0007');
    const [medium] = await db().select().from(t.mediums).where(eq(t.mediums.id, DEMO.mediums.card));
    expect(medium).toMatchObject({ status: 'Valid', expiryMonth: 11, expiryYear: 2032 });
    // The same token charges the new card: still exactly one charge per payment.
    const before = (await approvedCharges(h, 'payfast')).length;
    const purchaseId = await unpaidPurchase();
    expect((await submit({ service_id: E14, medium_id: DEMO.mediums.card, purchase_id: purchaseId })).status).toBe(200);
    expect((await approvedCharges(h, 'payfast')).length).toBe(before + 1);
  });

  it('is 404 for another customer’s medium and 422 for a medium whose provider has no card-update page', async () => {
    expect((await h.call('GET', `/payfast-payments/card-medium-update/${DEMO.mediums.card}`, { token: h.tokens.otherCustomer })).status).toBe(404);
    const res = await h.call('GET', `/payfast-payments/card-medium-update/${DEMO.mediums.offSystem}`);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('medium.card_update_unavailable');
  });
});

describe('outbound webhooks', () => {
  let receiver: Server;
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const seen = new Map<string, number>();
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        // Fails the first two tries of every event.
        const id = String(req.headers['payrail-event-id']);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        if (seen.get(id)! <= 2) res.writeHead(500).end('not yet');
        else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('purchase.paid reaches the operator signed; a receiver failing twice gets it on the third try, and the log shows all three', async () => {
    const port = (receiver.address() as { port: number }).port;
    // The endpoint that nothing listens at waits (disabled), so the jobs deliver to this receiver alone.
    expect((await h.call('PATCH', `/webhook-endpoints/${everyEvent}`, { token: h.tokens.integrator, body: { enabled: false } })).status).toBe(200);
    const created = await h.call('POST', '/webhook-endpoints', { token: h.tokens.integrator, body: { url: `http://127.0.0.1:${port}/hooks`, event_types: ['purchase.paid'] } });
    expect(created.status).toBe(201);
    const purchaseId = await unpaidPurchase();
    expect((await submit({ service_id: E14, medium_id: DEMO.mediums.card, purchase_id: purchaseId })).status).toBe(200);

    let now = Date.now();
    for (let i = 0; i < 3; i++) {
      await runWebhookJobs(h.ctx, new Date(now));
      now += 60_000;
    }
    const ours = received.filter((r) => JSON.parse(r.body).data.purchase_id === purchaseId);
    expect(ours).toHaveLength(3);
    for (const r of ours) {
      expect(r.headers['payrail-event-type']).toBe('purchase.paid');
      expect(verifyPayrailSignature(r.headers['payrail-signature'] as string, r.body, created.body.secret, { now: new Date(now) , toleranceSeconds: 3600 })).toBe(true);
    }
    const event = JSON.parse(ours[0]!.body);
    expect(event).toMatchObject({ type: 'purchase.paid', data: { purchase_id: purchaseId, amount: 379, purchase_status_id: 4 } });

    const log = await h.call('GET', `/webhook-endpoints/${created.body.id}/deliveries`, { token: h.tokens.integrator });
    const delivery = log.body.items.find((d: { event_id: string }) => d.event_id === event.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(delivery.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 200]);
  });
});
