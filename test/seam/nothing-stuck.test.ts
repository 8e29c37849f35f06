import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workRefunds } from '../../src/modules/refunds/work-refunds.ts';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../../src/modules/mediums/repo.ts';
import type { CollectInput } from '../../src/modules/payments/collection-types.ts';
import { connectorContext } from '../../src/modules/payments/connector-context.ts';
import { loadTarget, planCollection } from '../../src/modules/payments/plan-collection.ts';
import { settleUnsettledPayments } from '../../src/modules/payments/settle-unsettled-payments.ts';
import { startAttempt } from '../../src/modules/payments/start-attempt.ts';
import { PEACH_SANDBOX_CREDENTIALS } from '../../src/providers/peach/credentials.ts';
import { withSignature } from '../../src/providers/peach/signature.ts';
import { approvedCharges, eventually, firstPaymentOf, payOnHostedPage, purchaseStatusOf, sandboxCardMedium, unpaidPurchase } from '../helpers/collections.ts';
import { testConfig } from '../helpers/config.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * Nothing stuck: an attempt whose request never reached its provider fails `not_sent` once its deadline has
 * passed (the provider has no such transaction), a page nobody paid is superseded by a new attempt, and
 * money that arrives for an attempt payrail had failed — or for a purchase another attempt had paid — is
 * never dropped (a late success). Also: provider tokens are nowhere in payrail's tables in the clear, and a
 * signed Peach webhook settles nothing without Peach's own word.
 */
const E14 = DEMO.services.recurringInArrears;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true, clock, config: testConfig({ PAYRAIL_ATTEMPT_DEADLINE_MS: '60000' }) });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
});
afterAll(async () => {
  offsetMs = 0;
  await h?.close();
});

const actor = () => ({ id: DEMO.customerUserId, role: 'customer' as const, requestId: 'test', operatorId: DEMO.operatorId, customerId: DEMO.customerId });
const submit = (purchaseId: string, mediumId: string) => h.call('POST', '/purchases/submit-for-collection', { body: { service_id: E14, purchase_id: purchaseId, medium_id: mediumId } });
/** What a crash leaves between recording an attempt and asking the provider: the attempt, nothing sent. */
async function recordedOnly(purchaseId: string, mediumId: string) {
  const input: CollectInput = { serviceId: E14, purchaseId, mediumId, actor: actor() };
  const plan = await planCollection(h.ctx, await loadTarget(h.ctx, input), input);
  return (await startAttempt(h.ctx, input, plan)).attempt.payment;
}
const janitorAt = async (ms: number) => {
  offsetMs = ms;
  try {
    return await settleUnsettledPayments(h.ctx, { now: clock() });
  } finally {
    offsetMs = 0;
  }
};
const eventsOf = async (purchaseId: string) =>
  (await h.ctx.database.db.select().from(t.outboxEvents))
    .filter((e) => (e.payload as { data: { purchase_id?: string } }).data.purchase_id === purchaseId)
    .map((e) => e.type)
    .sort();
const lateOf = async (paymentId: string) => (await h.ctx.database.db.select().from(t.lateSuccesses).where(eq(t.lateSuccesses.paymentId, paymentId)))[0];

