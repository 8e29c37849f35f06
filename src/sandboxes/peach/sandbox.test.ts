import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import type { CardOutcome } from '../kit/cards.ts';
import { sandboxTokens } from '../kit/schema.ts';
import { PEACH_SANDBOX_CREDENTIALS as MERCHANT } from '../../providers/peach/credentials.ts';
import { signatureMatches, withSignature } from '../../providers/peach/signature.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const BEARER = { authorization: `Bearer ${MERCHANT.access_token}` };
const newRef = () => randomBytes(8).toString('hex');
const hex32 = () => randomBytes(16).toString('hex');

function initiateFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'authentication.entityId': MERCHANT.entity_id,
    merchantTransactionId: newRef(),
    amount: '379.00',
    paymentType: 'DB',
    currency: 'ZAR',
    nonce: hex32(),
    shopperResultUrl: 'https://pos.example/peach-redirect/c?url=https://app.example/ext-pay/1',
    cancelUrl: 'https://pos.example/peach-redirect/c?url=https://app.example/ext-pay/0',
    defaultPaymentMethod: 'CARD',
    ...overrides,
  };
}

const inject = (method: 'GET' | 'POST', url: string, options: { headers?: Record<string, string>; payload?: string | object } = {}) =>
  h.app.inject({ method, url, ...options });

async function initiate(overrides: Record<string, string> = {}) {
  const res = await inject('POST', '/sandbox/peach/checkout/initiate', { payload: withSignature(initiateFields(overrides), MERCHANT.secret_token) });
  expect(res.statusCode).toBe(200);
  return res.json() as { checkoutId: string; redirectUrl: string };
}

const submitCard = (checkoutId: string, card: string, extra: Record<string, string> = {}) =>
  inject('POST', `/sandbox/peach/checkout/${checkoutId}`, {
    headers: FORM,
    payload: new URLSearchParams({ card_number: card, expiry: '12/34', cvv: '123', holder: 'T Nkosi', ...extra }).toString(),
  });

const status = (checkoutId: string, secret: string = MERCHANT.secret_token) =>
  inject('GET', `/sandbox/peach/status?${new URLSearchParams(withSignature({ 'authentication.entityId': MERCHANT.entity_id, checkoutId }, secret))}`);

const ledger = async (ref: string) => (await inject('GET', `/sandbox/peach/transactions?merchant_reference=${ref}`)).json().items as { status: string; kind: string; result_code: string }[];

const chargeForm = (ref: string, overrides: Record<string, string> = {}) =>
  new URLSearchParams({ entityId: MERCHANT.entity_id, amount: '299.00', currency: 'ZAR', paymentType: 'DB', merchantTransactionId: ref, 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'MIT', ...overrides }).toString();

async function registration(outcome: CardOutcome): Promise<string> {
  const token = hex32();
  await h.ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PeachPayments', outcome, cardBin: '424242', cardLast4: '4242', expiryMonth: 12, expiryYear: 2034, holder: 'T Nkosi' });
  return token;
}

