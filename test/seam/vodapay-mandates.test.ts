import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus } from '../../src/domain/enums.ts';
import type { IsoDate } from '../../src/domain/periods.ts';
import { rational } from '../../src/domain/rational.ts';
import { workBillingCollections } from '../../src/modules/billing/work-collections.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID, revealMediumToken } from '../../src/modules/mediums/repo.ts';
import { settleUnsettledPayments } from '../../src/modules/payments/settle-unsettled-payments.ts';
import { insertPurchase } from '../../src/modules/purchases/repo.ts';
import { signVodaPayNotification, VODAPAY_SANDBOX_MERCHANT } from '../../src/sandboxes/vodapay/merchant.ts';
import { CARDS, eventually, sandboxBehaviour } from '../helpers/collections.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { takeEveryEvent } from '../helpers/events.ts';

/**
 * Card mandates through VodaPay Gateway (SPEC §11, seed 001), over real HTTP to its sandbox: with VodaPay as
 * the operator's card provider, "Add new payment method" on a Recurring service pays the purchase on VodaPay's
 * page and leaves a Valid card medium carrying the monthly mandate, active on the service; billing runs and Pay
 * Now collect it with SubmitRecurring, one charge per traceId whatever is lost or repeated; a forged browser
 * callback or notification changes nothing; a cancelled mandate is never charged again.
 */
let today: IsoDate = '2027-01-05';
const clock = () => new Date(`${today}T10:00:00+02:00`);
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true, clock });
  await takeEveryEvent(h.ctx); // the outbox keeps only events an endpoint takes
  const set = await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { default_providers: { credit_card: 'VodaPay' } } });
  expect(set.status, set.text).toBe(200);
});
afterAll(() => h?.close());

const staff = () => h.tokens.integrator;
const sandbox = () => `${h.baseUrl}/sandbox/vodapay`;
interface LedgerRow {
  kind: string;
  status: string;
  amount_cents: number;
  merchant_reference: string;
  token_used: boolean;
  result_code: string;
}
const ledger = async (reference?: string): Promise<LedgerRow[]> =>
  ((await (await fetch(`${sandbox()}/transactions${reference ? `?merchant_reference=${reference}` : ''}`)).json()) as { items: LedgerRow[] }).items;
const attemptsOf = (purchaseId: string) => h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId));
const purchaseOf = async (purchaseId: string) => (await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, purchaseId)))[0]!;
const planOf = async (serviceId: string) => (await h.ctx.database.db.select().from(t.purchasePlans).where(eq(t.purchasePlans.serviceId, serviceId)))[0]!;
const submit = (serviceId: string, purchaseId: string, mediumId: string) =>
  h.call('POST', '/purchases/submit-for-collection', { token: staff(), body: { service_id: serviceId, purchase_id: purchaseId, medium_id: mediumId, success_url: null, failure_url: null } });

interface Subscriber {
  serviceId: string;
  customerId: string;
  upfrontId: string;
}

/** A customer of its own with a Recurring order on the 15th: its upfront purchase still to pay. */
async function subscriber(name: string): Promise<Subscriber> {
  const customer = await h.call('POST', '/customers', { token: staff(), body: { name, email: `${randomUUID().slice(0, 8)}@example.com` } });
  expect(customer.status, customer.text).toBe(201);
  const order = await h.call('POST', '/orders', { token: staff(), body: { customer_id: customer.body.customer.id, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId, collection_day: 15 } });
  expect(order.status, order.text).toBe(201);
  return { serviceId: order.body.service.id, customerId: customer.body.customer.id, upfrontId: order.body.upfront_purchase.id };
}

/** Fills VodaPay's page as a browser would; returns the page's answer (303 to the callback, or the page again). */
async function payOnPage(url: string, card: string, expiry = '12/30'): Promise<Response> {
  const page = await fetch(url);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('name="card_number"');
  return fetch(url, { method: 'POST', body: new URLSearchParams({ card_number: card, expiry, cvv: '123', holder: 'T Mokoena' }), redirect: 'manual' });
}

