import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signVodaPayNotification, VODAPAY_SANDBOX_MERCHANT } from './merchant.ts';
import { newTrace, startSandbox, type Client } from './test-client.ts';

/** SubmitRecurring on a payment token: each test card's result, the mandate's limits, token actions. */

let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterAll(() => c.close());

const submit = (token: string, fields: Record<string, unknown> = {}) => c.submit({ echoData: 'e1', traceId: newTrace(), paymentToken: token, amount: 20000, customerId: 'customer01', ...fields });

describe('charging a token', () => {
  it('approves (00): the envelope, the ledger row (kind token) and the signed notification', async () => {
    const { token } = await c.mandate();
    const hook = c.receiver.fresh();
    const traceId = newTrace();
    const res = await submit(token, { traceId, notifications: { notificationUrl: hook.url } });
    expect(res.status).toBe(200);
    expect(res.body.succeeded).toBe(true);
    const d = res.body.data;
    expect(Object.keys(d)).toEqual(['echoData', 'responseCode', 'responseMessage', 'transmissionDateTime', 'sessionId', 'transactionId', 'traceId', 'paymentToken']);
    expect(d).toMatchObject({ echoData: 'e1', responseCode: '00', traceId, paymentToken: token });
    expect(d.transmissionDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
    expect((await c.ledger(traceId)).map((r) => [r.id, r.kind, r.status, r.amount_cents, r.token_used])).toEqual([[d.transactionId, 'token', 'approved', 20000, true]]);
    const [notice] = await c.receiver.waitFor(hook.path, 1);
    expect(notice!.headers['x-vodapay-signature']).toBe(signVodaPayNotification(JSON.stringify(notice!.body), VODAPAY_SANDBOX_MERCHANT.apiKey));
    expect(notice!.body).toMatchObject({ traceId, transactionId: d.transactionId, sessionId: d.sessionId, echoData: 'e1', responseCode: '00', amount: 20000, paymentToken: token, kind: 'SubmitRecurring', card: { last4: '4242' } });
  });

  it.each([
    ['4000000000000002', '05', 'declined', 20000, 0],
    ['4000000000009995', '51', 'declined', 20000, 0],
    ['4000000000000010', '10', 'approved', 10000, 10000],
  ])('card %s answers %s (ledger %s, %i cents; notification amount %i)', async (card, code, status, cents, noticed) => {
    // A declining card cannot make a token on the page; its outcome is given to an approved token here.
    const { token } = await c.mandate(card === '4000000000000010' ? card : '4242424242424242');
    if (card !== '4000000000000010') await setOutcome(token, card === '4000000000000002' ? 'decline' : 'insufficient_funds');
    const hook = c.receiver.fresh();
    const traceId = newTrace();
    const res = await submit(token, { traceId, notifications: { notificationUrl: hook.url } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ succeeded: code === '10', data: { responseCode: code } });
    expect((await c.ledger(traceId)).map((r) => [r.status, r.amount_cents])).toEqual([[status, cents]]);
    expect((await c.receiver.waitFor(hook.path, 1))[0]!.body.amount).toBe(noticed);
  });

  it('card …0259: 91 once (nothing charged), then approves', async () => {
    const { token } = await c.mandate('4000000000000259');
    const first = await submit(token);
    expect(first.body.data.responseCode).toBe('91');
    expect(first.status).toBe(200);
    const second = await submit(token);
    expect(second.body.data.responseCode).toBe('00');
    expect((await c.ledger(first.body.data.traceId)).map((r) => r.status)).toEqual(['unavailable']);
  });

  it('card …0119: charged and notified, the answer is lost; the repeat answers the original', async () => {
    const { token } = await c.mandate('4000000000000119');
    const hook = c.receiver.fresh();
    const body = { traceId: newTrace(), paymentToken: token, amount: 20000, notifications: { notificationUrl: hook.url } };
    await expect(c.submit(body)).rejects.toThrow();
    const [notice] = await c.receiver.waitFor(hook.path, 1);
    expect(notice!.body).toMatchObject({ responseCode: '00', amount: 20000 });
    const repeat = await c.submit(body);
    expect(repeat.body.data).toMatchObject({ responseCode: '00', transactionId: notice!.body.transactionId, paymentToken: token });
    expect((await c.ledger(body.traceId)).map((r) => r.status)).toEqual(['approved']);
  });
});

describe('what the mandate refuses', () => {
  it('56 for an unknown token, D2 for a token that is not 19 digits or a number', async () => {
    expect((await submit('1234567890123456789')).body).toMatchObject({ succeeded: false, data: { responseCode: '56' } });
    expect((await submit('1234')).body.data.responseCode).toBe('D2');
    expect((await c.submit({ traceId: newTrace(), paymentToken: 1234567890123456789, amount: 100 })).body.data.responseMessage).toMatch(/paymentToken must be a string of 19 digits/);
  });

  it('D2 for an amount above the mandate’s (fixed categories), 56 for another customer', async () => {
    const { token } = await c.mandate();
    const over = await submit(token, { amount: 20001 });
    expect(over.status).toBe(400);
    expect(over.body.data).toMatchObject({ responseCode: 'D2', responseMessage: expect.stringMatching(/exceeds the mandate's 20000 cents/) });
    expect((await submit(token, { customerId: 'someone-else' })).body.data.responseCode).toBe('56');
    expect(await c.ledger(over.body.data.traceId)).toEqual([]);
  });

  it('D2 once all instalments are paid', async () => {
    const { token } = await c.mandate('4242424242424242', { recurring: { category: 1, frequency: 6, regularPaymentDay: 1, numberOfInstallments: 1, amount: 1000 } });
    expect((await submit(token, { amount: 1000 })).body.data.responseCode).toBe('00');
    expect((await submit(token, { amount: 1000 })).body.data.responseMessage).toMatch(/all 1 instalments have been paid/);
  });

  it('54 once the card has expired by the sandbox clock', async () => {
    const { token } = await c.mandate('4242424242424242', { recurring: { category: 11, frequency: 1, amount: 5000 } });
    await setExpiry(token, 1, 2020);
    const res = await submit(token, { amount: 100 });
    expect(res.status).toBe(400);
    expect(res.body.data.responseCode).toBe('54');
  });
});

describe('token actions', () => {
  it('Cancel: 00, then SubmitRecurring is refused (56) and charges nothing; cancelling again is 00', async () => {
    const { token } = await c.mandate();
    const cancel = await c.control('Cancel', { paymentToken: token, customerId: 'customer01', echoData: 'x' });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ succeeded: true, data: { responseCode: '00', echoData: 'x' } });
    const res = await submit(token);
    expect(res.body.data).toMatchObject({ responseCode: '56', responseMessage: expect.stringMatching(/cancelled/) });
    expect(await c.ledger(res.body.data.traceId)).toEqual([]);
    expect((await c.control('Cancel', { paymentToken: token })).body.data.responseCode).toBe('00');
    expect((await c.api('/v2/Token/Cancel', { tokenControlAction: 'Cancel', traceId: newTrace(), paymentToken: token })).body.data.responseCode).toBe('00');
  });

  it('Block refuses payments until Unblock; Remove forgets the token; unknown → 56; a mismatched action → D2', async () => {
    const { token } = await c.mandate();
    expect((await c.control('Block', { paymentToken: token })).body.data.responseCode).toBe('00');
    expect((await submit(token)).body.data.responseCode).toBe('56');
    expect((await c.control('Unblock', { paymentToken: token })).body.data.responseCode).toBe('00');
    expect((await submit(token)).body.data.responseCode).toBe('00');
    expect((await c.control('Remove', { paymentToken: token })).body.data.responseCode).toBe('00');
    expect((await c.control('Cancel', { paymentToken: token })).body.data.responseCode).toBe('56');
    expect((await c.control('Cancel', { paymentToken: '9999999999999999999' })).body.data.responseCode).toBe('56');
    expect((await c.api('/V2/Token/Cancel', { tokenControlAction: 'Block', traceId: newTrace(), paymentToken: token })).body.data.responseCode).toBe('D2');
    expect((await c.control('SetDefault', { paymentToken: token })).body.data.responseCode).toBe('D1');
  });
});

async function setOutcome(token: string, outcome: string) {
  const { eq } = await import('drizzle-orm');
  const { sandboxTokens } = await import('../kit/schema.ts');
  await c.h.ctx.database.db.update(sandboxTokens).set({ outcome }).where(eq(sandboxTokens.token, token));
}
async function setExpiry(token: string, month: number, year: number) {
  const { eq } = await import('drizzle-orm');
  const { sandboxTokens } = await import('../kit/schema.ts');
  await c.h.ctx.database.db.update(sandboxTokens).set({ expiryMonth: month, expiryYear: year }).where(eq(sandboxTokens.token, token));
}
