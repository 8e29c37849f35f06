import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESSING_MS } from './card-charges.ts';
import { callbackQuery, dsCard, P, startSandbox, testCard, type Client } from './test-client.ts';

/** Card charges over the REST API: a card stored on an account, charged later by the merchant. */

let c: Client;
let auth: Record<string, string>;
beforeAll(async () => {
  c = await startSandbox();
  // Storing a card sends the facility webhook: to a receiver that answers 200 (webhooks.test.ts).
  await c.behave({ webhookUrl: c.receiver.fresh().url });
  auth = await c.bearer();
});
afterAll(async () => {
  await c.receiver.close();
  await c.h.close();
});

const PATH = `${P}/payments/v1.0/account/creditcard`;
const charge = (body: Record<string, unknown>, headers = auth) => c.call('POST', PATH, body, headers);
const read = (id: string, headers = auth) => c.call('GET', `${PATH}/${encodeURIComponent(id)}`, undefined, headers);
const ref = () => `CC-${Math.random().toString(36).slice(2, 12)}`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const row = async (id: string) => (await c.ledger(id)).map((r) => ({ id: r.id, kind: r.kind, status: r.status, amount_cents: r.amount_cents, last4: r.card?.last4, result: r.result_description }));

describe('charging a stored card', () => {
  it('approves a stored approving card: 201 authorised, one approved ledger row, the same by GET', async () => {
    const { accountReferenceNo } = await c.card(testCard('4242424242424242'));
    const id = ref();
    const res = await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: '379.50', paymentNote: 'June' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ paymentId: expect.stringMatching(/^CC[0-9]{9}$/), externalPaymentIdentifier: id, accountId: accountReferenceNo, amount: 379.5, status: 'authorised', declineReason: null, cardLast4: '4242', createdDateTime: expect.stringMatching(ISO) });
    expect(await row(id)).toEqual([{ id: res.body.paymentId, kind: 'token', status: 'approved', amount_cents: 37950, last4: '4242', result: 'Authorised' }]);
    const again = await read(id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
  });

  it('charges a card saved by a real-time payment (save_card), and takes 0.01 and 2000.00', async () => {
    const t = await c.token({ Amount: 10 });
    await c.open(t.Token);
    const location = (await c.submit(t.Token, { ...dsCard('AUTHORISED'), save_card: '1' })).headers.get('location');
    const accountId = callbackQuery(location)[2]![1];
    for (const amount of [0.01, '2000.00']) {
      const res = await charge({ accountId, externalPaymentIdentifier: ref(), amount });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'authorised', cardLast4: '1111', amount: Number(amount) });
    }
  });

  it('declines …0002 (DO NOT HONOUR) and …9995 (INSUFFICIENT FUNDS) with 201, one declined row each', async () => {
    for (const [number, status, reason] of [
      ['4000000000000002', 'declined', 'DO NOT HONOUR'],
      ['4000000000009995', 'declined_insufficient_funds', 'INSUFFICIENT FUNDS'],
    ] as const) {
      const { accountReferenceNo } = await c.card(testCard(number));
      const id = ref();
      const res = await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 99 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status, declineReason: reason, amount: 99, cardLast4: number.slice(-4) });
      expect(await row(id)).toEqual([{ id: res.body.paymentId, kind: 'token', status: 'declined', amount_cents: 9900, last4: number.slice(-4), result: reason }]);
      expect((await read(id)).body).toEqual(res.body);
    }
  });

  it('a card stored before outcomes were kept with it approves', async () => {
    const { accountReferenceNo } = await c.card(testCard('4000000000000002'));
    await c.h.ctx.database.query(`UPDATE sandbox.debitsuccess_accounts SET pay_method_details = pay_method_details - 'cardResult' WHERE account_reference_no = $1`, [accountReferenceNo]);
    const res = await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: ref(), amount: 5 });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('authorised');
  });
});

describe('a reused externalPaymentIdentifier', () => {
  it('is 409 after an approval, on any account, and the ledger keeps one row', async () => {
    const { accountReferenceNo } = await c.card(testCard('4242424242424242'));
    const other = await c.card(testCard('4242424242424242'));
    const id = ref();
    expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 10 })).status).toBe(201);
    const again = await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 20 });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ errorCode: 'conflict', message: expect.any(String) });
    expect((await charge({ accountId: other.accountReferenceNo, externalPaymentIdentifier: id, amount: 10 })).status).toBe(409);
    expect((await row(id)).map((r) => [r.status, r.amount_cents])).toEqual([['approved', 1000]]);
  });

  it('is 409 after a decline too, even on an approving card, and when sent twice at once', async () => {
    const declining = await c.card(testCard('4000000000000002'));
    const approving = await c.card(testCard('4242424242424242'));
    const id = ref();
    expect((await charge({ accountId: declining.accountReferenceNo, externalPaymentIdentifier: id, amount: 10 })).body.status).toBe('declined');
    expect((await charge({ accountId: approving.accountReferenceNo, externalPaymentIdentifier: id, amount: 10 })).status).toBe(409);
    expect((await row(id)).map((r) => r.status)).toEqual(['declined']);
    const twice = ref();
    const both = await Promise.all([1, 2].map(() => charge({ accountId: approving.accountReferenceNo, externalPaymentIdentifier: twice, amount: 10 })));
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await row(twice)).toHaveLength(1);
  });
});