/** "Add new payment method" paid on VodaPay's page, through payrail's callback: the new mandate medium. */
async function setUpMandate(s: Subscriber, card: string = CARDS.approve): Promise<{ mediumId: string; paymentLinkUrl: string }> {
  const res = await submit(s.serviceId, s.upfrontId, GLOBAL_OPAQUE_MEDIUM_ID);
  expect(res.status, res.text).toBe(200);
  const posted = await payOnPage(res.body.payment_link_url, card);
  expect(posted.status).toBe(303);
  const back = await fetch(posted.headers.get('location')!, { redirect: 'manual' });
  expect(back.status).toBe(303);
  expect(new URL(back.headers.get('location')!).pathname).toMatch(/\/1$/);
  const [payment] = await attemptsOf(s.upfrontId);
  expect(payment).toMatchObject({ status: 'succeeded', provider: 'VodaPay', kind: 'hosted' });
  return { mediumId: payment!.createdMediumId!, paymentLinkUrl: res.body.payment_link_url };
}

describe('VodaPay card mandates', () => {
  it('the operator’s card provider can be VodaPay, and GET /default says its cards are mandates', async () => {
    const res = await h.call('GET', '/default?mediumType=2');
    expect(res.body).toMatchObject({ provider: 'VodaPay', mandates: true });
    const bank = await h.call('GET', '/default?mediumType=1');
    expect(bank.body.mandates).toBe(false);
    // VodaPay takes cards only: it cannot be the provider of bank accounts.
    const refused = await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { default_providers: { bank_account: 'VodaPay' } } });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([expect.objectContaining({ name: 'body.default_providers.bank_account' })]);
  });

  it('"Add new payment method" on a Recurring service: paid once on VodaPay’s page, a Valid mandate medium active on the service, then one SubmitRecurring per monthly run', async () => {
    today = '2027-01-05';
    const s = await subscriber('Mandate One');
    const res = await submit(s.serviceId, s.upfrontId, GLOBAL_OPAQUE_MEDIUM_ID);
    expect(res.status, res.text).toBe(200);
    expect(res.body.payment_link_url).toMatch(new RegExp(`^${h.baseUrl}/sandbox/vodapay-pay/pay\\?sessionId=`));
    const [attempt] = await attemptsOf(s.upfrontId);
    expect(attempt!.mandate).toEqual({ frequency: 'Monthly', day: 15, amount: { amountCents: 37_900, currency: 'ZAR' }, firstPaymentDate: '2027-01-15', minimumValidityMonths: 3 });

    const posted = await payOnPage(res.body.payment_link_url, CARDS.approve);
    expect(posted.status).toBe(303);
    const callback = new URL(posted.headers.get('location')!);
    expect(callback.pathname).toBe('/callbacks/vodapay/return');
    const back = await fetch(callback, { redirect: 'manual' });
    expect(back.status).toBe(303);
    expect(new URL(back.headers.get('location')!).pathname).toMatch(new RegExp(`^/app/ext-pay/[^/]+/${s.upfrontId}/1$`));

    const purchase = await purchaseOf(s.upfrontId);
    expect(purchase.statusId).toBe(4);
    const [paid] = await attemptsOf(s.upfrontId);
    const charges = await ledger(paid!.merchantReference);
    expect(charges.map((c) => [c.kind, c.status, c.amount_cents])).toEqual([['hosted', 'approved', purchase.amountCents]]);

    // The medium: a Valid card with its mandate, active on the service; what the customer agreed, shown.
    const medium = (await h.ctx.database.db.select().from(t.mediums).where(eq(t.mediums.id, paid!.createdMediumId!)))[0]!;
    expect(medium).toMatchObject({ mediumType: 'CreditCard', status: 'Valid', provider: 'VodaPay', accountNumber: '4242', expiryMonth: 12, expiryYear: 2030 });
    expect((await planOf(s.serviceId)).activeMediumId).toBe(medium.id);
    const details = await h.call('GET', `/services/${s.serviceId}/details-and-actions`, { token: staff() });
    const shown = details.body.mediums.find((m: { medium_detail_id: string }) => m.medium_detail_id === medium.id);
    expect(shown.mandate).toMatchObject({ frequency: 'Monthly', day: 15, amount: 379, first_payment_date: '2027-01-15', summary: 'Monthly debit of R379.00 on the 15th' });

    // The service goes live; each monthly run collects the mandate once.
    expect((await h.call('PATCH', `/services/${s.serviceId}`, { token: staff(), body: { service_status: 'Active', on_network_date: today } })).status).toBe(200);
    for (const asOf of ['2027-01-15', '2027-02-15', '2027-03-15'] as IsoDate[]) {
      today = asOf;
      const run = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: asOf } });
      expect(run.status, run.text).toBe(201);
      while ((await workBillingCollections(h.ctx, { limit: 50 })) > 0);
    }
    const monthly = await h.ctx.database.db.select().from(t.purchases).where(and(eq(t.purchases.serviceId, s.serviceId), eq(t.purchases.creationEventId, 2)));
    expect(monthly).toHaveLength(3);
    expect(monthly.map((p) => p.statusId)).toEqual([4, 4, 4]);
    const attempts = await h.ctx.database.db.select().from(t.payments).where(inArray(t.payments.purchaseId, monthly.map((p) => p.id)));
    expect(attempts.map((a) => [a.kind, a.status, a.mediumId])).toEqual(attempts.map(() => ['token', 'succeeded', medium.id]));
    for (const a of attempts) expect((await ledger(a.merchantReference)).map((c) => [c.kind, c.status, c.token_used, c.amount_cents])).toEqual([['token', 'approved', true, 37_900]]);
  });

  it('a card that expires within the mandate’s validity is refused on VodaPay’s page: nothing charged, the purchase still payable there', async () => {
    today = '2027-01-05';
    const s = await subscriber('Mandate Expiring');
    const res = await submit(s.serviceId, s.upfrontId, GLOBAL_OPAQUE_MEDIUM_ID);
    // First collection 2027-01-15, three months of validity: a card expiring 02/27 is not enough.
    const refused = await payOnPage(res.body.payment_link_url, CARDS.approve, '02/27');
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/expires too soon/);
    const [attempt] = await attemptsOf(s.upfrontId);
    expect(await ledger(attempt!.merchantReference)).toEqual([]);
    expect(attempt!.status).toBe('pending');
    expect((await purchaseOf(s.upfrontId)).statusId).toBe(2);
    // The janitor repeats the initiation: the page is still open, nothing is paid.
    await settleUnsettledPayments(h.ctx, { now: new Date(clock().getTime() + 2 * 60_000) });
    expect((await attemptsOf(s.upfrontId))[0]).toMatchObject({ status: 'pending' });
    expect(await h.ctx.database.db.select().from(t.mediums).where(and(eq(t.mediums.customerId, s.customerId), eq(t.mediums.mediumType, 'CreditCard')))).toEqual([]);
  });

  it('a forged browser callback (data claiming 00) and a forged notification change nothing', async () => {
    today = '2027-01-05';
    const s = await subscriber('Mandate Forged');
    const res = await submit(s.serviceId, s.upfrontId, GLOBAL_OPAQUE_MEDIUM_ID);
    const [attempt] = await attemptsOf(s.upfrontId);
    const ui = `${h.baseUrl}/app/ext-pay/x/${s.upfrontId}/1`;
    const data = Buffer.from(JSON.stringify({ responseCode: '00', responseMessage: 'Approved', echoData: attempt!.merchantReference, traceId: attempt!.merchantReference, transactionId: randomUUID(), retrievalReferenceNumber: '000000000001' })).toString('base64');
    const forgedReturn = await fetch(`${h.baseUrl}/callbacks/vodapay/return?url=${encodeURIComponent(ui)}&data=${encodeURIComponent(data)}`, { redirect: 'manual' });
    expect(forgedReturn.status).toBe(303);
    expect(new URL(forgedReturn.headers.get('location')!).pathname).toMatch(/\/0$/);
    const body = JSON.stringify({ traceId: attempt!.merchantReference, transactionId: randomUUID(), sessionId: randomUUID(), echoData: null, responseCode: '00', responseMessage: 'Approved', amount: attempt!.amountCents, paymentToken: '1234567890123456789', transmissionDateTime: new Date().toISOString(), retrievalReferenceNumber: null, kind: 'Recurring' });
    const forgedNotice = await fetch(`${h.baseUrl}/callbacks/vodapay/notify`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-vodapay-signature': signVodaPayNotification(body, 'not-the-api-key') }, body });
    expect(forgedNotice.status).toBe(400);
    const unsigned = await fetch(`${h.baseUrl}/callbacks/vodapay/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(400);
    expect((await attemptsOf(s.upfrontId))[0]).toMatchObject({ status: 'pending', createdMediumId: null });
    expect((await purchaseOf(s.upfrontId)).statusId).toBe(2);
    expect(await h.ctx.database.db.select().from(t.mediums).where(and(eq(t.mediums.customerId, s.customerId), eq(t.mediums.mediumType, 'CreditCard')))).toEqual([]);
    // Undecodable data is refused outright.
    const junk = await fetch(`${h.baseUrl}/callbacks/vodapay/return?url=${encodeURIComponent(ui)}&data=%%%`, { redirect: 'manual' });
    expect(junk.status).toBe(400);
    expect(res.status).toBe(200);
  });

  it('a correctly signed notification settles a page by itself, and leaves the mandate medium', async () => {
    today = '2027-01-05';
    const s = await subscriber('Mandate Notified');
    const res = await submit(s.serviceId, s.upfrontId, GLOBAL_OPAQUE_MEDIUM_ID);
    // The customer pays but never comes back: only VodaPay's notification reaches payrail.
    const posted = await payOnPage(res.body.payment_link_url, CARDS.approve);
    expect(posted.status).toBe(303);
    await eventually(async () => (await attemptsOf(s.upfrontId))[0]!.status === 'succeeded');
    const [paid] = await attemptsOf(s.upfrontId);
    expect((await planOf(s.serviceId)).activeMediumId).toBe(paid!.createdMediumId);
    const notices = await h.ctx.database.db.select().from(t.providerEvents).where(and(eq(t.providerEvents.provider, 'VodaPay'), eq(t.providerEvents.paymentId, paid!.id)));
    expect(notices.filter((n) => n.verified)).toHaveLength(1);
    expect(VODAPAY_SANDBOX_MERCHANT.apiKey).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a lost SubmitRecurring answer: unknown, then settled by repeating the same traceId — one charge in the ledger', async () => {
    today = '2027-01-05';
    const s = await subscriber('Mandate Lost');
    const { mediumId } = await setUpMandate(s, CARDS.lost);
    await sandboxBehaviour(h, 'vodapay', { notifications: 'drop' });
    try {
      const purchaseId = randomUUID();
      await owe(s, purchaseId, 37_900);
      const res = await submit(s.serviceId, purchaseId, mediumId);
      // The answer never came: the outcome is unknown, and payrail says so.
      expect(res.status, res.text).toBe(202);
      expect(res.body.payment_status).toBe('unknown');
      const [attempt] = await attemptsOf(purchaseId);
      expect(attempt).toMatchObject({ status: 'unknown', kind: 'token' });
      expect((await purchaseOf(purchaseId)).statusId).toBe(2);
      expect(await ledger(attempt!.merchantReference)).toHaveLength(1);
      await settleUnsettledPayments(h.ctx, { now: new Date(clock().getTime() + 5 * 60_000) });
      expect((await attemptsOf(purchaseId))[0]).toMatchObject({ status: 'succeeded', merchantReference: attempt!.merchantReference });
      expect((await purchaseOf(purchaseId)).statusId).toBe(4);
      const charges = await ledger(attempt!.merchantReference);
      expect(charges.map((c) => [c.kind, c.status, c.amount_cents])).toEqual([['token', 'approved', 37_900]]);
    } finally {
      await sandboxBehaviour(h, 'vodapay', null);
    }
  });

  it('50 concurrent collections of one purchase with the mandate: one SubmitRecurring, one charge', async () => {
    today = '2027-01-05';
    const s = await subscriber('Mandate Concurrent');
    const { mediumId } = await setUpMandate(s);
    const purchaseId = randomUUID();
    await owe(s, purchaseId, 25_000);
    const answers = await Promise.all(Array.from({ length: 50 }, () => submit(s.serviceId, purchaseId, mediumId)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(1);
    expect(statuses.filter((x) => x !== 200 && x !== 409)).toEqual([]);
    const attempts = await attemptsOf(purchaseId);
    expect(attempts).toHaveLength(1);
    expect(await ledger(attempts[0]!.merchantReference)).toHaveLength(1);
    const charged = (await ledger()).filter((c) => c.kind === 'token' && attempts.some((a) => a.merchantReference === c.merchant_reference));
    expect(charged.map((c) => c.status)).toEqual(['approved']);
  });

  it('DELETE /payment-mediums/{id}: the mandate is cancelled at VodaPay, the medium Invalid, the service left without one; later runs charge nothing and leave the purchase owed', async () => {
    today = '2027-04-05';
    const s = await subscriber('Mandate Cancelled');
    const { mediumId } = await setUpMandate(s);
    expect((await h.call('PATCH', `/services/${s.serviceId}`, { token: staff(), body: { service_status: 'Active', on_network_date: today } })).status).toBe(200);

    // Not another customer's, not the global medium.
    expect((await h.call('DELETE', `/payment-mediums/${GLOBAL_OPAQUE_MEDIUM_ID}`, { token: staff() })).status).toBe(404);
    expect((await h.call('DELETE', `/payment-mediums/${mediumId}`)).status).toBe(404); // the demo customer's token
    expect((await h.call('DELETE', '/payment-mediums/not-a-uuid', { token: staff() })).status).toBe(400);

    const removed = await h.call('DELETE', `/payment-mediums/${mediumId}`, { token: staff() });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body).toMatchObject({ medium_detail_id: mediumId, medium_status: 'Invalid', provider: 'VodaPay' });
    expect((await h.call('DELETE', `/payment-mediums/${mediumId}`, { token: staff() })).body.medium_status).toBe('Invalid');
    expect((await planOf(s.serviceId)).activeMediumId).toBeNull();
    const details = await h.call('GET', `/services/${s.serviceId}/details-and-actions`, { token: staff() });
    expect(details.body.mediums.map((m: { medium_detail_id: string }) => m.medium_detail_id)).not.toContain(mediumId);
    const updated = (await h.ctx.database.db.select().from(t.outboxEvents).where(eq(t.outboxEvents.type, 'medium.updated'))).filter((e) => (e.payload as { data: { medium_id: string } }).data.medium_id === mediumId);
    expect(updated.map((e) => (e.payload as { data: { status: string; inactive_for_service_ids: string[] } }).data)).toEqual([expect.objectContaining({ status: 'Invalid', inactive_for_service_ids: [s.serviceId] })]);

    // Pay Now with it is refused; VodaPay itself would refuse the token too.
    const owed = randomUUID();
    await owe(s, owed, 10_000);
    const refused = await submit(s.serviceId, owed, mediumId);
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('medium.not_usable');

    // VodaPay refuses the cancelled token itself, and charges nothing.
    const token = (await revealMediumToken(h.ctx.database.db, h.ctx.vault, mediumId))!.token;
    const direct = await fetch(`${sandbox()}/V2/Pay/SubmitRecurring`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': VODAPAY_SANDBOX_MERCHANT.apiKey, test: 'true' },
      body: JSON.stringify({ traceId: `TEST${randomUUID().replaceAll('-', '')}`, paymentToken: token, amount: 100, customerId: s.customerId }),
    });
    expect(((await direct.json()) as { data: { responseCode: string } }).data.responseCode).toBe('56');

    // The next collection day: the monthly purchase is created and stays owed; VodaPay is not asked.
    today = '2027-04-15';
    const run = await h.call('POST', '/billing/runs', { token: staff(), body: { as_of: today } });
    expect(run.status, run.text).toBe(201);
    while ((await workBillingCollections(h.ctx, { limit: 50 })) > 0);
    const monthly = await h.ctx.database.db.select().from(t.purchases).where(and(eq(t.purchases.serviceId, s.serviceId), eq(t.purchases.creationEventId, 2)));
    expect(monthly).toHaveLength(1);
    expect(monthly[0]!.statusId).toBe(3);
    expect(await attemptsOf(monthly[0]!.id)).toEqual([]);
    expect((await ledger()).filter((c) => c.status === 'approved' && c.kind === 'token' && c.amount_cents === 100)).toEqual([]);
  });
});

/** An owed purchase (a once-off line) of the subscriber's service. */
async function owe(s: Subscriber, id: string, amountCents: number): Promise<void> {
  await insertPurchase(h.ctx.database.db, {
    id,
    operatorId: DEMO.operatorId,
    customerId: s.customerId,
    serviceId: s.serviceId,
    purchasePlanId: null,
    statusId: PurchaseStatus.Unpaid,
    creationEventId: PurchaseCreationEvent.Manual,
    purchaseDate: clock(),
    lines: [{ id: randomUUID(), lineTypeId: PurchaseLineType.Once, description: 'Test line', quantity: 1, unitPriceIncl: rational(amountCents), totalCents: amountCents, rateBp: 1500, periodContributionPerQuantity: 0, productPriceId: null }],
  });
}