describe('an attempt that never reached its provider', () => {
  it('PayFast card: unknown before its deadline, failed not_sent after it, and the purchase is payable again', async () => {
    const purchaseId = await unpaidPurchase(h);
    const card = await sandboxCardMedium(h, 'approve', 'PayFast', '1212');
    const attempt = await recordedOnly(purchaseId, card);
    expect(await purchaseStatusOf(h, purchaseId)).toBe(2);

    await janitorAt(30_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'unknown' });
    await janitorAt(61_000 + 3_600_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'failed', failureCode: 'not_sent' });
    expect(await purchaseStatusOf(h, purchaseId)).toBe(3);

    const before = (await approvedCharges(h, 'payfast')).length;
    const res = await submit(purchaseId, card);
    expect(res.status).toBe(200);
    expect((await approvedCharges(h, 'payfast')).length).toBe(before + 1);
    expect(attempt.id).not.toBe(res.body.payment_id);
  });

  it('is asked about again when its deadline comes, not a backoff later: payable again on time', async () => {
    const purchaseId = await unpaidPurchase(h);
    const card = await sandboxCardMedium(h, 'approve', 'PayFast', '1313');
    await recordedOnly(purchaseId, card);
    // Each look-up finds nothing; the backoff alone would next ask at 70 s or later.
    await janitorAt(15_000);
    await janitorAt(40_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'unknown' });
    await janitorAt(61_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'failed', failureCode: 'not_sent' });
    expect(await purchaseStatusOf(h, purchaseId)).toBe(3);
  });

  it('is asked again by its deadline after a look-up that failed, not a backoff later', async () => {
    const purchaseId = await unpaidPurchase(h);
    const card = await sandboxCardMedium(h, 'approve', 'PayFast', '1515');
    await recordedOnly(purchaseId, card);
    // PayFast does not answer the janitor's query 50 s in (nothing listens where it is asked): a backoff of
    // 15 s would ask next at 65 s, after the 60 s deadline.
    const publicUrl = h.ctx.config.publicUrl;
    h.ctx.config.publicUrl = 'http://127.0.0.1:9';
    let failed: Awaited<ReturnType<typeof janitorAt>>;
    try {
      failed = await janitorAt(50_000);
    } finally {
      h.ctx.config.publicUrl = publicUrl;
    }
    expect(failed.failedChecks).toBeGreaterThanOrEqual(1);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'pending' });
    expect((await firstPaymentOf(h, purchaseId))!.lastCheckError).toMatch(/PayFast/);
    await janitorAt(61_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'failed', failureCode: 'not_sent' });
    expect(await purchaseStatusOf(h, purchaseId)).toBe(3);
  });

  it('is not judged not sent while a notice from its provider waits unprocessed (its process died holding it)', async () => {
    const purchaseId = await unpaidPurchase(h);
    const card = await sandboxCardMedium(h, 'approve', 'PayFast', '1414');
    const attempt = await recordedOnly(purchaseId, card);
    const [notice] = await h.ctx.database.db
      .insert(t.providerEvents)
      .values({ id: randomUUID(), provider: 'PayFast', channel: 'itn', merchantReference: attempt.merchantReference, headers: {}, body: 'sealed', receivedAt: new Date(Date.now() + 1_000), nextAttemptAt: new Date(Date.now() + 120_000) })
      .returning();
    await janitorAt(61_000 + 3_600_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'unknown' });
    expect(await purchaseStatusOf(h, purchaseId)).toBe(2);
    // Processed (it was another payment's, say): now the attempt is judged by the provider's answer alone.
    await h.ctx.database.db.update(t.providerEvents).set({ processedAt: new Date() }).where(eq(t.providerEvents.id, notice!.id));
    await janitorAt(2 * 3_600_000 + 61_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'failed', failureCode: 'not_sent' });
  });

  it('Peach card and a page never handed out: not_sent after the deadline', async () => {
    const card = await sandboxCardMedium(h, 'approve', 'PeachPayments', '3434');
    const byCard = await unpaidPurchase(h);
    await recordedOnly(byCard, card);
    const byPage = await unpaidPurchase(h);
    await recordedOnly(byPage, GLOBAL_OPAQUE_MEDIUM_ID);
    await janitorAt(61_000 + 3_600_000);
    for (const purchaseId of [byCard, byPage]) {
      expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'failed', failureCode: 'not_sent' });
      expect(await purchaseStatusOf(h, purchaseId)).toBe(3);
    }
  });

  it('a late success after not_sent pays the purchase still owed, once, with its events', async () => {
    const purchaseId = await unpaidPurchase(h);
    const card = await sandboxCardMedium(h, 'approve', 'PayFast', '5656');
    const attempt = await recordedOnly(purchaseId, card);
    await janitorAt(61_000 + 3_600_000);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'failed', failureCode: 'not_sent' });

    // The request had reached PayFast after all: it charges the card and sends its ITN.
    const connector = h.ctx.connectors.get('PayFast');
    const [token] = await h.ctx.database.db.select({ token: t.sandboxTokens.token }).from(t.sandboxTokens).where(eq(t.sandboxTokens.cardLast4, '5656'));
    await connector.chargeToken!({ merchantReference: attempt.merchantReference, amount: { amountCents: attempt.amountCents, currency: 'ZAR' }, token: token!.token, agreementReference: null, description: 'late', customer: { id: DEMO.customerId, name: 'K Nel', email: null, cellNumber: null } }, connectorContext(h.ctx, connector));
    await eventually(async () => (await purchaseStatusOf(h, purchaseId)) === 4);
    expect(await lateOf(attempt.id)).toMatchObject({ disposition: 'paid_purchase', amountCents: attempt.amountCents });
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'failed' }); // nothing leaves failed
    expect(await eventsOf(purchaseId)).toEqual(['payment.failed', 'payment.late_success', 'purchase.paid', 'purchase.payment_failed']);
  });
});

