import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import * as t from '../../db/schema.ts';
import { checkOpenCaptures } from '../../modules/mediums/capture-medium.ts';
import { DEMO } from '../../demo/ids.ts';
import { takeEveryEvent } from '../../../test/helpers/events.ts';

/**
 * `POST /payment-mediums/capture` (SPEC §11) with the operator's default bank provider, Debitsuccess, served
 * by its sandbox over real HTTP: the customer fills Debitsuccess's form, comes back through payrail, and
 * the medium exists only once Debitsuccess itself says the details were kept.
 */
const logLines: string[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});
let offsetMs = 0;
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true, clock: () => new Date(Date.now() + offsetMs), log: pino({ level: 'debug' }, logSink) });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
});
afterAll(() => h?.close());

const service = DEMO.services.recurringPaidUp;
const returnUrl = () => `${h.baseUrl}/app/services/${service}`;
/** Every answer payrail gave in this file, to look for the account number in. */
const answers: string[] = [];

async function startCapture(body: Record<string, unknown>, token?: string) {
  const res = await h.call('POST', '/payment-mediums/capture', { body, ...(token === undefined ? {} : { token }) });
  answers.push(res.text);
  return res;
}

/** The customer on Debitsuccess's form: opens it, submits the bank account, and is sent back (redirects followed by hand). */
async function fillBankForm(captureUrl: string, accountNumber: string): Promise<URL> {
  const page = await fetch(captureUrl);
  expect(page.status).toBe(200);
  const form = new URLSearchParams({ account_holder: 'T Mokoena', bank: 'FNB', branch_code: '250655', account_number: accountNumber, account_type: 'Cheque' });
  const posted = await fetch(captureUrl, { method: 'POST', body: form, redirect: 'manual' });
  expect(posted.status).toBe(302);
  const toPayrail = posted.headers.get('location')!;
  expect(toPayrail.startsWith(`${h.baseUrl}/payment-mediums/captures/`)).toBe(true);
  const back = await fetch(toPayrail, { redirect: 'manual' });
  expect(back.status).toBe(303);
  return new URL(back.headers.get('location')!);
}

async function capture(id: string) {
  const res = await h.call('GET', `/payment-mediums/captures/${id}`);
  answers.push(res.text);
  return res;
}

