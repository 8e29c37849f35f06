import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { processDueCallbacks } from '../../src/modules/payments/provider-callbacks.ts';
import { settleUnsettledPayments } from '../../src/modules/payments/settle-unsettled-payments.ts';
import { approvedCharges, eventually, firstPaymentOf, purchaseStatusOf, sandboxBehaviour, sandboxCardMedium, storedCallbacks, unpaidPurchase } from '../helpers/collections.ts';
import { testConfig } from '../helpers/config.ts';
import { takeEveryEvent } from '../helpers/events.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * PayFast as it really behaves (PROVIDERS.md), through payrail: an ITN for every ad hoc charge, arriving
 * before, after or instead of the charge's answer; duplicates; an ITN naming an earlier m_payment_id; a
 * validate service answering HTML; a sender behind a proxy. Every purchase is paid once, and only PayFast's
 * explicit word settles it.
 */
const E14 = DEMO.services.recurringInArrears;

async function harness(env: Record<string, string> = {}): Promise<Harness> {
  const h = await createHarness({ listen: true, config: testConfig(env) });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
  return h;
}

function helpers(h: () => Harness) {
  const db = () => h().ctx.database.db;
  return {
    submit: (purchaseId: string, mediumId: string) => h().call('POST', '/purchases/submit-for-collection', { body: { service_id: E14, medium_id: mediumId, purchase_id: purchaseId } }),
    behave: (settings: Record<string, unknown> | null) => sandboxBehaviour(h(), 'payfast', settings),
    paymentOf: (purchaseId: string) => firstPaymentOf(h(), purchaseId),
    purchaseStatus: (purchaseId: string) => purchaseStatusOf(h(), purchaseId),
    /** Outbox events about a purchase, by type. */
    eventsOf: async (purchaseId: string) =>
      (await db().select().from(t.outboxEvents))
        .filter((e) => (e.payload as { data: { purchase_id?: string } }).data.purchase_id === purchaseId)
        .map((e) => e.type)
        .sort(),
    itnsFor: (merchantReference: string) => storedCallbacks(h(), (b) => b.includes(`m_payment_id=${merchantReference}&`)),
  };
}