describe('refusals', () => {
  it('answers 400 naming accountId for an account with no card stored, or inactive; nothing stored', async () => {
    const bank = await c.bankAccount('1234567890');
    const refused = await c.token({ RequestType: 'UpdatePaymentDetail', PayMethodType: 'CreditCard', Amount: undefined, CreateOneOffCharge: false, PaymentNote: undefined });
    await c.open(refused.Token);
    const q = callbackQuery((await c.submit(refused.Token, dsCard('REFUSED'))).headers.get('location'));
    expect(q[0]).toEqual(['Status', 'Failure']);
    for (const accountId of [bank.accountReferenceNo, q[2]![1], 'TST0000010']) {
      const id = ref();
      const res = await charge({ accountId, externalPaymentIdentifier: id, amount: 10 });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ errorCode: 'validation', errors: [{ field: 'accountId', message: expect.any(String) }] });
      expect(await c.ledger(id)).toHaveLength(0);
    }
  });

  it('answers 400 with every bad field: amount 0, 2000.01, "abc", 3 decimals; identifier missing or over 50; a long note', async () => {
    const { accountReferenceNo } = await c.card(testCard('4242424242424242'));
    for (const amount of [0, 2000.01, '2000.01', 'abc', -5, 1.005, null]) {
      const id = ref();
      const res = await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount });
      expect(res.status, String(amount)).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'amount', message: expect.any(String) }]);
      expect(await c.ledger(id)).toHaveLength(0);
    }
    const missing = await charge({ accountId: accountReferenceNo, amount: 10 });
    expect(missing.body).toMatchObject({ errorCode: 'validation', message: expect.any(String), errors: [{ field: 'externalPaymentIdentifier' }] });
    expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: 'x'.repeat(51), amount: 10 })).body.errors[0].field).toBe('externalPaymentIdentifier');
    for (const paymentNote of ['n'.repeat(31), 5]) expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: ref(), amount: 10, paymentNote })).body.errors[0].field).toBe('paymentNote');
    expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: 42, amount: 10 })).body.errors[0].field).toBe('externalPaymentIdentifier');
    const all = await charge({ paymentNote: 'n'.repeat(31), amount: 'abc' });
    expect(all.status).toBe(400);
    expect(all.body.errors.map((e: any) => e.field).sort()).toEqual(['accountId', 'amount', 'externalPaymentIdentifier', 'paymentNote']);
    expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: 'x'.repeat(50), amount: '10', paymentNote: 'n'.repeat(30) })).status).toBe(201);
  });

  it('answers 404 for an unknown account, and for GET of an unknown identifier', async () => {
    const res = await charge({ accountId: 'TST9999999', externalPaymentIdentifier: ref(), amount: 10 });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errorCode: 'not_found', message: expect.any(String) });
    const none = await read(ref());
    expect(none.status).toBe(404);
    expect(none.body).toEqual({ errorCode: 'not_found', message: expect.any(String) });
  });

  it('answers 401 without a valid bearer token', async () => {
    const { accountReferenceNo } = await c.card(testCard('4242424242424242'));
    const id = ref();
    for (const headers of [{}, { authorization: `${auth.authorization}x` }, { authorization: 'Basic abc' }] as Record<string, string>[]) {
      const res = await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 10 }, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errorCode: 'unauthorized', message: expect.any(String) });
      expect((await read(id, headers)).status).toBe(401);
    }
    expect(await c.ledger(id)).toHaveLength(0);
  });
});

describe('the gateway-failure card (…0259)', () => {
  it('answers 202 processing, then declined GATEWAY ERROR once 30 s have passed, the ledger row following', async () => {
    const { accountReferenceNo } = await c.card(testCard('4000000000000259'));
    const id = ref();
    const res = await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 150 });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'processing', declineReason: null, cardLast4: '0259', amount: 150 });
    expect(await row(id)).toEqual([{ id: res.body.paymentId, kind: 'token', status: 'pending', amount_cents: 15000, last4: '0259', result: 'Processing' }]);
    expect((await read(id)).body).toEqual(res.body);
    expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 150 })).status).toBe(409);

    c.advance(PROCESSING_MS);
    const later = await read(id);
    expect(later.status).toBe(200);
    expect(later.body).toEqual({ ...res.body, status: 'declined', declineReason: 'GATEWAY ERROR' });
    expect(await row(id)).toEqual([{ id: res.body.paymentId, kind: 'token', status: 'declined', amount_cents: 15000, last4: '0259', result: 'GATEWAY ERROR' }]);
    expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 150 })).status).toBe(409);
  });

  it('the ledger alone shows it declined once 30 s have passed', async () => {
    const { accountReferenceNo } = await c.card(testCard('4000000000000259'));
    const id = ref();
    expect((await charge({ accountId: accountReferenceNo, externalPaymentIdentifier: id, amount: 1 })).status).toBe(202);
    c.advance(PROCESSING_MS - 5_000);
    expect((await row(id))[0]!.status).toBe('pending');
    expect((await read(id)).body.status).toBe('processing');
    c.advance(5_000);
    expect((await c.ledger(id)).map((r) => [r.status, r.result_code, r.result_description, r.details.status, r.details.declineReason])).toEqual([['declined', 'declined', 'GATEWAY ERROR', 'declined', 'GATEWAY ERROR']]);
  });
});

it('keeps no whole card number in any sandbox table', async () => {
  const dump = (await c.h.ctx.database.query(
    `SELECT string_agg(t, ' ') AS all FROM (SELECT row_to_json(x)::text AS t FROM sandbox.debitsuccess_accounts x UNION ALL SELECT row_to_json(x)::text FROM sandbox.sessions x UNION ALL SELECT row_to_json(x)::text FROM sandbox.transactions x UNION ALL SELECT row_to_json(x)::text FROM sandbox.notifications x) u`,
  )) as any[];
  const all = String(dump[0].all);
  expect(all).toContain('CC');
  for (const secret of ['4242424242424242', '4000000000000002', '4000000000009995', '4000000000000259', '4444333322221111']) expect(all).not.toContain(secret);
});
