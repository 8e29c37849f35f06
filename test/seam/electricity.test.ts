import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { SYSTEM_ACTOR } from '../../src/context.ts';
import { DEMO, DEMO_METERS } from '../../src/demo/ids.ts';
import { runWebhookJobs } from '../../src/jobs/webhooks.ts';
import { createWebhookEndpoint } from '../../src/modules/webhooks/endpoints.ts';
import { processRefund, workRefunds } from '../../src/modules/refunds/work-refunds.ts';
import { workVendAdvices } from '../../src/modules/utility/advices.ts';
import { workVends } from '../../src/modules/utility/vend.ts';
import { sandboxCardMedium } from '../helpers/collections.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * Prepaid electricity (SPEC §12) over real HTTP to the vendor sandbox and PayFast's: a meter's owner shown
 * before paying, a quote by amount, one charge, one vend, the token shown to its customer only, the vendor
 * told it arrived (a confirmation advice, once); a lost vend answer settled by retrying the same request; a
 * declined vend cancelled and its card payment refunded once; staff refunds; and tokens nowhere they should
 * not be (logs, webhooks, another tenant).
 */
const lines: string[] = [];
/** The operator's webhook endpoint: every event payrail delivers, as received. */
const delivered: { type: string; body: string }[] = [];
let h: Harness;
beforeAll(async () => {
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
      delivered.push({ type: (JSON.parse(body) as { type: string }).type, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receivers.push(receiver);
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  h = await createHarness({ listen: true, log: pino({ level: 'debug' }, sink) });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
  await createWebhookEndpoint(h.ctx, DEMO.operatorId, SYSTEM_ACTOR, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events` });
});
const receivers: Server[] = [];
afterAll(async () => {
  for (const r of receivers) {
    r.closeAllConnections();
    r.close();
  }
  await h?.close();
});

const customer = () => h.tokens.customer;
const staff = () => h.tokens.integrator;
const ledger = async (name: string, reference?: string) =>
  ((await (await fetch(`${h.baseUrl}/sandbox/${name}/transactions${reference ? `?merchant_reference=${reference}` : ''}`)).json()) as { items: { kind: string; status: string; amount_cents: number; merchant_reference: string; details: Record<string, unknown> }[] }).items;

/** A new electricity service of the demo customer on a meter. */
async function meterService(meterId: string): Promise<string> {
  const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.electricity, collector_id: DEMO.collectorId, meter_id: meterId } });
  expect(order.status, order.text).toBe(201);
  expect(order.body.upfront_purchase).toBeNull();
  return order.body.service.id;
}

/** Buys electricity for an amount with the demo card (a PayFast token): the paid purchase. */
async function buy(serviceId: string, amount: number): Promise<string> {
  const quote = await h.call('POST', '/purchases/buy-now', { token: customer(), body: { service_id: serviceId, amount } });
  expect(quote.status, quote.text).toBe(201);
  expect(quote.body).toMatchObject({ purchase_status_id: 6, purchase_creation_event_id: 7, amount });
  const paid = await h.call('POST', '/purchases/submit-for-collection', { token: customer(), body: { service_id: serviceId, purchase_id: quote.body.id, medium_id: DEMO.mediums.card } });
  expect(paid.status, paid.text).toBe(200);
  expect(paid.body).toMatchObject({ payment_status: 'succeeded', purchase_status_id: 4 });
  return quote.body.id;
}

const vendOf = async (purchaseId: string) => (await h.ctx.database.db.select().from(t.vends).where(eq(t.vends.purchaseId, purchaseId)))[0]!;
const tokensOf = (purchaseId: string, token = customer()) => h.call('GET', `/purchases/${purchaseId}/tokens`, { token });
const vendAll = async (times = 1, stepMs = 0) => {
  for (let i = 1; i <= times; i++) await workVends(h.ctx, { now: new Date(Date.now() + i * stepMs) });
};

describe('prepaid electricity', () => {
  it('shows whose meter it is before paying; an unknown meter is a clear 422 and nothing is bought', async () => {
    const meter = await h.call('GET', `/services/${DEMO.services.electricity}/meter`, { token: customer() });
    expect(meter.status, meter.text).toBe(200);
    expect(meter.body.meter_id).toBe(DEMO_METERS.vends);
    expect(meter.body.customer_name).toEqual(expect.any(String));
    const details = await h.call('GET', `/services/${DEMO.services.electricity}/details-and-actions`, { token: customer() });
    expect(details.body.can_buy_info).toMatchObject({ can_buy: true, variable_amount: { kind: 'utility', meter_id: DEMO_METERS.vends, min_amount: 10, max_amount: 3000 } });

    const unknown = await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.electricity, collector_id: DEMO.collectorId, meter_id: DEMO_METERS.unknown } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('meter.unknown');
    expect((await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.electricity, collector_id: DEMO.collectorId } })).body.code).toBe('order.meter_required');
    expect((await h.call('POST', '/orders', { token: staff(), body: { customer_id: DEMO.customerId, product_id: DEMO.products.electricity, collector_id: DEMO.collectorId, meter_id: 'not a meter!' } })).status).toBe(400);
    // Out of range, not rand, both ways at once: nothing created.
    const before = (await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.serviceId, DEMO.services.electricity))).length;
    for (const body of [{ amount: 5 }, { amount: 3000.01 }, { amount: 10.001 }, { amount: 'ten' }, {}, { amount: 10, purchase_lines: [] }]) {
      const res = await h.call('POST', '/purchases/buy-now', { token: customer(), body: { service_id: DEMO.services.electricity, ...body } });
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.serviceId, DEMO.services.electricity))).length).toBe(before);
  });

  it('meter 01234567890, R100 with the demo card: one charge, one vend, a 20-digit token to the customer, the confirmation advice sent once', async () => {
    const purchaseId = await buy(DEMO.services.electricity, 100);
    const [payment] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId));
    expect((await ledger('payfast', payment!.merchantReference)).filter((c) => c.status === 'approved' && c.kind !== 'refund')).toHaveLength(1);
    expect(await vendOf(purchaseId)).toMatchObject({ status: 'pending', amountCents: 10_000, meterId: DEMO_METERS.vends });
    expect((await tokensOf(purchaseId)).body.status).toBe('vending');

    await vendAll();
    const vend = await vendOf(purchaseId);
    expect(vend.status).toBe('succeeded');
    const shown = await tokensOf(purchaseId);
    expect(shown.status, shown.text).toBe(200);
    expect(shown.body.status).toBe('issued');
    expect(shown.body.tokens).toHaveLength(1);
    expect(shown.body.tokens[0].token).toMatch(/^\d{4}-\d{4}-\d{4}-\d{4}-\d{4}$/);
    expect(Number(shown.body.tokens[0].units)).toBeGreaterThan(0);
    expect((await tokensOf(purchaseId, staff())).body.tokens).toEqual(shown.body.tokens);
    const vended = (await ledger('vendor', vend.requestId)).filter((r) => r.kind === 'vend');
    expect(vended.map((r) => [r.status, r.amount_cents])).toEqual([['approved', 10_000]]);

    // Sealed at rest: the digits are nowhere in the vends row.
    const digits = shown.body.tokens[0].token.replaceAll('-', '');
    expect(JSON.stringify(vend)).not.toContain(digits);

    await workVendAdvices(h.ctx);
    await workVendAdvices(h.ctx, { now: new Date(Date.now() + 3_600_000) });
    const advices = ((await (await fetch(`${h.baseUrl}/sandbox/vendor/advices?request_id=${vend.requestId}`)).json()) as { items: { kind: string }[] }).items;
    expect(advices.filter((a) => /confirm/i.test(a.kind))).toHaveLength(1);
    const [advice] = await h.ctx.database.db.select().from(t.vendAdvices).where(eq(t.vendAdvices.vendId, vend.id));
    expect(advice).toMatchObject({ kind: 'confirmation', status: 'delivered', attempts: 1 });

    // A reprint is the same token, never a new purchase.
    const reprint = await h.call('POST', `/purchases/${purchaseId}/tokens/reprint`, { token: customer() });
    expect(reprint.status, reprint.text).toBe(200);
    expect(reprint.body.tokens.map((k: { token: string }) => k.token)).toEqual([shown.body.tokens[0].token]);
    expect((await ledger('vendor', vend.requestId)).filter((r) => r.kind === 'vend')).toHaveLength(1);

    // Another customer, and another operator, see no tokens.
    expect((await tokensOf(purchaseId, h.tokens.otherCustomer)).status).toBe(404);
    expect((await tokensOf(purchaseId, h.tokens.otherOperatorIntegrator)).status).toBe(404);
  });

  it('meter …0408: the first answer is lost; the retry with the same id returns the same token; one token in the vendor’s ledger', async () => {
    const serviceId = await meterService(DEMO_METERS.lostFirstAnswer);
    const purchaseId = await buy(serviceId, 150);
    await vendAll();
    let vend = await vendOf(purchaseId);
    expect(vend.status).toBe('unknown');
    expect((await tokensOf(purchaseId)).body.status).toBe('vending');
    await vendAll(1, 60_000);
    vend = await vendOf(purchaseId);
    expect(vend).toMatchObject({ status: 'succeeded', sends: 2 });
    const shown = await tokensOf(purchaseId);
    expect(shown.body.tokens).toHaveLength(1);
    const issued = (await ledger('vendor', vend.requestId)).filter((r) => r.kind === 'vend' && r.status === 'approved');
    expect(issued).toHaveLength(1);
  });

  it('meter …0503: the vend is refused; the purchase is cancelled and its card payment refunded once; payment.refunded delivered', async () => {
    const serviceId = await meterService(DEMO_METERS.refused);
    const purchaseId = await buy(serviceId, 200);
    await vendAll();
    const vend = await vendOf(purchaseId);
    expect(vend.status).toBe('failed');
    const purchase = await h.call('GET', `/purchases/${purchaseId}`, { token: customer() });
    expect(purchase.body.purchase_status_id).toBe(7);
    const [payment] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId));
    const refunds = await h.ctx.database.db.select().from(t.refunds).where(eq(t.refunds.paymentId, payment!.id));
    expect(refunds.map((r) => [r.status, r.reason, r.amountCents])).toEqual([['succeeded', 'vend_declined', 20_000]]);
    expect(payment!.status).toBe('succeeded');
    expect(payment!.refundedAt).not.toBeNull();
    const back = (await ledger('payfast')).filter((r) => r.kind === 'refund' && r.details.refunded_transaction_id === payment!.providerReference);
    expect(back.map((r) => [r.status, r.amount_cents])).toEqual([['approved', 20_000]]);
    const shown = await tokensOf(purchaseId);
    expect(shown.body).toMatchObject({ status: 'failed', tokens: [], refund: { status: 'succeeded', amount: 200, reason: 'vend_declined' } });
    const events = (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, 'payment.refunded'))).filter((e) => (e.payload as { data: { payment_id: string } }).data.payment_id === payment!.id);
    expect(events).toHaveLength(1);
    // Delivered to the operator's endpoint, once.
    await runWebhookJobs(h.ctx);
    const got = delivered.filter((d) => d.type === 'payment.refunded' && d.body.includes(payment!.id));
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.body).data).toMatchObject({ payment_id: payment!.id, purchase_id: purchaseId, amount: 200, reason: 'vend_declined', status: 'succeeded' });
    // Running the jobs again changes nothing: never refunded twice.
    await workRefunds(h.ctx, { now: new Date(Date.now() + 7_200_000) });
    await vendAll(1, 3_600_000);
    expect((await ledger('payfast')).filter((r) => r.kind === 'refund' && r.details.refunded_transaction_id === payment!.providerReference)).toHaveLength(1);
  });

  it('meter …0503 paid with a card kept at Peach Payments: refunded once through Peach (an RF payment in its ledger)', async () => {
    const serviceId = await meterService(DEMO_METERS.refused);
    const card = await sandboxCardMedium(h, 'approve', 'PeachPayments', '4111');
    const quote = await h.call('POST', '/purchases/buy-now', { token: customer(), body: { service_id: serviceId, amount: 120 } });
    expect(quote.status, quote.text).toBe(201);
    const paid = await h.call('POST', '/purchases/submit-for-collection', { token: customer(), body: { service_id: serviceId, purchase_id: quote.body.id, medium_id: card } });
    expect(paid.status, paid.text).toBe(200);
    await vendAll();
    const [payment] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, quote.body.id));
    expect(payment).toMatchObject({ provider: 'PeachPayments', status: 'succeeded' });
    const [refund] = await h.ctx.database.db.select().from(t.refunds).where(eq(t.refunds.paymentId, payment!.id));
    expect(refund).toMatchObject({ status: 'succeeded', provider: 'PeachPayments', amountCents: 12_000 });
    const back = (await ledger('peach')).filter((r) => r.kind === 'refund' && r.details.refunded_transaction_id === payment!.providerReference);
    expect(back.map((r) => [r.status, r.amount_cents])).toEqual([['approved', 12_000]]);
  });

  it('a refused vend paid off-system is flagged for a manual refund: payrail cannot send that money back', async () => {
    const serviceId = await meterService(DEMO_METERS.refused);
    const quote = await h.call('POST', '/purchases/buy-now', { token: staff(), body: { service_id: serviceId, amount: 80 } });
    expect(quote.status, quote.text).toBe(201);
    const paid = await h.call('POST', '/purchases/submit-for-collection', { token: staff(), body: { service_id: serviceId, purchase_id: quote.body.id, medium_id: DEMO.mediums.offSystem, purchase_source_id: DEMO.sources.cash, comment: 'cash at the shop' } });
    expect(paid.status, paid.text).toBe(200);
    await vendAll();
    const [payment] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, quote.body.id));
    const [refund] = await h.ctx.database.db.select().from(t.refunds).where(eq(t.refunds.paymentId, payment!.id));
    expect(refund).toMatchObject({ status: 'manual', reason: 'vend_declined', amountCents: 8_000, provider: 'OffSystem' });
    expect((await h.call('GET', '/refunds?status=manual', { token: staff() })).body.items.map((r: { id: string }) => r.id)).toContain(refund!.id);
    const flagged = (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, 'payment.refund_manual'))).filter((e) => (e.payload as { data: { payment_id: string } }).data.payment_id === payment!.id);
    expect(flagged).toHaveLength(1);
    await workRefunds(h.ctx, { now: new Date(Date.now() + 3_600_000) });
    expect((await h.ctx.database.db.select().from(t.refunds).where(eq(t.refunds.paymentId, payment!.id)))[0]!.status).toBe('manual');
  });

  it('50 concurrent submits of one utility purchase: one charge, one vend', async () => {
    const quote = await h.call('POST', '/purchases/buy-now', { token: customer(), body: { service_id: DEMO.services.electricity, amount: 55.5 } });
    expect(quote.status, quote.text).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => h.call('POST', '/purchases/submit-for-collection', { token: customer(), body: { service_id: DEMO.services.electricity, purchase_id: quote.body.id, medium_id: DEMO.mediums.card } })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 409)).toEqual([]);
    const attempts = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, quote.body.id));
    expect(attempts).toHaveLength(1);
    expect((await ledger('payfast', attempts[0]!.merchantReference)).filter((c) => c.status === 'approved')).toHaveLength(1);
    await Promise.all([vendAll(), vendAll(), vendAll()]);
    const vends = await h.ctx.database.db.select().from(t.vends).where(eq(t.vends.purchaseId, quote.body.id));
    expect(vends).toHaveLength(1);
    expect((await ledger('vendor', vends[0]!.requestId)).filter((r) => r.kind === 'vend')).toHaveLength(1);
  });

  it('staff refund a payment once; a customer may not; a payment that did not succeed is refused', async () => {
    const purchaseId = await buy(DEMO.services.electricity, 20);
    await vendAll();
    const [payment] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId));
    expect((await h.call('POST', `/payments/${payment!.id}/refunds`, { token: customer(), body: {} })).status).toBe(403);
    const first = await h.call('POST', `/payments/${payment!.id}/refunds`, { token: staff(), body: { comment: 'goodwill' } });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({ status: 'succeeded', amount: 20, reason: 'requested', comment: 'goodwill' });
    // The payment lists its refund (it stays succeeded).
    const listedPayment = await h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: staff() });
    expect(listedPayment.body.items[0]).toMatchObject({ id: payment!.id, status: 'succeeded', refund: { id: first.body.id, status: 'succeeded', amount: 20, reason: 'requested' } });
    const again = await h.call('POST', `/payments/${payment!.id}/refunds`, { token: staff(), body: {} });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect((await ledger('payfast')).filter((r) => r.kind === 'refund' && r.details.refunded_transaction_id === payment!.providerReference)).toHaveLength(1);
    expect((await h.call('POST', `/payments/${randomUUID()}/refunds`, { token: staff(), body: {} })).status).toBe(404);
    const failed = await h.ctx.database.db.select().from(t.payments).where(and(eq(t.payments.operatorId, DEMO.operatorId), eq(t.payments.status, 'failed'))).limit(1);
    if (failed[0]) expect((await h.call('POST', `/payments/${failed[0].id}/refunds`, { token: staff(), body: {} })).status).toBe(422);
    const listed = await h.call('GET', '/refunds', { token: staff() });
    expect(listed.body.items.some((r: { id: string }) => r.id === first.body.id)).toBe(true);
    expect(await processRefund(h.ctx, first.body.id)).toBe(false);
  });

  it('tokens never appear in logs, outbox events or another tenant’s answers', async () => {
    const vends = await h.ctx.database.db.select().from(t.vends).where(eq(t.vends.status, 'succeeded'));
    expect(vends.length).toBeGreaterThan(0);
    const digits: string[] = [];
    for (const v of vends) {
      const shown = await tokensOf(v.purchaseId, staff());
      for (const k of shown.body.tokens) digits.push(k.token.replaceAll('-', ''));
    }
    expect(digits.length).toBeGreaterThan(0);
    const outbox = JSON.stringify(await h.ctx.database.db.select().from(t.outboxEvents));
    await runWebhookJobs(h.ctx);
    const webhooks = delivered.map((d) => d.body).join('\n');
    expect(delivered.filter((d) => d.type === 'utility.tokens_issued').length).toBeGreaterThan(0);
    const logs = lines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const d of digits) {
      expect(outbox).not.toContain(d);
      expect(webhooks).not.toContain(d);
      expect(logs).not.toContain(d);
    }
  });
});