describe('PayFast ad hoc charges and their ITNs, through payrail', () => {
  let h: Harness;
  beforeAll(async () => (h = await harness()));
  afterAll(async () => h?.close());
  const x = helpers(() => h);

  it('the ITN arriving instead of a lost answer settles the payment, once', async () => {
    const purchaseId = await unpaidPurchase(h);
    const card = await sandboxCardMedium(h, 'lost_response', 'PayFast', '0119');
    const before = (await approvedCharges(h, 'payfast')).length;
    const res = await x.submit(purchaseId, card);
    expect(res.status).toBe(202);
    expect(res.body.payment_status).toBe('unknown');
    await eventually(async () => (await x.purchaseStatus(purchaseId)) === 4);
    const payment = await x.paymentOf(purchaseId);
    expect(payment).toMatchObject({ status: 'succeeded', providerReference: expect.stringMatching(/^[0-9]+$/) });
    expect((await approvedCharges(h, 'payfast')).length).toBe(before + 1);
    expect(await x.eventsOf(purchaseId)).toEqual(['payment.succeeded', 'payment.unknown', 'purchase.paid']);
  });

  it('an ITN after the answer (late) and a duplicate ITN are absorbed without asking PayFast again: one payment, one purchase.paid', async () => {
    await x.behave({ itn: 'late', itnDelayMs: 300 });
    const late = await unpaidPurchase(h);
    expect((await x.submit(late, DEMO.mediums.card)).status).toBe(200);
    const latePayment = await x.paymentOf(late);
    const [itn] = await eventually(async () => {
      const rows = await x.itnsFor(latePayment.merchantReference);
      return rows.length > 0 && rows.every((r) => r.processedAt) ? rows : null;
    });
    // It repeats what the charge's answer settled (the same pf_payment_id, status and amount): recorded, not confirmed.
    expect(itn).toMatchObject({ verified: false, outcome: `processed: repeats the settled outcome of payment ${latePayment.id} (succeeded); not confirmed with PayFast, as it changes nothing` });

    await x.behave({ itn: 'duplicate' });
    const twice = await unpaidPurchase(h);
    expect((await x.submit(twice, DEMO.mediums.card)).status).toBe(200);
    const twicePayment = await x.paymentOf(twice);
    const rows = await eventually(async () => {
      const r = await x.itnsFor(twicePayment.merchantReference);
      return r.length === 2 && r.every((e) => e.processedAt) ? r : null;
    });
    expect(rows.map((r) => r.outcome?.split(':')[0]).sort()).toEqual(['processed', 'processed']);
    await x.behave(null);
    for (const purchaseId of [late, twice]) expect(await x.eventsOf(purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
  });

  it('an ITN naming an earlier m_payment_id of the token changes nothing of that payment; each purchase is paid by its own charge', async () => {
    await x.behave({ itn: 'old_m_payment_id' });
    try {
      const first = await unpaidPurchase(h);
      const second = await unpaidPurchase(h);
      const card = await sandboxCardMedium(h, 'approve', 'PayFast', '1111');
      expect((await x.submit(first, card)).status).toBe(200);
      expect((await x.submit(second, card)).status).toBe(200);
      const [p1, p2] = [await x.paymentOf(first), await x.paymentOf(second)];
      // The second charge's ITN says m_payment_id = the first attempt's, with the second charge's pf_payment_id.
      const misnamed = await eventually(async () => (await x.itnsFor(p1.merchantReference)).find((e) => e.body.includes(`pf_payment_id=${p2.providerReference}&`) && e.processedAt));
      expect(misnamed.outcome).toMatch(/^ignored: names transaction/);
      expect(await x.paymentOf(first)).toMatchObject({ status: 'succeeded', providerReference: p1.providerReference });
      expect(await x.paymentOf(second)).toMatchObject({ status: 'succeeded', providerReference: p2.providerReference });
      for (const purchaseId of [first, second]) expect(await x.eventsOf(purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
    } finally {
      await x.behave(null);
    }
  });

  it('a validate service answering HTML keeps the ITN for later; its pf_payment_id lets the janitor settle a lost answer by a query by pf_payment_id', async () => {
    await x.behave({ validate: 'html_403' });
    const purchaseId = await unpaidPurchase(h);
    const card = await sandboxCardMedium(h, 'lost_response', 'PayFast', '0119');
    expect((await x.submit(purchaseId, card)).status).toBe(202);
    const { merchantReference } = await x.paymentOf(purchaseId);
    const [itn] = await eventually(async () => {
      const rows = await x.itnsFor(merchantReference);
      return rows[0]?.outcome?.startsWith('retry') ? rows : null;
    });
    expect(itn!.processedAt).toBeNull();
    expect(itn!.outcome).toMatch(/^retry: server confirmation: PayFast answered 403/);
    const pf = new URLSearchParams(itn!.body).get('pf_payment_id');
    // Not confirmed, so nothing is settled by it; but the attempt now knows PayFast's id for it.
    expect(await x.paymentOf(purchaseId)).toMatchObject({ status: 'unknown', providerReference: pf });
    expect(await x.purchaseStatus(purchaseId)).toBe(2);

    const run = await settleUnsettledPayments(h.ctx, { now: new Date(Date.now() + 3_600_000) });
    expect(run.settled).toBeGreaterThanOrEqual(1);
    expect(await x.paymentOf(purchaseId)).toMatchObject({ status: 'succeeded', providerReference: pf });
    expect(await x.purchaseStatus(purchaseId)).toBe(4);

    // The kept ITN now repeats what the query settled: it is absorbed without PayFast's validate service (which
    // still answers HTML); nothing is paid twice.
    await processDueCallbacks(h.ctx, { now: new Date(Date.now() + 3_600_000) });
    await x.behave(null);
    const [done] = await x.itnsFor(merchantReference);
    expect(done!.processedAt).not.toBeNull();
    expect(done).toMatchObject({ verified: false, outcome: expect.stringMatching(/^processed: repeats the settled outcome of payment /) });
    expect(await x.eventsOf(purchaseId)).toEqual(['payment.succeeded', 'payment.unknown', 'purchase.paid']);
  });

  it('trusts X-Forwarded-For only from a trusted proxy (PAYRAIL_TRUSTED_PROXIES)', async () => {
    const post = (base: string) =>
      fetch(`${base}/callbacks/payfast/itn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '197.97.145.150' }, body: 'm_payment_id=proxy-test&pf_payment_id=1' });
    await post(h.baseUrl);
    const proxied = await harness({ PAYRAIL_TRUSTED_PROXIES: '127.0.0.1' });
    try {
      await post(proxied.baseUrl);
      const sender = async (hh: Harness) => (await storedCallbacks(hh, (b) => b.startsWith('m_payment_id=proxy-test')))[0]!.remoteAddress;
      expect(await sender(proxied)).toBe('197.97.145.150');
      expect(await sender(h)).toMatch(/127\.0\.0\.1$/);
    } finally {
      await proxied.close();
    }
  });
});

describe('an ITN before the ad hoc answer (a slow PayFast)', () => {
  let h: Harness;
  beforeAll(async () => (h = await harness({ PAYRAIL_SANDBOX_ANSWER_DELAY_MS: '1500' })));
  afterAll(async () => h?.close());
  const x = helpers(() => h);

  it('settles the payment from the ITN; the answer that follows changes nothing', async () => {
    const purchaseId = await unpaidPurchase(h);
    const before = (await approvedCharges(h, 'payfast')).length;
    const submitted = x.submit(purchaseId, DEMO.mediums.card);
    // The ITN has settled it while the answer is still on its way.
    await eventually(async () => (await x.purchaseStatus(purchaseId)) === 4);
    const res = await submitted;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ payment_status: 'succeeded', purchase_status_id: 4 });
    expect((await approvedCharges(h, 'payfast')).length).toBe(before + 1);
    expect(await x.eventsOf(purchaseId)).toEqual(['payment.succeeded', 'purchase.paid']);
    const [audit] = await h.ctx.database.db.select().from(t.auditEvents).where(and(eq(t.auditEvents.entityId, (await x.paymentOf(purchaseId)).id), like(t.auditEvents.action, 'payment.succeeded%')));
    expect(audit!.action).toBe('payment.succeeded.callback');
  });
});