describe('Peach sandbox: checkout initiate', () => {
  it('creates a checkout from JSON or a form, with an absolute redirect URL', async () => {
    const created = await initiate({ createRegistration: 'true' });
    expect(created).toMatchObject({ result: { code: '000.200.100' }, redirectUrl: `${h.ctx.config.publicUrl}/sandbox/peach/checkout/${created.checkoutId}` });
    expect(created.checkoutId).toMatch(/^[0-9a-f]{32}$/);
    const form = await inject('POST', '/sandbox/peach/checkout/initiate', { headers: FORM, payload: new URLSearchParams(withSignature(initiateFields(), MERCHANT.secret_token)).toString() });
    expect(form.statusCode).toBe(200);
    const page = await inject('GET', `/sandbox/peach/checkout/${created.checkoutId}`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toMatch(/name="save_card" value="1" checked/);
    expect(page.body).toContain(`/sandbox/peach/checkout/${created.checkoutId}/cancel`);
  });

  it('names every invalid or missing field', async () => {
    const bad = withSignature(
      initiateFields({ 'authentication.entityId': 'XYZ', merchantTransactionId: 'short', amount: '1.234', paymentType: 'RG', currency: 'USD', nonce: 'n'.repeat(65), shopperResultUrl: 'javascript:alert(1)', createRegistration: 'yes' }),
      MERCHANT.secret_token,
    );
    const res = await inject('POST', '/sandbox/peach/checkout/initiate', { payload: bad });
    expect(res.statusCode).toBe(400);
    expect(res.json().result.code).toBe('200.300.404');
    expect(res.json().result.parameterErrors.map((e: { name: string }) => e.name)).toEqual([
      'authentication.entityId',
      'merchantTransactionId',
      'amount',
      'paymentType',
      'currency',
      'nonce',
      'shopperResultUrl',
      'createRegistration',
    ]);
    const missing = await inject('POST', '/sandbox/peach/checkout/initiate', { payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().result.parameterErrors).toHaveLength(8);
    expect((await inject('POST', '/sandbox/peach/checkout/initiate', { payload: { ...withSignature(initiateFields(), MERCHANT.secret_token), amount: 379 } })).statusCode).toBe(400);
    expect((await inject('POST', '/sandbox/peach/checkout/initiate', { payload: withSignature(initiateFields({ amount: '0.00' }), MERCHANT.secret_token) })).statusCode).toBe(400);
  });

  it('refuses a wrong signature or an unknown entity with 401', async () => {
    const fields = withSignature(initiateFields(), MERCHANT.secret_token);
    const tampered = await inject('POST', '/sandbox/peach/checkout/initiate', { payload: { ...fields, amount: '1.00' } });
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json().result).toEqual({ code: '800.900.300', description: 'invalid authentication information' });
    const stranger = withSignature(initiateFields({ 'authentication.entityId': 'f'.repeat(32) }), MERCHANT.secret_token);
    expect((await inject('POST', '/sandbox/peach/checkout/initiate', { payload: stranger })).statusCode).toBe(401);
  });
});

describe('Peach sandbox: paying a checkout', () => {
  it('re-renders the page for a bad card, then approves and posts the signed result to shopperResultUrl', async () => {
    const { checkoutId } = await initiate();
    const bad = await submitCard(checkoutId, '4242 4242 4242 4241');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Enter a valid card number.');
    const paid = await submitCard(checkoutId, '5200000000000007');
    expect(paid.statusCode).toBe(200);
    expect(paid.body).toContain('action="https://pos.example/peach-redirect/c?url=https://app.example/ext-pay/1"');
    expect(paid.body).toContain('name="paymentBrand" value="MASTER"');
    expect((await submitCard(checkoutId, '4242424242424242')).statusCode).toBe(409);
    expect((await inject('GET', `/sandbox/peach/checkout/${checkoutId}`)).body).toContain('Already completed');
    const answer = await status(checkoutId);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ checkoutId, 'result.code': '000.100.110', 'card.last4Digits': '0007', amount: '379.00' });
    expect(signatureMatches(answer.json(), MERCHANT.secret_token)).toBe(true);
  });

  it('answers 503 to the first submit of card …0259 and approves the next, charging once', async () => {
    const { checkoutId } = await initiate({ merchantTransactionId: 'unavail-0259-01' });
    const first = await submitCard(checkoutId, '4000000000000259');
    expect(first.statusCode).toBe(503);
    expect(first.body).toContain('try again');
    expect((await status(checkoutId)).json()['result.code']).toBe('000.200.000');
    expect((await submitCard(checkoutId, '4000000000000259')).statusCode).toBe(200);
    expect((await ledger('unavail-0259-01')).map((r) => r.status)).toEqual(['unavailable', 'approved']);
  });

  it('charges card …0119 but never returns the shopper; only the status tells', async () => {
    const { checkoutId } = await initiate({ merchantTransactionId: 'lost-0119-0001' });
    const lost = await submitCard(checkoutId, '4000000000000119');
    expect(lost.body).toContain('Connection lost');
    expect(lost.body).not.toContain('<form method="post" action="https://pos.example');
    expect((await ledger('lost-0119-0001')).map((r) => r.status)).toEqual(['approved']);
    expect((await status(checkoutId)).json()['result.code']).toBe('000.100.110');
  });

  it('records insufficient funds as a declined attempt that completes the checkout', async () => {
    const { checkoutId } = await initiate({ merchantTransactionId: 'poor-9995-00001' });
    const res = await submitCard(checkoutId, '4000000000009995');
    expect(res.body).toContain('name="result.code" value="800.100.155"');
    expect((await ledger('poor-9995-00001')).map((r) => r.result_code)).toEqual(['800.100.155']);
    expect((await status(checkoutId)).json()['result.code']).toBe('800.100.155');
  });

  it('cancels a checkout: the shopper goes to cancelUrl and the status says cancelled', async () => {
    const { checkoutId } = await initiate();
    const res = await inject('GET', `/sandbox/peach/checkout/${checkoutId}/cancel`);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('https://pos.example/peach-redirect/c?url=https://app.example/ext-pay/0');
    expect((await status(checkoutId)).json()).toMatchObject({ 'result.code': '100.396.101', 'result.description': 'Cancelled by user' });
    expect((await inject('GET', `/sandbox/peach/checkout/${checkoutId}`)).statusCode).toBe(410);
  });

  it('answers unknown checkouts with 404 pages and refuses bad status requests', async () => {
    expect((await inject('GET', `/sandbox/peach/checkout/${hex32()}`)).statusCode).toBe(404);
    expect((await inject('GET', '/sandbox/peach/checkout/..%2F..%2Fetc')).statusCode).toBe(404);
    expect((await submitCard(hex32(), '4242424242424242')).statusCode).toBe(404);
    const unknown = await status(hex32());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().result.code).toBe('200.300.404');
    const { checkoutId } = await initiate();
    expect((await status(checkoutId, 'wrong-secret')).statusCode).toBe(401);
    expect((await inject('GET', `/sandbox/peach/status?checkoutId=${checkoutId}`)).statusCode).toBe(400);
    expect((await inject('GET', `/sandbox/peach/status?checkoutId=${checkoutId}&checkoutId=x&authentication.entityId=${MERCHANT.entity_id}&signature=00`)).statusCode).toBe(400);
  });
});

