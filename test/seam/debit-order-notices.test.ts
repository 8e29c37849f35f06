import { createServer, type IncomingHttpHeaders } from 'node:http';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/context.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { addDays, civilDate } from '../../src/domain/periods.ts';
import { readPaymentFeeds } from '../../src/modules/payments/payment-feeds.ts';
import { paymentReturns, payments, providerEvents, providerFeeds } from '../../src/modules/payments/schema.ts';
import { createWebhookEndpoint } from '../../src/modules/webhooks/endpoints.ts';
import { outboxEvents } from '../../src/modules/webhooks/schema.ts';
import { verifyPayrailSignature } from '../../src/modules/webhooks/signature.ts';
import { runWebhookJobs } from '../../src/jobs/webhooks.ts';
import { RETRY_AFTER_MS } from '../../src/sandboxes/debitsuccess/webhooks.ts';
import { captureBankAccount } from '../helpers/debitsuccess.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * What Debitsuccess tells payrail about debit orders after they are made (SPEC §11), over real HTTP to its
 * sandbox: the status webhook (X-Token) settles them; a forged one changes nothing and a duplicate is
 * absorbed; with the webhook disabled after failed deliveries, the payment-status feed settles every one;
 * and a debit order returned after it cleared leaves the payment succeeded but its purchase owed again,
 * the service in arrears, and `payment.returned` delivered signed to the operator.
 */
let h: Harness;
let paidEvents: string;
let offset = 0;
beforeAll(async () => {
  h = await createHarness({ listen: true, clock: () => new Date(Date.now() + offset) });
  // The outbox keeps only events an endpoint takes; payment.returned is taken by its test's own receiver.
  paidEvents = await takeEveryEvent(h.ctx, { eventTypes: ['purchase.paid'] });
});
afterAll(() => h?.close());

const sandbox = () => `${h.baseUrl}/sandbox/debitsuccess`;
const now = () => h.ctx.clock();


/** A new Recurring order with its upfront purchase unpaid, debited from a bank account: the attempt. */
async function debitOrder(accountNumber: string): Promise<{ serviceId: string; purchaseId: string; mediumId: string; paymentId: string; reference: string }> {
  const order = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
  expect(order.status).toBe(201);
  const serviceId = order.body.service.id as string;
  const purchaseId = order.body.upfront_purchase.id as string;
  const mediumId = await captureBankAccount(h, serviceId, accountNumber);
  const submitted = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: serviceId, purchase_id: purchaseId, medium_id: mediumId } });
  expect(submitted.status, submitted.text).toBe(202);
  const [payment] = (await h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: h.tokens.integrator })).body.items;
  expect(payment).toMatchObject({ provider: 'Debitsuccess', status: 'pending', returned: null });
  return { serviceId, purchaseId, mediumId, paymentId: payment.id, reference: payment.merchant_reference };
}

const payment = async (id: string) => (await h.ctx.database.db.select().from(payments).where(eq(payments.id, id)))[0]!;
const purchase = async (purchaseId: string) => (await h.call('GET', `/purchases/${purchaseId}`, { token: h.tokens.integrator })).body;
const details = async (serviceId: string) => (await h.call('GET', `/services/${serviceId}/details-and-actions`, { token: h.tokens.customer })).body;
const bankDay = async () => expect((await fetch(`${sandbox()}/bank-day`, { method: 'POST' })).status).toBe(200);
const ledger = async (reference: string) => ((await (await fetch(`${sandbox()}/transactions?merchant_reference=${encodeURIComponent(reference)}`)).json()) as { items: { status: string }[] }).items;
const behave = (body: Record<string, unknown>) => fetch(`${sandbox()}/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const eventsOf = async (type: string) => (await h.ctx.database.db.select().from(outboxEvents).where(eq(outboxEvents.type, type))).map((e) => e.payload as { data: Record<string, unknown> });
const until = async <T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> => {
  for (let i = 0; i < 100; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};
/** The feed, read as if its minute had come. */
const readFeed = () => readPaymentFeeds(h.ctx, { now: new Date(now().getTime() + 3_600_000 * 24) });

/** The status webhook as Debitsuccess sends it, for a debit order of ours. */
function statusChange(reference: string, paymentId: string, status: string, token = 'ds-sandbox-x-token') {
  const body = JSON.stringify({
    PaymentId: paymentId,
    ExternalPaymentIdentifier: reference,
    AccountReference: 'TST0000001',
    ExternalAccountReference: DEMO.customerId,
    ContractPrefix: 'TST',
    Amount: 1,
    Status: status,
    StatusReason: null,
    IsReturn: false,
    StatusDateTime: '2026-12-04T08:00:00.000Z',
  });
  return fetch(`${h.baseUrl}/callbacks/debitsuccess/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Token': token, 'X-EventName': 'Account.Payment.StatusChanged', 'X-TraceId': crypto.randomUUID() },
    body,
  });
}

