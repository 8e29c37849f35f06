import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxNotifications, sandboxSessions, sandboxTokens } from '../kit/schema.ts';
import { signVodaPayNotification, VODAPAY_SANDBOX_MERCHANT } from './merchant.ts';
import { callbackData, dayFrom, seedRequest, startSandbox, testCard, type Client } from './test-client.ts';
import { vodapayMandates, vodapayRequests } from './schema.ts';

/** The payment page: the card form, the first payment, the token and its mandate, the notification, the callback. */

let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterAll(() => c.close());

/** An initiation whose notifications go to a fresh receiver path. */
async function initiate(overrides: Record<string, unknown> = {}) {
  const hook = c.receiver.fresh();
  const req = seedRequest(c.now(), { Notifications: { callbackUrl: 'https://shop.example/back?order=42', notificationUrl: hook.url }, ...overrides });
  const res = await c.initiate(req);
  expect(res.body.data.responseCode).toBe('00');
  return { req, hook, data: res.body.data };
}

describe('paying on the page', () => {
  it('charges the first payment, makes a token holding the mandate, notifies (signed) and returns the customer with data', async () => {
    const { req, hook, data } = await initiate();
    const { page, res } = await c.pay(data.initiationUrl, testCard('4242 4242 4242 4242', '12/30'));
    expect(page.status).toBe(200);
    for (const name of ['card_number', 'expiry', 'cvv', 'holder']) expect(page.text).toContain(`name="${name}"`);
    expect(page.text).toMatch(/<button[^>]*>Pay<\/button>/);
    expect(page.text).toMatch(/<button[^>]*>Cancel<\/button>/);
    expect(page.text).toContain('R500.00');

    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location.startsWith('https://shop.example/back?order=42&data=')).toBe(true);
    const back = callbackData(location);
    expect(Object.keys(back)).toEqual(['responseCode', 'responseMessage', 'echoData', 'transactionId', 'retrievalReferenceNumber', 'traceId']);
    expect(back).toMatchObject({ responseCode: '00', responseMessage: 'Approved or completed successfully', echoData: '123', transactionId: data.transactionId, traceId: req.traceId });
    expect(back.retrievalReferenceNumber).toMatch(/^[0-9]{12}$/);

    const ledger = await c.ledger(req.traceId);
    expect(ledger.map((r) => [r.id, r.kind, r.status, r.amount_cents, r.result_code, r.card])).toEqual([[data.transactionId, 'hosted', 'approved', 50000, '00', { bin: '424242', last4: '4242' }]]);

    const [notice] = await c.receiver.waitFor(hook.path, 1);
    const raw = JSON.stringify(notice!.body);
    expect(notice!.headers['content-type']).toBe('application/json');
    expect(notice!.headers['x-vodapay-signature']).toBe(signVodaPayNotification(raw, VODAPAY_SANDBOX_MERCHANT.apiKey));
    expect(notice!.headers['x-vodapay-signature']).toMatch(/^[0-9a-f]{64}$/);
    const token = notice!.body.paymentToken;
    expect(token).toMatch(/^[0-9]{19}$/);
    expect(notice!.body).toEqual({
      traceId: req.traceId, transactionId: data.transactionId, sessionId: data.sessionId, echoData: '123', responseCode: '00', responseMessage: 'Approved or completed successfully',
      amount: 50000, paymentToken: token, card: { bin: '424242', last4: '4242', expiryMonth: 12, expiryYear: 2030 },
      transmissionDateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/), retrievalReferenceNumber: back.retrievalReferenceNumber, kind: 'Recurring',
    });

    const db = c.h.ctx.database.db;
    const [mandate] = await db.select().from(vodapayMandates).where((await import('drizzle-orm')).eq(vodapayMandates.paymentToken, token));
    expect(mandate).toMatchObject({ category: 6, frequency: 6, regularPaymentDay: 1, amountCents: 20000, firstPaymentDate: req.recurring.firstPaymentDate, validityMonths: 3, status: 'active', customerId: 'customer01' });

    // The repeat of the initiation answers the result, with the token.
    const repeat = await c.initiate(req);
    expect(repeat.status).toBe(200);
    expect(repeat.body.data).toMatchObject({ responseCode: '00', transactionId: data.transactionId, sessionId: data.sessionId, paymentToken: token });

    // The page cannot be paid twice.
    expect((await c.call('GET', data.initiationUrl)).status).toBe(409);
    expect((await c.ledger(req.traceId)).length).toBe(1);
  });

  it('keeps no card number or CVV in any table', async () => {
    const { data } = await initiate();
    await c.pay(data.initiationUrl, { ...testCard('4242424242424242'), cvv: '987' });
    const db = c.h.ctx.database.db;
    const dump = JSON.stringify([await db.select().from(sandboxSessions), await db.select().from(sandboxTokens), await db.select().from(sandboxNotifications), await db.select().from(vodapayMandates), await db.select().from(vodapayRequests), await c.ledger()]);
    expect(dump).not.toContain('4242424242424242');
    // A CVV's digits may occur in any id by chance: what must not be there is a field holding it.
    expect(dump).not.toMatch(/cvv|card_number/i);
  });

  it.each([
    ['4000000000000002', '05', 'declined', 50000, false],
    ['4000000000009995', '51', 'declined', 50000, false],
    ['4000000000000010', '10', 'approved', 25000, true],
  ])('card %s: %s, ledger %s of %i cents, token %s', async (number, code, status, cents, token) => {
    const { req, hook, data } = await initiate();
    const { res } = await c.pay(data.initiationUrl, testCard(number));
    expect(callbackData(res.headers.get('location')).responseCode).toBe(code);
    expect((await c.ledger(req.traceId)).map((r) => [r.status, r.amount_cents, r.result_code])).toEqual([[status, cents, code]]);
    const [notice] = await c.receiver.waitFor(hook.path, 1);
    expect(notice!.body).toMatchObject({ responseCode: code, amount: status === 'approved' ? cents : 0 });
    expect('paymentToken' in notice!.body).toBe(token);
    expect(Boolean((await c.initiate(req)).body.data.paymentToken)).toBe(token);
  });

  it('card …0259: 91 on the page once, nothing charged and the page still open; the second try approves', async () => {
    const { req, data } = await initiate();
    const first = await c.pay(data.initiationUrl, testCard('4000000000000259'));
    expect(first.res.status).toBe(503);
    expect(first.res.text).toContain('nothing was charged');
    const second = await c.pay(data.initiationUrl, testCard('4000000000000259'));
    expect(callbackData(second.res.headers.get('location')).responseCode).toBe('00');
    expect((await c.ledger(req.traceId)).map((r) => r.status)).toEqual(['unavailable', 'approved']);
  });

  it('refuses on the page a card that expires too soon for the mandate; another card may then pay', async () => {
    const first = dayFrom(c.now(), 10);
    const [y, m] = first.split('-').map(Number) as [number, number];
    // Two months after the first payment's month: less than the three the mandate asks.
    const soon = new Date(Date.UTC(y, m - 1 + 2, 1));
    const expiry = `${String(soon.getUTCMonth() + 1).padStart(2, '0')}/${String(soon.getUTCFullYear()).slice(2)}`;
    const { req, hook, data } = await initiate({ recurring: { category: 6, firstPaymentDate: first, frequency: 6, regularPaymentDay: 1, amount: 20000, paymentInstrumentMinimumValidityPeriod: 3 } });
    const { res } = await c.pay(data.initiationUrl, testCard('4242424242424242', expiry));
    expect(res.status).toBe(400);
    expect(res.text).toContain('This card expires too soon');
    expect(res.text).toContain('name="card_number"');
    expect(await c.ledger(req.traceId)).toEqual([]);
    const later = new Date(Date.UTC(y, m - 1 + 3, 1));
    const ok = `${String(later.getUTCMonth() + 1).padStart(2, '0')}/${String(later.getUTCFullYear()).slice(2)}`;
    const paid = await c.pay(data.initiationUrl, testCard('4242424242424242', ok));
    expect(callbackData(paid.res.headers.get('location')).responseCode).toBe('00');
    expect((await c.receiver.waitFor(hook.path, 1)).length).toBe(1);
  });

  it('shows a bad form again with its message and charges nothing', async () => {
    const { req, data } = await initiate();
    const { res } = await c.pay(data.initiationUrl, testCard('4242424242424241'));
    expect(res.status).toBe(400);
    expect(res.text).toContain('Enter a valid card number.');
    expect(await c.ledger(req.traceId)).toEqual([]);
  });
});