describe('capturing a bank account through Debitsuccess', () => {
  it('1234567890 becomes a Valid BankAccount medium ending 7890, active on the service; the account number is nowhere', async () => {
    const activeBefore = (await h.call('GET', `/active-payment-medium-for-service?serviceId=${service}`)).body;
    const started = await startCapture({ service_id: service, medium_type: 'BankAccount', return_url: returnUrl() });
    expect(started.status, started.text).toBe(201);
    expect(started.body).toMatchObject({ status: 'open', medium_type: 'BankAccount', provider: 'Debitsuccess', customer_id: DEMO.customerId, service_id: service, medium_id: null });
    expect(started.body.capture_url).toMatch(/\/sandbox\/debitsuccess\/PayNow\/T\/[A-Za-z0-9]{8}$/);

    const back = await fillBankForm(started.body.capture_url, '1234567890');
    expect(`${back.origin}${back.pathname}`).toBe(returnUrl());
    expect(back.searchParams.get('capture_id')).toBe(started.body.id);
    expect(back.searchParams.get('capture_status')).toBe('succeeded');

    const done = await capture(started.body.id);
    expect(done.body).toMatchObject({ status: 'succeeded', capture_url: null, failure: null });
    const active = await h.call('GET', `/active-payment-medium-for-service?serviceId=${service}`);
    answers.push(active.text);
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ medium_detail_id: done.body.medium_id, medium_type: 'BankAccount' });
    expect(active.body.medium_detail_id).not.toBe(activeBefore?.medium_detail_id);
    const [medium] = await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.id, done.body.medium_id));
    expect(medium).toMatchObject({ mediumType: 'BankAccount', status: 'Valid', provider: 'Debitsuccess', accountNumber: '7890', accountName: 'T Mokoena', customerId: DEMO.customerId });
    const mediums = await h.call('GET', `/payment-mediums?userId=${DEMO.customerUserId}`);
    answers.push(mediums.text);
    expect(mediums.body.some((m: { medium_detail_id: string }) => m.medium_detail_id === medium!.id)).toBe(true);
    const events = (await h.ctx.database.db.select().from(t.outboxEvents)).filter((e) => (e.payload as { data: { medium_id?: string } }).data.medium_id === medium!.id);
    expect(events.map((e) => e.type).sort()).toEqual(['medium.created', 'medium.updated']);

    // Coming back again (a reload) changes nothing: one medium, the capture as it was.
    const again = await fetch(`${h.baseUrl}/payment-mediums/captures/${started.body.id}/return?Status=Success`, { redirect: 'manual' });
    expect(again.status).toBe(303);
    expect((await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.externalReference, `capture:${started.body.id}`))).length).toBe(1);

    // The account number appears in no answer, no log line, and no column payrail keeps unsealed.
    const dump = await h.ctx.database.query<{ row: string }>(
      `SELECT row_to_json(x)::text AS row FROM (
         SELECT to_jsonb(m) AS r FROM mediums m UNION ALL SELECT to_jsonb(c) FROM medium_captures c UNION ALL SELECT to_jsonb(a) FROM audit_events a
         UNION ALL SELECT to_jsonb(o) FROM outbox_events o UNION ALL SELECT to_jsonb(p) FROM provider_events p UNION ALL SELECT to_jsonb(c) FROM medium_credentials c
       ) x`,
    );
    for (const text of [...answers, ...logLines, ...dump.map((d) => d.row)]) expect(text).not.toContain('1234567890');
  });

  it('an account the bank refuses leaves the capture failed and creates nothing; a used or expired form creates nothing', async () => {
    const before = (await h.ctx.database.db.select().from(t.mediums)).length;
    const refused = await startCapture({ customer_id: DEMO.customerId, medium_type: 'BankAccount', return_url: returnUrl() });
    const back = await fillBankForm(refused.body.capture_url, '3333333333');
    expect(back.searchParams.get('capture_status')).toBe('failed');
    expect((await capture(refused.body.id)).body).toMatchObject({ status: 'failed', medium_id: null, failure: { code: 'not_stored' } });

    // A form opened a second time answers TokenExpired at Debitsuccess, and payrail's capture is as it was.
    const reused = await fetch(refused.body.capture_url, { redirect: 'manual' });
    expect(reused.headers.get('location')).toContain('Status=TokenExpired');

    // A form nobody opened within its 10 minutes: expired, nothing created.
    const late = await startCapture({ customer_id: DEMO.customerId, medium_type: 'BankAccount', return_url: returnUrl() });
    offsetMs = 11 * 60_000;
    try {
      const opened = await fetch(late.body.capture_url, { redirect: 'manual' });
      expect(opened.headers.get('location')).toContain('Status=TokenExpired');
      const expired = await fetch(opened.headers.get('location')!, { redirect: 'manual' });
      expect(new URL(expired.headers.get('location')!).searchParams.get('capture_status')).toBe('failed');
      expect((await capture(late.body.id)).body).toMatchObject({ status: 'failed', failure: { code: 'expired' } });
    } finally {
      offsetMs = 0;
    }
    expect((await h.ctx.database.db.select().from(t.mediums)).length).toBe(before);
  });

  it('a customer who never comes back: the captures job asks Debitsuccess, and nothing stays open', async () => {
    const kept = await startCapture({ customer_id: DEMO.customerId, medium_type: 'BankAccount', return_url: returnUrl() });
    const abandoned = await startCapture({ customer_id: DEMO.customerId, medium_type: 'BankAccount', return_url: returnUrl() });
    // The first customer fills the form and closes the browser on Debitsuccess's redirect; the second never opens it.
    await fetch(kept.body.capture_url);
    const posted = await fetch(kept.body.capture_url, { method: 'POST', body: new URLSearchParams({ account_holder: 'K Nel', bank: 'Capitec', branch_code: '470010', account_number: '2222222222', account_type: 'Savings' }), redirect: 'manual' });
    expect(posted.status).toBe(302);
    const row = async (id: string) => (await h.ctx.database.db.select().from(t.mediumCaptures).where(eq(t.mediumCaptures.id, id)))[0]!;
    expect((await row(kept.body.id)).status).toBe('open');

    // Not due yet: nothing is asked.
    expect(await checkOpenCaptures(h.ctx)).toBe(0);
    offsetMs = 61_000;
    try {
      expect(await checkOpenCaptures(h.ctx)).toBeGreaterThanOrEqual(2);
      expect(await row(kept.body.id)).toMatchObject({ status: 'succeeded', nextCheckAt: null });
      const [medium] = await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.id, (await row(kept.body.id)).mediumId!));
      expect(medium).toMatchObject({ accountNumber: '2222', status: 'Valid' });
      // The unopened form is still usable: asked again later, not failed.
      const waiting = await row(abandoned.body.id);
      expect(waiting.status).toBe('open');
      expect(waiting.nextCheckAt!.getTime()).toBeGreaterThan(Date.now() + offsetMs);
      // Past its 10 minutes (and the next check), Debitsuccess says the token expired: failed, nothing created.
      offsetMs = 60 * 60_000;
      expect(await checkOpenCaptures(h.ctx)).toBeGreaterThanOrEqual(1);
      expect(await row(abandoned.body.id)).toMatchObject({ status: 'failed', failureCode: 'expired', mediumId: null, nextCheckAt: null });
    } finally {
      offsetMs = 0;
    }
  });

  it('refuses what it cannot do with a clear problem, and creates nothing', async () => {
    // Cards are the default card provider's (Peach Payments): it takes a card only with a payment.
    const card = await startCapture({ customer_id: DEMO.customerId, medium_type: 'CreditCard', return_url: returnUrl() });
    expect(card.status).toBe(422);
    expect(card.headers['content-type']).toContain('application/problem+json');
    expect(card.body).toMatchObject({ code: 'capture.not_offered', status: 422 });
    const cardProvider = (await h.call('GET', '/default?mediumType=2')).body.provider as string;
    expect(card.body.detail).toContain(cardProvider);


    const cases: [Record<string, unknown>, string | undefined, number, string][] = [
      [{ medium_type: 'BankAccount', return_url: 'https://evil.example/steal' }, undefined, 422, 'capture.return_url_not_allowed'],
      [{ medium_type: 'BankAccount', return_url: returnUrl() }, h.tokens.integrator, 422, 'capture.customer_required'],
      [{ service_id: FIX.otherCustomer.serviceId, medium_type: 'BankAccount', return_url: returnUrl() }, undefined, 404, 'not_found'],
      [{ customer_id: FIX.otherCustomer.customerId, medium_type: 'BankAccount', return_url: returnUrl() }, undefined, 404, 'not_found'],
      [{ service_id: service, customer_id: FIX.otherCustomer.customerId, medium_type: 'BankAccount', return_url: returnUrl() }, h.tokens.integrator, 422, 'capture.customer_mismatch'],
      [{ medium_type: 'Cash', return_url: returnUrl() }, undefined, 400, 'request.invalid'],
    ];
    const before = (await h.ctx.database.db.select().from(t.mediumCaptures)).length;
    for (const [body, token, status, code] of cases) {
      const res = await startCapture(body, token);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(String(res.body.code)).toContain(code);
    }
    expect((await h.ctx.database.db.select().from(t.mediumCaptures)).length).toBe(before);
    // Another customer's capture is not found.
    const mine = await startCapture({ customer_id: DEMO.customerId, medium_type: 'BankAccount', return_url: returnUrl() });
    expect((await h.call('GET', `/payment-mediums/captures/${mine.body.id}`, { token: h.tokens.otherCustomer })).status).toBe(404);
  });

  it('passes a Debitsuccess refusal on as its problem, and records the capture failed', async () => {
    // Debitsuccess holds two accounts under this customer's reference: 07, "Multiple accounts found".
    for (const ref of ['TST0000091', 'TST0000092']) {
      await h.ctx.database.query(`INSERT INTO sandbox.debitsuccess_accounts (account_reference_no, external_account_reference_no) VALUES ($1, $2)`, [ref, FIX.otherCustomer.customerId]);
    }
    const res = await startCapture({ customer_id: FIX.otherCustomer.customerId, medium_type: 'BankAccount', return_url: returnUrl() }, h.tokens.otherCustomer);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'provider.declined', provider_code: '07' });
    expect(res.body.detail).toContain('more than one account');
    const [failed] = await h.ctx.database.db.select().from(t.mediumCaptures).where(eq(t.mediumCaptures.customerId, FIX.otherCustomer.customerId));
    expect(failed).toMatchObject({ status: 'failed', failureCode: 'provider.declined', mediumId: null });
  });

  it('a second capture replaces the first at Debitsuccess (one payment detail per account): the older medium is Invalid, its services use the new one', async () => {
    const first = await startCapture({ service_id: service, medium_type: 'BankAccount', return_url: returnUrl() });
    await fillBankForm(first.body.capture_url, '1234567890');
    const older = (await capture(first.body.id)).body.medium_id as string;
    // A second service of the customer collected from that medium too.
    const other = DEMO.services.recurringInArrears;
    expect((await h.call('PUT', `/active-payment-medium-for-service?serviceId=${other}`, { body: { medium_id: older } })).status).toBe(200);

    const second = await startCapture({ service_id: service, medium_type: 'BankAccount', return_url: returnUrl() });
    await fillBankForm(second.body.capture_url, '2222222222');
    const newer = (await capture(second.body.id)).body.medium_id as string;
    const [a] = await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.id, older));
    const [b] = await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.id, newer));
    expect(a).toMatchObject({ status: 'Invalid', accountNumber: '7890' });
    expect(b).toMatchObject({ status: 'Valid', accountNumber: '2222' });
    for (const s of [service, other]) expect((await h.call('GET', `/active-payment-medium-for-service?serviceId=${s}`)).body.medium_detail_id).toBe(newer);
    const updates = (await h.ctx.database.db.select().from(t.outboxEvents)).filter((e) => e.type === 'medium.updated' && (e.payload as { data: { medium_id?: string } }).data.medium_id === older);
    expect(updates.map((e) => (e.payload as { data: Record<string, unknown> }).data).filter((d) => d.status === 'Invalid')).toEqual([expect.objectContaining({ replaced_by_medium_id: newer })]);
  });

  it('with Debitsuccess as the card provider, a card kept on its form is a Valid card medium that payrail charges', async () => {
    expect((await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { default_providers: { credit_card: 'Debitsuccess' } } })).status).toBe(200);
    try {
      const started = await startCapture({ service_id: service, medium_type: 'CreditCard', return_url: returnUrl() });
      expect(started.status, started.text).toBe(201);
      expect((await fetch(started.body.capture_url)).status).toBe(200);
      const posted = await fetch(started.body.capture_url, { method: 'POST', body: new URLSearchParams({ card_number: '4444333322221111', expiry: '04/25', cvv: '123', holder: 'AUTHORISED' }), redirect: 'manual' });
      await fetch(posted.headers.get('location')!, { redirect: 'manual' });
      const done = await capture(started.body.id);
      expect(done.body.status).toBe('succeeded');
      const [card] = await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.id, done.body.medium_id));
      expect(card).toMatchObject({ mediumType: 'CreditCard', status: 'Valid', provider: 'Debitsuccess', accountNumber: '1111' });

      // Charged now (not a debit order): a fresh purchase of the service is paid at once, one card payment at Debitsuccess.
      const order = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
      const paid = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: order.body.service.id, purchase_id: order.body.upfront_purchase.id, medium_id: card!.id } });
      expect(paid.status, paid.text).toBe(200);
      expect(paid.body).toMatchObject({ payment_status: 'succeeded', purchase_status_id: 4 });
      const [payment] = (await h.call('GET', `/payments?purchaseId=${order.body.upfront_purchase.id}`, { token: h.tokens.integrator })).body.items;
      const ledger = (await (await fetch(`${h.baseUrl}/sandbox/debitsuccess/transactions?merchant_reference=${payment.merchant_reference}`)).json()) as { items: { kind: string; status: string }[] };
      expect(ledger.items.map((i) => [i.kind, i.status])).toEqual([['token', 'approved']]);

      // A card whose charge Debitsuccess is still processing (…0259): pending, then settled by asking it.
      const again = await startCapture({ service_id: service, medium_type: 'CreditCard', return_url: returnUrl() });
      await fetch(again.body.capture_url);
      const kept = await fetch(again.body.capture_url, { method: 'POST', body: new URLSearchParams({ card_number: '4000000000000259', expiry: '12/30', cvv: '123', holder: 'T Mokoena' }), redirect: 'manual' });
      await fetch(kept.headers.get('location')!, { redirect: 'manual' });
      const slow = (await capture(again.body.id)).body.medium_id as string;
      const next = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
      const pending = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: next.body.service.id, purchase_id: next.body.upfront_purchase.id, medium_id: slow } });
      expect(pending.status, pending.text).toBe(202);
      expect(pending.body).toMatchObject({ payment_status: 'pending' });
      offsetMs += 31_000;
      const { settleUnsettledPayments } = await import('../../modules/payments/settle-unsettled-payments.ts');
      await settleUnsettledPayments(h.ctx, { now: new Date(Date.now() + offsetMs + 60_000) });
      const [declined] = (await h.call('GET', `/payments?purchaseId=${next.body.upfront_purchase.id}`, { token: h.tokens.integrator })).body.items;
      expect(declined).toMatchObject({ status: 'failed', failure_code: 'declined' });
      expect(declined.failure_message).toContain('GATEWAY ERROR');
    } finally {
      await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { default_providers: { credit_card: 'PayFast' } } });
    }
  });

  it('the form’s own notice completes a capture whose customer never came back; a notice without the page’s WebhookToken changes nothing', async () => {
    const t0 = h.ctx.clock().getTime();
    const started = await startCapture({ service_id: service, medium_type: 'BankAccount', return_url: returnUrl() });
    // A forged notice first: the right account, a guessed WebhookToken.
    const forged = await fetch(`${h.baseUrl}/callbacks/debitsuccess/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ WebhookToken: 'Guessed1', AccountReferenceNo: 'TST0000001', ExternalAccountReferenceNo: DEMO.customerId, Status: 'Success', Message: '' }),
    });
    expect(forged.status).toBe(200);
    const stored = async () => (await h.ctx.database.db.select().from(t.providerEvents)).filter((e) => e.provider === 'Debitsuccess' && e.receivedAt.getTime() >= t0);
    const ignored = async () => (await stored()).filter((e) => e.outcome?.startsWith('ignored'));
    for (let i = 0; i < 100 && (await ignored()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await ignored()).map((e) => [e.verified, e.rejection])).toEqual([[false, 'no capture page of this account carries that notice secret (a payment form’s notice, or a forgery)']]);
    expect((await capture(started.body.id)).body.status).toBe('open');

    // The customer submits Debitsuccess's form and closes the tab: the form's notice reaches payrail, which asks Debitsuccess.
    expect((await fetch(started.body.capture_url)).status).toBe(200);
    const posted = await fetch(started.body.capture_url, { method: 'POST', body: new URLSearchParams({ account_holder: 'T Mokoena', bank: 'FNB', branch_code: '250655', account_number: '1234567890', account_type: 'Cheque' }), redirect: 'manual' });
    expect(posted.status).toBe(302);
    let status = 'open';
    for (let i = 0; i < 100 && status === 'open'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await capture(started.body.id)).body.status;
    }
    expect(status).toBe('succeeded');
    // The notice's row records its outcome just after the capture it completed is written: wait for that too.
    const notice = async () => (await stored()).filter((e) => e.eventId === `webhook:capture:${started.body.id}`);
    for (let i = 0; i < 100 && (await notice()).some((e) => e.outcome === null); i++) await new Promise((r) => setTimeout(r, 50));
    const notices = await notice();
    expect(notices.map((e) => [e.verified, e.outcome])).toEqual([[true, `processed: capture ${started.body.id} is succeeded`]]);
  });
});