describe('the payment-status feed', () => {
  it('is not read while payrail has no debit order in flight or watched: a provider nobody uses is not asked', async () => {
    expect(await readPaymentFeeds(h.ctx, { now: new Date(now().getTime() + 86_400_000) })).toEqual({ read: 0, applied: 0, more: false });
    expect(await h.ctx.database.db.select().from(providerFeeds)).toEqual([]);
  });
});

describe('Debitsuccess status webhooks', () => {
  it('settle a debit order when it clears; a forged one (wrong X-Token) changes nothing; a duplicate is absorbed', async () => {
    const order = await debitOrder('1234567890');
    const providerReference = (await payment(order.paymentId)).providerReference!;

    // Forged: claims the debit order cleared, without the agreed token. Answered 200 (Debitsuccess's rule), nothing moves.
    expect((await statusChange(order.reference, providerReference, 'Cleared', 'not-the-token')).status).toBe(200);
    expect((await statusChange(order.reference, providerReference, 'Cleared', '')).status).toBe(200);
    const rejected = await until(
      () => h.ctx.database.db.select().from(providerEvents).where(eq(providerEvents.merchantReference, order.reference)),
      (rows) => rows.length === 2 && rows.every((r) => r.processedAt !== null),
      'the forged notices to be processed',
    );
    expect(rejected.map((r) => r.outcome)).toEqual(['rejected: X-Token is missing or not the agreed token', 'rejected: X-Token is missing or not the agreed token']);
    expect((await payment(order.paymentId)).status).toBe('pending');
    expect((await purchase(order.purchaseId)).purchase_status_id).toBe(2);

    // The bank day moves: Debitsuccess's own webhook (with its token) says Cleared, and the purchase is paid.
    await bankDay();
    await until(() => payment(order.paymentId), (p) => p.status === 'succeeded', 'the Cleared webhook');
    expect((await purchase(order.purchaseId)).purchase_status_id).toBe(4);

    // The same notice again (a retry by Debitsuccess): absorbed, once.
    const [verified] = await h.ctx.database.db.select().from(providerEvents).where(eq(providerEvents.merchantReference, order.reference)).then((rows) => rows.filter((r) => r.verified));
    const again = await fetch(`${h.baseUrl}/callbacks/debitsuccess/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Token': 'ds-sandbox-x-token', 'X-EventName': 'Account.Payment.StatusChanged', 'X-TraceId': crypto.randomUUID() },
      body: await rawBodyOf(verified!.id),
    });
    expect(again.status).toBe(200);
    const rows = await until(
      () => h.ctx.database.db.select().from(providerEvents).where(eq(providerEvents.merchantReference, order.reference)),
      (r) => r.filter((x) => x.verified).length === 2 && r.every((x) => x.processedAt !== null),
      'the duplicate to be processed',
    );
    expect(rows.filter((r) => r.verified).map((r) => r.outcome).sort()).toEqual([expect.stringMatching(/^duplicate/), 'processed']);
    expect(await ledger(order.reference)).toHaveLength(1);
    expect((await eventsOf('purchase.paid')).filter((e) => e.data.purchase_id === order.purchaseId)).toHaveLength(1);
  });

  it('with the webhook disabled after failed deliveries, the payment-status feed still settles every debit order', async () => {
    // Debitsuccess's deliveries fail (nothing listens there): three retries 180 s apart, then it disables the webhook.
    expect((await behave({ webhookUrl: 'http://127.0.0.1:9/debitsuccess' })).status).toBe(200);
    try {
      const cleared = await debitOrder('1234567890');
      const alsoCleared = await debitOrder('1234567890');
      const refused = await debitOrder('1111111111');
      await bankDay();
      for (let retry = 0; retry < 4; retry++) {
        offset += RETRY_AFTER_MS + 1_000;
        await new Promise((r) => setTimeout(r, 400));
      }
      const webhook = await until(async () => (await (await fetch(`${sandbox()}/webhook`)).json()) as { enabled: boolean }, (w) => !w.enabled, 'Debitsuccess to disable the webhook');
      expect(webhook.enabled).toBe(false);
      for (const o of [cleared, alsoCleared, refused]) expect((await payment(o.paymentId)).status).toBe('pending');

      const run = await readFeed();
      expect(run.applied).toBe(3);
      expect((await payment(cleared.paymentId)).status).toBe('succeeded');
      expect((await payment(alsoCleared.paymentId)).status).toBe('succeeded');
      expect(await payment(refused.paymentId)).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds' });
      expect((await purchase(cleared.purchaseId)).purchase_status_id).toBe(4);
      expect((await purchase(refused.purchaseId)).purchase_status_id).toBe(3);

      // Read again: nothing more is applied, and no debit order was made twice.
      expect((await readFeed()).applied).toBe(0);
      for (const o of [cleared, alsoCleared, refused]) expect(await ledger(o.reference)).toHaveLength(1);
    } finally {
      await behave({ webhookUrl: null });
      await fetch(`${sandbox()}/webhook/enable`, { method: 'POST' });
    }
  });
});

describe('a debit order returned after it cleared (2222222222)', () => {
  it('stays succeeded; its purchase is owed again, the service InArrears, and payment.returned is delivered signed', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // The endpoint that nothing listens at waits (disabled), so the jobs deliver to this receiver alone.
    expect((await h.call('PATCH', `/webhook-endpoints/${paidEvents}`, { token: h.tokens.integrator, body: { enabled: false } })).status).toBe(200);
    const { secret } = await createWebhookEndpoint(h.ctx, DEMO.operatorId, SYSTEM_ACTOR, { url: `http://127.0.0.1:${port}/payrail`, eventTypes: ['payment.returned'] });
    try {
      const order = await debitOrder('2222222222');
      await bankDay(); // Cleared
      await until(() => payment(order.paymentId), (p) => p.status === 'succeeded', 'the debit order to clear');
      expect((await purchase(order.purchaseId)).purchase_status_id).toBe(4);
      expect((await details(order.serviceId)).billing_status).toBe('PaidUp');

      await bankDay(); // Settled
      await bankDay(); // Failed, isReturn: returned unpaid
      await until(() => purchase(order.purchaseId), (p) => p.purchase_status_id === 3, 'the return to reopen the purchase');

      // Nothing moved the payment backwards: it succeeded, and its money came back.
      const listed = (await h.call('GET', `/payments?purchaseId=${order.purchaseId}`, { token: h.tokens.integrator })).body.items;
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ status: 'succeeded', returned: { reason_code: 'Failed', reason: 'Returned unpaid: disputed by the account holder' } });
      const returns = await h.ctx.database.db.select().from(paymentReturns).where(eq(paymentReturns.paymentId, order.paymentId));
      expect(returns).toHaveLength(1);
      expect(returns[0]).toMatchObject({ via: 'callback', amountCents: (await payment(order.paymentId)).amountCents });
      // The service owes it again: InArrears, suspended after the operator's 7 grace days unless paid.
      const d = await details(order.serviceId);
      expect(d).toMatchObject({ billing_status: 'InArrears', suspension_date: addDays(civilDate(now()), 7) });
      expect((await purchase(order.purchaseId)).payment_reference).toBeNull();
      // The customer is asked to pay it again (details-and-actions names it as what must be paid).
      expect(d.must_pay_info).toMatchObject({ must_pay: true, arrears_purchase: { id: order.purchaseId, purchase_status_id: 3 } });

      // The feed brings the same return again: absorbed.
      await readFeed();
      expect(await h.ctx.database.db.select().from(paymentReturns).where(eq(paymentReturns.paymentId, order.paymentId))).toHaveLength(1);
      const events = (await eventsOf('payment.returned')).filter((e) => e.data.payment_id === order.paymentId);
      expect(events).toHaveLength(1);
      expect(events[0]!.data).toMatchObject({ purchase_id: order.purchaseId, service_id: order.serviceId, provider: 'Debitsuccess', reason: 'Returned unpaid: disputed by the account holder', purchase_status_id: 3 });
      const staff = (await h.call('GET', '/payment-returns', { token: h.tokens.integrator })).body.items;
      expect(staff.find((r: { payment_id: string }) => r.payment_id === order.paymentId)).toMatchObject({ purchase_id: order.purchaseId, reason_code: 'Failed' });

      // Delivered to the operator, signed with its endpoint's secret.
      await runWebhookJobs(h.ctx);
      const delivery = received.find((r) => r.headers['payrail-event-type'] === 'payment.returned' && r.body.includes(order.paymentId));
      expect(delivery).toBeDefined();
      expect(verifyPayrailSignature(delivery!.headers['payrail-signature'] as string, delivery!.body, secret, { now: now() })).toBe(true);

      // Owed again: another debit order may collect it (a new attempt), and only one is live.
      const again = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: order.serviceId, purchase_id: order.purchaseId, medium_id: order.mediumId } });
      expect(again.status, again.text).toBe(202);
      const twice = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: order.serviceId, purchase_id: order.purchaseId, medium_id: order.mediumId } });
      expect(twice.status).toBe(409);
      expect((await h.call('GET', `/payments?purchaseId=${order.purchaseId}`, { token: h.tokens.integrator })).body.items.map((x: { status: string }) => x.status)).toEqual(['pending', 'succeeded']);
      // The feed is watched 40 days after the last debit order in flight (returns come that late), then left alone.
      const [feed] = await h.ctx.database.db.select().from(providerFeeds);
      expect(feed!.watchUntil!.getTime()).toBeGreaterThan(now().getTime() + 39 * 86_400_000);
    } finally {
      server.close();
    }
  });
});

/** A stored callback's body as received (opened from its sealed column). */
async function rawBodyOf(rowId: string): Promise<string> {
  const { openBody } = await import('../../src/modules/payments/provider-callbacks.ts');
  const [row] = await h.ctx.database.db.select().from(providerEvents).where(eq(providerEvents.id, rowId));
  return openBody(h.ctx, row!);
}