describe('cancel and expiry', () => {
  it('Cancel: 17 to the callback and the notification, nothing charged, the repeat answers 17', async () => {
    const { req, hook, data } = await initiate();
    const { res } = await c.pay(data.initiationUrl, { action: 'cancel' });
    expect(res.status).toBe(303);
    const back = callbackData(res.headers.get('location'));
    expect(back).toMatchObject({ responseCode: '17', responseMessage: 'Customer cancellation', transactionId: data.transactionId, retrievalReferenceNumber: null });
    const [notice] = await c.receiver.waitFor(hook.path, 1);
    expect(notice!.body).toMatchObject({ responseCode: '17', amount: 0, kind: 'Recurring' });
    expect(notice!.body.card).toBeUndefined();
    expect(await c.ledger(req.traceId)).toEqual([]);
    expect((await c.initiate(req)).body).toMatchObject({ succeeded: false, data: { responseCode: '17', transactionId: data.transactionId } });
  });

  it('a session not paid within 30 minutes cannot be paid; the repeat answers 06', async () => {
    const { req, data } = await initiate();
    c.advance(30 * 60_000 + 1000);
    const page = await c.call('GET', data.initiationUrl);
    expect(page.status).toBe(410);
    const repeat = await c.initiate(req);
    expect(repeat.status).toBe(200);
    expect(repeat.body.data).toMatchObject({ responseCode: '06', transactionId: data.transactionId });
    expect(await c.ledger(req.traceId)).toEqual([]);
  });

  it('an unknown session is a 404 page', async () => {
    expect((await c.call('GET', '/sandbox/vodapay-pay/pay?sessionId=00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await c.call('GET', '/sandbox/vodapay-pay/pay?sessionId=nope')).status).toBe(404);
  });
});