describe('a page nobody paid', () => {
  it('blocks the purchase for a moment (a double click), then a new attempt supersedes it; paying it later is listed for a refund', async () => {
    const purchaseId = await unpaidPurchase(h);
    const link = await submit(purchaseId, DEMO.mediums.paymentLink);
    expect(link.status).toBe(200);
    const page = link.body.payment_link_url as string;
    expect((await submit(purchaseId, DEMO.mediums.card)).status).toBe(409);

    offsetMs = 11_000;
    let paid;
    try {
      paid = await submit(purchaseId, DEMO.mediums.card);
    } finally {
      offsetMs = 0;
    }
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ payment_status: 'succeeded', purchase_status_id: 4 });
    const [old] = (await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId))).filter((p) => p.kind === 'link');
    expect(old).toMatchObject({ status: 'failed', failureMessage: expect.stringContaining('superseded') });

    // The customer pays the old page anyway: the money is recorded, the purchase is not paid twice.
    await payOnHostedPage(page, '4242424242424242');
    const late = await eventually(() => lateOf(old!.id));
    expect(late).toMatchObject({ disposition: 'refund_due' });
    expect((await eventsOf(purchaseId)).filter((e) => e === 'purchase.paid')).toHaveLength(1);
    expect(await eventsOf(purchaseId)).toContain('payment.late_success');

    // Staff see what is to be refunded; customers and other operators do not.
    const listed = await h.call('GET', '/late-successes?disposition=refund_due', { token: h.tokens.integrator });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toContainEqual(expect.objectContaining({ payment_id: old!.id, purchase_id: purchaseId, disposition: 'refund_due', amount: 379, provider: 'PayFast' }));
    expect((await h.call('GET', '/late-successes', { token: h.tokens.customer })).status).toBe(403);
    expect((await h.call('GET', '/late-successes', { token: h.tokens.otherOperatorIntegrator })).body.items).toEqual([]);
    expect((await h.call('GET', '/late-successes?disposition=nonsense', { token: h.tokens.integrator })).status).toBe(400);

    // And it is refunded, once, through PayFast: the refund was recorded with the late success, the refunds job sends it.
    const [refund] = await h.ctx.database.db.select().from(t.refunds).where(eq(t.refunds.paymentId, old!.id));
    expect(refund).toMatchObject({ reason: 'late_success', status: 'pending', amountCents: 37_900, provider: 'PayFast' });
    await workRefunds(h.ctx);
    await workRefunds(h.ctx, { now: new Date(Date.now() + 3_600_000) });
    const [done] = await h.ctx.database.db.select().from(t.refunds).where(eq(t.refunds.paymentId, old!.id));
    expect(done).toMatchObject({ status: 'succeeded' });
    const [paidOld] = await h.ctx.database.db.select().from(t.lateSuccesses).where(eq(t.lateSuccesses.paymentId, old!.id));
    const back = ((await (await fetch(`${h.baseUrl}/sandbox/payfast/transactions`)).json()) as { items: { kind: string; status: string; amount_cents: number; details: { refunded_transaction_id?: string } }[] }).items.filter(
      (r) => r.kind === 'refund' && r.details.refunded_transaction_id === paidOld!.providerReference,
    );
    expect(back.map((r) => [r.status, r.amount_cents])).toEqual([['approved', 37_900]]);
    const refunded = (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, 'payment.refunded'))).filter((e) => (e.payload as { data: { payment_id: string } }).data.payment_id === old!.id);
    expect(refunded).toHaveLength(1);
  });
});