describe('Peach sandbox: the Payments API', () => {
  it('charges a registration once per merchantTransactionId, even when asked concurrently', async () => {
    const token = await registration('approve');
    const ref = newRef();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => inject('POST', `/sandbox/peach/v1/registrations/${token}/payments`, { headers: { ...FORM, ...BEARER }, payload: chargeForm(ref) })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    expect(answers[0]!.json()).toMatchObject({ amount: '299.00', currency: 'ZAR', merchantTransactionId: ref, result: { code: '000.100.110' }, card: { last4Digits: '4242' } });
    expect((await ledger(ref)).filter((r) => r.status === 'approved')).toHaveLength(1);
    const query = await inject('GET', `/sandbox/peach/v1/query?entityId=${MERCHANT.entity_id}&merchantTransactionId=${ref}`, { headers: BEARER });
    expect(query.json()).toMatchObject({ result: { code: '000.000.100' }, payments: [{ id: answers[0]!.json().id }] });
  });

  it('declines with 400 and the bank result', async () => {
    const res = await inject('POST', `/sandbox/peach/v1/registrations/${await registration('decline')}/payments`, { headers: { ...FORM, ...BEARER }, payload: chargeForm(newRef()) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ result: { code: '800.100.100' }, resultDetails: { ExtendedDescription: 'DO NOT HONOUR' } });
  });

  it('refuses a missing or wrong access token, bad fields and unknown registrations', async () => {
    const token = await registration('approve');
    const url = `/sandbox/peach/v1/registrations/${token}/payments`;
    const anonymous = await inject('POST', url, { headers: FORM, payload: chargeForm(newRef()) });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().result.code).toBe('800.900.300');
    expect((await inject('POST', url, { headers: { ...FORM, authorization: 'Bearer nope' }, payload: chargeForm(newRef()) })).statusCode).toBe(401);
    expect((await inject('POST', url, { headers: { ...FORM, ...BEARER }, payload: chargeForm(newRef(), { entityId: 'f'.repeat(32) }) })).statusCode).toBe(401);
    const invalid = await inject('POST', url, { headers: { ...FORM, ...BEARER }, payload: chargeForm('short', { amount: '10', currency: 'EUR', 'standingInstruction.mode': 'SOMETIMES' }) });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().result.parameterErrors.map((e: { name: string }) => e.name)).toEqual(['amount', 'currency', 'merchantTransactionId', 'standingInstruction.mode']);
    expect((await inject('POST', '/sandbox/peach/v1/registrations/not-a-token/payments', { headers: { ...FORM, ...BEARER }, payload: chargeForm(newRef()) })).json().result.code).toBe('100.150.101');
    expect((await inject('POST', `/sandbox/peach/v1/registrations/${hex32()}/payments`, { headers: { ...FORM, ...BEARER }, payload: chargeForm(newRef()) })).json().result.code).toBe('100.350.101');
    expect((await inject('GET', `/sandbox/peach/v1/query?entityId=${MERCHANT.entity_id}&merchantTransactionId=x`)).statusCode).toBe(401);
    expect((await inject('GET', `/sandbox/peach/v1/query?entityId=${MERCHANT.entity_id}`, { headers: BEARER })).statusCode).toBe(400);
    const none = await inject('GET', `/sandbox/peach/v1/query?entityId=${MERCHANT.entity_id}&merchantTransactionId=${newRef()}`, { headers: BEARER });
    expect(none.json()).toMatchObject({ result: { code: '700.400.580' }, payments: [] });
  });

  it('answers hostile input with 4xx, never 5xx', async () => {
    const { checkoutId } = await initiate();
    const token = await registration('approve');
    const bodies: { headers: Record<string, string>; payload: string }[] = [
      { headers: FORM, payload: '' },
      { headers: FORM, payload: '%%%' },
      { headers: FORM, payload: 'a=1&a=2&card_number[]=4242' },
      { headers: FORM, payload: 'amount=%00' },
      { headers: { 'content-type': 'application/json' }, payload: '{"amount": {"$gt": 1}}' },
      { headers: { 'content-type': 'application/json' }, payload: '[1,2]' },
      { headers: { 'content-type': 'application/json' }, payload: '{' },
      { headers: { 'content-type': 'text/plain' }, payload: 'hello' },
    ];
    const urls = ['/sandbox/peach/checkout/initiate', `/sandbox/peach/checkout/${checkoutId}`, `/sandbox/peach/v1/registrations/${token}/payments`];
    for (const url of urls) {
      for (const body of bodies) {
        const res = await inject('POST', url, { headers: { ...body.headers, ...BEARER }, payload: body.payload });
        expect(res.statusCode, `${url} ${body.payload}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${url} ${body.payload}`).toBeLessThan(500);
      }
    }
    for (const q of ['', '?checkoutId[]=1', '?authentication.entityId=x&checkoutId=y&signature=z', `?${'a'.repeat(3000)}=1`]) {
      const res = await inject('GET', `/sandbox/peach/status${q}`);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
  });
});
