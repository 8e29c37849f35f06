import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackData, newTrace, seedRequest, startSandbox, testCard, type Client } from './test-client.ts';

/** A traceId sent again (README.md "Repeats"): the original's result, D3, D4, or 26 with `repeat_answer: duplicate`; never a second charge. */

let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterEach(() => c.resetBehaviour());
afterAll(() => c.close());

describe('SubmitRecurring', () => {
  it('a repeat answers the original (same transactionId), charging nothing more', async () => {
    const { token } = await c.mandate();
    const body = { traceId: newTrace(), paymentToken: token, amount: 15000, echoData: 'first' };
    const first = await c.submit(body);
    const again = await c.submit({ ...body, echoData: 'second' });
    expect(again.status).toBe(first.status);
    expect(again.body.data).toMatchObject({ responseCode: '00', transactionId: first.body.data.transactionId, sessionId: first.body.data.sessionId, paymentToken: token, echoData: 'second' });
    expect((await c.ledger(body.traceId)).length).toBe(1);
  });

  it('a refused original (56) is answered refused again', async () => {
    const body = { traceId: newTrace(), paymentToken: '1111111111111111111', amount: 100 };
    expect((await c.submit(body)).body.data.responseCode).toBe('56');
    expect((await c.submit(body)).body.data.responseCode).toBe('56');
  });

  it('D3 when the amount, the token or the endpoint differs', async () => {
    const { token, traceId: initiationTrace } = await c.mandate();
    const body = { traceId: newTrace(), paymentToken: token, amount: 15000 };
    await c.submit(body);
    expect((await c.submit({ ...body, amount: 15001 })).body.data).toMatchObject({ responseCode: 'D3', transactionId: null });
    const other = await c.mandate();
    expect((await c.submit({ ...body, paymentToken: other.token })).body.data.responseCode).toBe('D3');
    const asInitiation = await c.initiate(seedRequest(c.now(), { traceId: body.traceId, amount: 15000 }));
    expect(asInitiation.status).toBe(400);
    expect(asInitiation.body.data).toMatchObject({ responseCode: 'D3', responseMessage: expect.stringMatching(/traceId was used for SubmitRecurring/) });
    expect((await c.submit({ traceId: initiationTrace, paymentToken: token, amount: 50000 })).body.data.responseCode).toBe('D3');
    expect((await c.ledger(body.traceId)).length).toBe(1);
  });

  it('26 for every repeat with repeat_answer: duplicate', async () => {
    const { token } = await c.mandate();
    expect((await c.behave({ repeat_answer: 'duplicate' })).status).toBe(200);
    const body = { traceId: newTrace(), paymentToken: token, amount: 15000 };
    expect((await c.submit(body)).body.data.responseCode).toBe('00');
    const dup = await c.submit(body);
    expect(dup.status).toBe(400);
    expect(dup.body).toMatchObject({ succeeded: false, data: { responseCode: '26', responseMessage: 'Duplicate transaction' } });
    expect((await c.submit({ ...body, amount: 1 })).body.data.responseCode).toBe('26');
    expect((await c.ledger(body.traceId)).length).toBe(1);
  });

  it('20 concurrent requests with one traceId: one charge; the others answer the original or D4', async () => {
    const { token } = await c.mandate();
    const hook = c.receiver.fresh();
    const body = { traceId: newTrace(), paymentToken: token, amount: 12345, notifications: { notificationUrl: hook.url } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.submit(body)));
    const codes = answers.map((a) => a.body.data.responseCode);
    expect(codes.every((code) => code === '00' || code === 'D4')).toBe(true);
    expect(codes.filter((code) => code === '00').length).toBeGreaterThanOrEqual(1);
    const ids = new Set(answers.filter((a) => a.body.data.responseCode === '00').map((a) => a.body.data.transactionId));
    expect(ids.size).toBe(1);
    const ledger = await c.ledger(body.traceId);
    expect(ledger.filter((r) => r.status === 'approved').length).toBe(1);
    await c.receiver.waitFor(hook.path, 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.receiver.at(hook.path).length).toBe(1);
  });
});

describe('Recurring', () => {
  it('D4 with the initiationUrl while the page is open; D3 for another amount; the result once paid', async () => {
    const req = seedRequest(c.now());
    const first = (await c.initiate(req)).body.data;
    const open = await c.initiate(req);
    expect(open.status).toBe(400);
    expect(open.body.data).toMatchObject({ responseCode: 'D4', transactionId: first.transactionId, sessionId: first.sessionId, initiationUrl: first.initiationUrl });
    expect((await c.initiate({ ...req, amount: 100 })).body.data.responseCode).toBe('D3');
    const { res } = await c.pay(first.initiationUrl, testCard('4000000000000002'));
    expect(callbackData(res.headers.get('location')).responseCode).toBe('05');
    const done = await c.initiate(req);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ succeeded: false, data: { responseCode: '05', transactionId: first.transactionId } });
    expect(done.body.data.paymentToken).toBeUndefined();
  });

  it('20 concurrent initiations with one traceId make one session', async () => {
    const req = seedRequest(c.now());
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.initiate(req)));
    const codes = answers.map((a) => a.body.data.responseCode).sort();
    expect(codes.filter((x) => x === '00').length).toBe(1);
    expect(codes.filter((x) => x === 'D4').length).toBe(19);
    expect(new Set(answers.map((a) => a.body.data.sessionId)).size).toBe(1);
  });

  it('two concurrent Pay submits of one page charge once', async () => {
    const req = seedRequest(c.now());
    const { initiationUrl } = (await c.initiate(req)).body.data;
    const action = new URL(initiationUrl).pathname + new URL(initiationUrl).search;
    const results = await Promise.all(Array.from({ length: 5 }, () => c.call('POST', action, testCard('4242424242424242'), { 'content-type': 'application/x-www-form-urlencoded' })));
    expect(results.filter((r) => r.status === 303).length).toBe(1);
    expect((await c.ledger(req.traceId)).filter((r) => r.status === 'approved').length).toBe(1);
  });
});

describe('behaviour', () => {
  it('notifications: drop stores the notice and never sends it', async () => {
    await c.behave({ notifications: 'drop' });
    const { token } = await c.mandate();
    const hook = c.receiver.fresh();
    expect((await c.submit({ traceId: newTrace(), paymentToken: token, amount: 100, notifications: { notificationUrl: hook.url } })).body.data.responseCode).toBe('00');
    await new Promise((r) => setTimeout(r, 300));
    expect(c.receiver.at(hook.path)).toEqual([]);
  });

  it('refuses unknown settings and bad values', async () => {
    expect((await c.behave({ repeat_answer: 'sometimes' })).status).toBe(400);
    expect((await c.behave({ colour: 'red' })).status).toBe(400);
    expect((await c.behave({ notification_delay_ms: -1 })).status).toBe(400);
  });
});