describe('a signed Peach webhook', () => {
  it('settles nothing by itself: Peach is asked, and an open checkout stays open', async () => {
    const purchaseId = await unpaidPurchase(h);
    const res = await submit(purchaseId, GLOBAL_OPAQUE_MEDIUM_ID);
    expect(res.status).toBe(200);
    const payment = await firstPaymentOf(h, purchaseId);
    // Signed with the merchant's secret (the published sandbox one), claiming a success Peach never saw.
    const fields = withSignature({ amount: '379.00', checkoutId: payment.providerReference!, currency: 'ZAR', id: 'a'.repeat(32), merchantTransactionId: payment.merchantReference, paymentType: 'DB', 'result.code': '000.100.110', 'result.description': 'ok', timestamp: new Date().toISOString() }, PEACH_SANDBOX_CREDENTIALS.secret_token);
    const hook = await fetch(`${h.baseUrl}/callbacks/peach/webhook`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    expect(hook.status).toBe(200);
    expect(await firstPaymentOf(h, purchaseId)).toMatchObject({ status: 'pending' });
    expect(await purchaseStatusOf(h, purchaseId)).toBe(2);
  });
});

describe('provider tokens at rest', () => {
  it('appear in no table of payrail’s in the clear (only the providers’ own sandbox tables know them)', async () => {
    // Make tokens: a tokenising PayFast link (the token comes in the ITN) and a tokenising Peach checkout.
    const hybrid = await unpaidPurchase(h, DEMO.services.hybrid, 29_900);
    const link = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: DEMO.services.hybrid, purchase_id: hybrid, medium_id: DEMO.mediums.paymentLink } });
    await payOnHostedPage(link.body.payment_link_url, '4242424242424242');
    await eventually(async () => (await purchaseStatusOf(h, hybrid)) === 4);
    const peach = await unpaidPurchase(h);
    const checkout = await submit(peach, GLOBAL_OPAQUE_MEDIUM_ID);
    await payOnHostedPage(checkout.body.payment_link_url, '4242424242424242');
    await eventually(async () => (await h.ctx.database.db.select().from(t.providerEvents).where(eq(t.providerEvents.provider, 'PeachPayments'))).some((e) => e.processedAt));

    const tokens = (await h.ctx.database.db.select({ token: t.sandboxTokens.token }).from(t.sandboxTokens)).map((r) => r.token);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const tables = await h.ctx.database.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    expect(tables.length).toBeGreaterThan(10);
    const found: string[] = [];
    for (const { name } of tables) {
      const rows = await h.ctx.database.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      for (const { row } of rows) for (const token of tokens) if (row.includes(token)) found.push(`${name}: ${token.slice(0, 6)}…`);
    }
    expect(found).toEqual([]);
    // The check itself can find one: the sandbox's own table holds them.
    const [{ n }] = (await h.ctx.database.db.select({ n: sql<number>`count(*)::int` }).from(t.sandboxTokens)) as [{ n: number }];
    expect(n).toBe(tokens.length);
  });
});
