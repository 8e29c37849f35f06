import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import type { CardOutcome } from '../kit/cards.ts';
import { sandboxTokens } from '../kit/schema.ts';
import { PEACH_SANDBOX_CREDENTIALS as MERCHANT } from '../../providers/peach/credentials.ts';
import { signatureMatches, withSignature } from '../../providers/peach/signature.ts';
import { authentic, headerSignature, parseCallbackBody } from '../../providers/peach/webhooks.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const BEARER = { authorization: `Bearer ${MERCHANT.access_token}` };
const CARD_API = '/sandbox/peach-card';
const newRef = () => randomBytes(8).toString('hex');
const hex32 = () => randomBytes(16).toString('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A merchant's webhook endpoint: every request as received, raw body included. */
interface Received {
  path: string;
  headers: Record<string, string>;
  rawBody: string;
}
let receiver: Server;
const received: Received[] = [];
let notificationUrl = '';

/** The main sandbox: a clock the tests move forward, and look-ups not throttled in practice. */
let h: Harness;
let offsetMs = 0;
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      received.push({ path: req.url ?? '', headers, rawBody: body });
      res.writeHead(200).end('OK');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  notificationUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks/peach/webhook?shop=7`;
  h = await createHarness({ config: testConfig({ PAYRAIL_SANDBOX_PEACH_LOOKUPS_PER_MINUTE: '1000' }), clock: () => new Date(Date.now() + offsetMs) });
});
afterAll(async () => {
  await h.close();
  await new Promise((resolve) => receiver.close(resolve));
});

/** The sandbox's routes on one harness, as a merchant calls them. */
function peach(harness: () => Harness) {
  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, options: { headers?: Record<string, string>; payload?: string | object } = {}) =>
    harness().app.inject({ method, url, ...options });
  return {
    inject,
    async initiate(overrides: Record<string, string> = {}) {
      const res = await inject('POST', '/sandbox/peach/checkout/initiate', { payload: withSignature(initiateFields(overrides), MERCHANT.secret_token) });
      expect(res.statusCode).toBe(200);
      return res.json() as { checkoutId: string; redirectUrl: string };
    },
    submitCard: (checkoutId: string, card: string, extra: Record<string, string> = {}) =>
      inject('POST', `/sandbox/peach/checkout/${checkoutId}`, {
        headers: FORM,
        payload: new URLSearchParams({ card_number: card, expiry: '12/34', cvv: '123', holder: 'T Nkosi', ...extra }).toString(),
      }),
    status: (checkoutId: string, secret: string = MERCHANT.secret_token) =>
      inject('GET', `/sandbox/peach/status?${new URLSearchParams(withSignature({ 'authentication.entityId': MERCHANT.entity_id, checkoutId }, secret))}`),
    ledger: async (ref: string) =>
      (await inject('GET', `/sandbox/peach/transactions?merchant_reference=${ref}`)).json().items as { id: string; status: string; kind: string; result_code: string; details: Record<string, unknown> }[],
    charge: (token: string, form: string) => inject('POST', `${CARD_API}/v1/registrations/${token}/payments`, { headers: { ...FORM, ...BEARER }, payload: form }),
    query: (ref: string) => inject('GET', `${CARD_API}/v1/query?entityId=${MERCHANT.entity_id}&merchantTransactionId=${ref}`, { headers: BEARER }),
    async registration(outcome: CardOutcome): Promise<string> {
      const token = hex32();
      await harness().ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PeachPayments', outcome, cardBin: '424242', cardLast4: '4242', expiryMonth: 12, expiryYear: 2034, holder: 'T Nkosi' });
      return token;
    },
  };
}
const p = peach(() => h);
const { inject, initiate, submitCard, status, ledger, charge, query } = p;

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

const chargeForm = (ref: string, overrides: Record<string, string | undefined> = {}) => {
  const fields: Record<string, string | undefined> = {
    entityId: MERCHANT.entity_id,
    amount: '299.00',
    currency: 'ZAR',
    paymentType: 'DB',
    merchantTransactionId: ref,
    'standingInstruction.mode': 'REPEATED',
    'standingInstruction.type': 'UNSCHEDULED',
    'standingInstruction.source': 'MIT',
    ...overrides,
  };
  return new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)).toString();
};

/** A checkout paid with a card the shopper chose to save: the payment's id and the registration it made. */
async function storedCard(card = '4242424242424242'): Promise<{ checkoutId: string; paymentId: string; registrationId: string }> {
  const { checkoutId } = await initiate({ createRegistration: 'true' });
  expect((await submitCard(checkoutId, card, { save_card: '1' })).statusCode).toBe(200);
  const fields = (await status(checkoutId)).json() as Record<string, string>;
  expect(fields.registrationId).toMatch(/^[0-9a-f]{32}$/);
  return { checkoutId, paymentId: fields.id!, registrationId: fields.registrationId! };
}

/** The webhooks received about a checkout, read the way payrail's connector reads them. */
function webhooksOf(checkoutId: string) {
  return received
    .map((r) => {
      const request = { channel: 'webhook' as const, method: 'POST', path: r.path, query: {}, headers: r.headers, rawBody: r.rawBody, remoteAddress: '127.0.0.1', url: notificationUrl };
      const parsed = parseCallbackBody(request);
      return { ...r, request, fields: parsed.ok ? parsed.fields : ({} as Record<string, string>) };
    })
    .filter((w) => w.fields.checkoutId === checkoutId);
}

async function waitForWebhooks(checkoutId: string, count: number) {
  for (let i = 0; i < 200 && webhooksOf(checkoutId).length < count; i++) await sleep(25);
  const found = webhooksOf(checkoutId);
  expect(found.length, `webhooks about ${checkoutId}`).toBeGreaterThanOrEqual(count);
  return found;
}

/** The header HMAC recomputed here, over the notificationUrl posted to and the exact body bytes. */
function expectHeaderHmac(w: Received) {
  expect(w.headers['x-webhook-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(w.headers['x-webhook-timestamp']).toMatch(/^[0-9]{13}$/);
  expect(w.headers['x-webhook-signature-algorithm']).toBe('HmacSHA256');
  const expected = createHmac('sha256', MERCHANT.secret_token)
    .update(`${w.headers['x-webhook-timestamp']}.${w.headers['x-webhook-id']}.${notificationUrl}.${w.rawBody}`, 'utf8')
    .digest('hex');
  expect(w.headers['x-webhook-signature']).toBe(expected);
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

  it('pays a checkout whose merchantTransactionId was already approved elsewhere: a second payment', async () => {
    const ref = newRef();
    const first = await initiate({ merchantTransactionId: ref });
    const second = await initiate({ merchantTransactionId: ref });
    expect((await submitCard(first.checkoutId, '4242424242424242')).statusCode).toBe(200);
    expect((await submitCard(second.checkoutId, '4242424242424242')).statusCode).toBe(200);
    const rows = await ledger(ref);
    expect(rows.map((r) => r.status)).toEqual(['approved', 'approved']);
    expect((await status(second.checkoutId)).json()).toMatchObject({ 'result.code': '000.100.110', id: rows[1]!.id });
    expect((await status(first.checkoutId)).json().id).toBe(rows[0]!.id);
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
    const { checkoutId } = await initiate({ merchantTransactionId: 'lost-0119-0001', notificationUrl });
    const lost = await submitCard(checkoutId, '4000000000000119');
    expect(lost.body).toContain('Connection lost');
    expect(lost.body).not.toContain('<form method="post" action="https://pos.example');
    expect((await ledger('lost-0119-0001')).map((r) => r.status)).toEqual(['approved']);
    expect((await status(checkoutId)).json()['result.code']).toBe('000.100.110');
    await sleep(100);
    expect(webhooksOf(checkoutId)).toEqual([]);
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

  it('answers a checkout left open past 30 minutes as cancelled', async () => {
    const { checkoutId } = await initiate();
    offsetMs += 30 * 60_000 + 1;
    expect((await status(checkoutId)).json()).toMatchObject({ 'result.code': '100.396.101' });
    expect((await inject('GET', `/sandbox/peach/checkout/${checkoutId}`)).statusCode).toBe(410);
    expect((await submitCard(checkoutId, '4242424242424242')).statusCode).toBe(410);
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

describe('Peach sandbox: card …0077, cancelled and then successful', () => {
  it('ends the checkout "Cancelled by user", then reports it successful once the time has come', async () => {
    const ref = newRef();
    const { checkoutId } = await initiate({ merchantTransactionId: ref, notificationUrl, createRegistration: 'true' });
    const page = await submitCard(checkoutId, '4000000000000077', { save_card: '1' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="https://pos.example/peach-redirect/c?url=https://app.example/ext-pay/1"');
    expect(page.body).toContain('name="result.code" value="100.396.101"');

    const [cancelled] = await waitForWebhooks(checkoutId, 1);
    expect(cancelled!.fields).toMatchObject({ 'result.code': '100.396.101', 'result.description': 'Cancelled by user', merchantTransactionId: ref });
    expect(authentic(cancelled!.request, cancelled!.fields, MERCHANT.secret_token)).toEqual({ ok: true });
    const before = (await status(checkoutId)).json();
    expect(before).toMatchObject({ 'result.code': '100.396.101', id: cancelled!.fields.id });
    expect(before.registrationId).toBeUndefined();
    expect((await ledger(ref)).map((r) => r.status)).toEqual(['pending']);
    expect((await query(ref)).json().payments.map((x: { result: { code: string } }) => x.result.code)).toEqual(['100.396.101']);

    offsetMs += h.ctx.config.sandboxes.peachLateSuccessMs;
    const after = await status(checkoutId);
    expect(after.json()).toMatchObject({ 'result.code': '000.100.110', id: cancelled!.fields.id, 'card.last4Digits': '0077' });
    expect(signatureMatches(after.json(), MERCHANT.secret_token)).toBe(true);
    expect((await ledger(ref)).map((r) => [r.status, r.result_code])).toEqual([['approved', '000.100.110']]);
    expect((await query(ref)).json().payments.map((x: { result: { code: string } }) => x.result.code)).toEqual(['000.100.110']);

    const webhooks = await waitForWebhooks(checkoutId, 2);
    const success = webhooks.find((w) => w.fields['result.code'] === '000.100.110')!;
    expect(success.fields).toMatchObject({ id: cancelled!.fields.id, merchantTransactionId: ref, amount: '379.00' });
    expect(new Date(success.fields.timestamp!).getTime()).toBeGreaterThan(new Date(cancelled!.fields.timestamp!).getTime());
    expectHeaderHmac(success);
    expect(authentic(success.request, success.fields, MERCHANT.secret_token)).toEqual({ ok: true });
    // The change is made once: reading it again sends nothing more.
    await status(checkoutId);
    await sleep(100);
    expect(webhooksOf(checkoutId)).toHaveLength(2);
  });
});

describe('Peach sandbox: the card host', () => {
  it('serves the payments API under /sandbox/peach-card only, and Checkout and the ledger on the base host only', async () => {
    const token = await p.registration('approve');
    const ref = newRef();
    const onBase = `/sandbox/peach/v1/registrations/${token}/payments`;
    expect((await inject('POST', onBase, { headers: BEARER, payload: Object.fromEntries(new URLSearchParams(chargeForm(ref))) })).statusCode).toBe(404);
    // payrail answers a form posted to a path it does not serve with 415 before its 404: refused either way.
    const formOnBase = await inject('POST', onBase, { headers: { ...FORM, ...BEARER }, payload: chargeForm(ref) });
    expect([404, 415]).toContain(formOnBase.statusCode);
    expect(await ledger(ref)).toEqual([]);
    expect((await inject('GET', `/sandbox/peach/v1/query?entityId=${MERCHANT.entity_id}&merchantTransactionId=${ref}`, { headers: BEARER })).statusCode).toBe(404);
    expect((await charge(token, chargeForm(ref))).statusCode).toBe(200);
    expect((await query(ref)).statusCode).toBe(200);
    expect((await ledger(ref)).map((r) => [r.kind, r.status])).toEqual([['token', 'approved']]);
    expect((await inject('GET', `${CARD_API}/transactions`)).statusCode).toBe(404);
    expect((await inject('POST', `${CARD_API}/checkout/initiate`, { payload: withSignature(initiateFields(), MERCHANT.secret_token) })).statusCode).toBe(404);
    expect((await inject('GET', `${CARD_API}/status`)).statusCode).toBe(404);
  });
});

describe('Peach sandbox: the Payments API', () => {
  it('charges a repeated merchantTransactionId again: Peach deduplicates nothing', async () => {
    const token = await p.registration('approve');
    const ref = newRef();
    const first = await charge(token, chargeForm(ref));
    const second = await charge(token, chargeForm(ref));
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(first.json()).toMatchObject({ amount: '299.00', currency: 'ZAR', merchantTransactionId: ref, result: { code: '000.100.110' }, card: { last4Digits: '4242' } });
    expect(second.json().id).not.toBe(first.json().id);
    expect((await ledger(ref)).map((r) => [r.id, r.status])).toEqual([
      [first.json().id, 'approved'],
      [second.json().id, 'approved'],
    ]);
    expect((await query(ref)).json()).toMatchObject({ result: { code: '000.000.100' }, payments: [{ id: first.json().id }, { id: second.json().id }] });
  });

  it('requires the standing instruction, names each missing part, and records it', async () => {
    const token = await p.registration('approve');
    const missing = await charge(token, chargeForm(newRef(), { 'standingInstruction.mode': undefined, 'standingInstruction.type': undefined, 'standingInstruction.source': undefined }));
    expect(missing.statusCode).toBe(400);
    expect(missing.json().result).toMatchObject({
      code: '200.300.404',
      parameterErrors: [
        { name: 'standingInstruction.mode', message: 'is required' },
        { name: 'standingInstruction.type', message: 'is required' },
        { name: 'standingInstruction.source', message: 'is required' },
      ],
    });
    const wrong = await charge(token, chargeForm(newRef(), { 'standingInstruction.type': 'WEEKLY', 'standingInstruction.source': 'MERCHANT' }));
    expect(wrong.json().result.parameterErrors.map((e: { name: string }) => e.name)).toEqual(['standingInstruction.type', 'standingInstruction.source']);
    const ref = newRef();
    const ok = await charge(token, chargeForm(ref, { 'standingInstruction.mode': 'INITIAL', 'standingInstruction.type': 'RECURRING', 'standingInstruction.source': 'CIT' }));
    expect(ok.statusCode).toBe(200);
    expect((await ledger(ref))[0]!.details.standingInstruction).toEqual({ mode: 'INITIAL', type: 'RECURRING', source: 'CIT' });
  });

  it('accepts as initialTransactionId only an approved payment that stored or charged this registration', async () => {
    const stored = await storedCard();
    const cite = (id: string) => chargeForm(newRef(), { 'standingInstruction.initialTransactionId': id });
    const byCheckout = await charge(stored.registrationId, cite(stored.paymentId));
    expect(byCheckout.statusCode).toBe(200);
    const ref = byCheckout.json().merchantTransactionId as string;
    expect((await ledger(ref))[0]!.details.standingInstruction).toEqual({ mode: 'REPEATED', type: 'UNSCHEDULED', source: 'MIT', initialTransactionId: stored.paymentId });
    expect((await charge(stored.registrationId, cite(byCheckout.json().id))).statusCode).toBe(200);

    const other = await storedCard('5200000000000007');
    const declined = await charge(await p.registration('decline'), chargeForm(newRef()));
    for (const id of [other.paymentId, hex32(), declined.json().id as string]) {
      const refused = await charge(stored.registrationId, cite(id));
      expect(refused.statusCode, id).toBe(400);
      expect(refused.json().result).toMatchObject({ code: '200.300.404', parameterErrors: [{ name: 'standingInstruction.initialTransactionId', value: id }] });
    }
    // A request of this registration that Peach refused (503) is no payment to cite.
    const flaky = await p.registration('unavailable_once');
    const refusedRef = newRef();
    expect((await charge(flaky, chargeForm(refusedRef))).statusCode).toBe(503);
    expect((await charge(flaky, cite((await ledger(refusedRef))[0]!.id))).statusCode).toBe(400);
    expect((await charge(flaky, chargeForm(newRef()))).statusCode).toBe(200);
    const malformed = await charge(stored.registrationId, cite('first-payment'));
    expect(malformed.json().result.parameterErrors.map((e: { name: string }) => e.name)).toEqual(['standingInstruction.initialTransactionId']);
  });

  it('answers 503 to the first charge of a …0259 registration only, whatever the merchantTransactionId', async () => {
    const token = await p.registration('unavailable_once');
    const [a, b] = [newRef(), newRef()];
    const first = await charge(token, chargeForm(a));
    expect(first.statusCode).toBe(503);
    expect(first.json().result.code).toBe('900.100.400');
    expect((await query(a)).json().payments).toEqual([]);
    expect((await charge(token, chargeForm(b))).statusCode).toBe(200);
    expect((await charge(token, chargeForm(newRef()))).statusCode).toBe(200);
    expect((await ledger(a)).map((r) => r.status)).toEqual(['unavailable']);
    expect((await ledger(b)).map((r) => r.status)).toEqual(['approved']);
    expect((await charge(await p.registration('unavailable_once'), chargeForm(b))).statusCode).toBe(503);
  });

  it('declines with 400 and the bank result', async () => {
    const res = await charge(await p.registration('decline'), chargeForm(newRef()));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ result: { code: '800.100.100' }, resultDetails: { ExtendedDescription: 'DO NOT HONOUR' } });
  });

  it('refuses a missing or wrong access token, bad fields and unknown registrations', async () => {
    const token = await p.registration('approve');
    const url = `${CARD_API}/v1/registrations/${token}/payments`;
    const anonymous = await inject('POST', url, { headers: FORM, payload: chargeForm(newRef()) });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().result.code).toBe('800.900.300');
    expect((await inject('POST', url, { headers: { ...FORM, authorization: 'Bearer nope' }, payload: chargeForm(newRef()) })).statusCode).toBe(401);
    expect((await charge(token, chargeForm(newRef(), { entityId: 'f'.repeat(32) }))).statusCode).toBe(401);
    const invalid = await charge(token, chargeForm('short', { amount: '10', currency: 'EUR', 'standingInstruction.mode': 'SOMETIMES' }));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().result.parameterErrors.map((e: { name: string }) => e.name)).toEqual(['amount', 'currency', 'merchantTransactionId', 'standingInstruction.mode']);
    expect((await charge('not-a-token', chargeForm(newRef()))).json().result.code).toBe('100.150.101');
    expect((await charge(hex32(), chargeForm(newRef()))).json().result.code).toBe('100.350.101');
    expect((await inject('GET', `${CARD_API}/v1/query?entityId=${MERCHANT.entity_id}&merchantTransactionId=x`)).statusCode).toBe(401);
    expect((await inject('GET', `${CARD_API}/v1/query?entityId=${MERCHANT.entity_id}`, { headers: BEARER })).statusCode).toBe(400);
    expect((await query(newRef())).json()).toMatchObject({ result: { code: '700.400.580' }, payments: [] });
  });

  it('answers hostile input with 4xx, never 5xx', async () => {
    const { checkoutId } = await initiate();
    const token = await p.registration('approve');
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
    const urls = ['/sandbox/peach/checkout/initiate', `/sandbox/peach/checkout/${checkoutId}`, `${CARD_API}/v1/registrations/${token}/payments`];
    for (const url of urls) {
      for (const body of bodies) {
        const res = await inject('POST', url, { headers: { ...body.headers, ...BEARER }, payload: body.payload });
        expect(res.statusCode, `${url} ${body.payload}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${url} ${body.payload}`).toBeLessThan(500);
      }
    }
    const siAbuse = await charge(token, `${chargeForm(newRef())}&standingInstruction.initialTransactionId=${encodeURIComponent("' or 1=1 --")}`);
    expect(siAbuse.statusCode).toBe(400);
    for (const q of ['', '?checkoutId[]=1', '?authentication.entityId=x&checkoutId=y&signature=z', `?${'a'.repeat(3000)}=1`]) {
      const res = await inject('GET', `/sandbox/peach/status${q}`);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
    for (const q of ['', '?merchantTransactionId[]=1', `?entityId=${MERCHANT.entity_id}&merchantTransactionId=${'x'.repeat(300)}`]) {
      const res = await inject('GET', `${CARD_API}/v1/query${q}`, { headers: BEARER });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
  });
});

describe('Peach sandbox: webhooks and their formats', () => {
  afterEach(async () => {
    await inject('DELETE', '/sandbox/peach/behaviour');
  });

  async function paidWithWebhook() {
    const { checkoutId } = await initiate({ notificationUrl });
    expect((await submitCard(checkoutId, '4000000000000002')).statusCode).toBe(200);
    const [webhook] = await waitForWebhooks(checkoutId, 1);
    return { checkoutId, webhook: webhook! };
  }

  it('"form" (the default): the signed fields with dotted names, and the header HMAC', async () => {
    const { checkoutId, webhook } = await paidWithWebhook();
    expect(webhook.path).toBe('/callbacks/peach/webhook?shop=7');
    expect(webhook.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const fields = Object.fromEntries(new URLSearchParams(webhook.rawBody));
    expect(fields).toMatchObject({ checkoutId, 'result.code': '800.100.100', 'resultDetails.ExtendedDescription': 'DO NOT HONOUR', 'card.last4Digits': '0002' });
    expect(signatureMatches(fields, MERCHANT.secret_token)).toBe(true);
    expectHeaderHmac(webhook);
    expect(headerSignature(webhook.request, MERCHANT.secret_token)).toBe('valid');
    expect(authentic(webhook.request, webhook.fields, MERCHANT.secret_token)).toEqual({ ok: true });
  });

  it('"form_underscore": every dot in a name written as an underscore, the signature still over the dotted names', async () => {
    expect((await inject('PUT', '/sandbox/peach/behaviour', { payload: { webhookFormat: 'form_underscore' } })).json()).toEqual({ webhookFormat: 'form_underscore' });
    const { checkoutId, webhook } = await paidWithWebhook();
    expect(webhook.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const names = [...new URLSearchParams(webhook.rawBody).keys()];
    expect(names).toEqual(expect.arrayContaining(['result_code', 'result_description', 'card_last4Digits', 'resultDetails_ExtendedDescription', 'checkoutId', 'signature']));
    expect(names.filter((n) => n.includes('.'))).toEqual([]);
    const underscored = Object.fromEntries(new URLSearchParams(webhook.rawBody));
    expect(signatureMatches(underscored, MERCHANT.secret_token)).toBe(false);
    expect(signatureMatches(webhook.fields, MERCHANT.secret_token)).toBe(true);
    expect(webhook.fields).toMatchObject({ checkoutId, 'result.code': '800.100.100' });
    expectHeaderHmac(webhook);
    expect(authentic(webhook.request, webhook.fields, MERCHANT.secret_token)).toEqual({ ok: true });
  });

  it('"json": a payload wrapper of the same flat fields, signature included', async () => {
    await inject('PUT', '/sandbox/peach/behaviour', { payload: { webhookFormat: 'json' } });
    const { checkoutId, webhook } = await paidWithWebhook();
    expect(webhook.headers['content-type']).toBe('application/json');
    const body = JSON.parse(webhook.rawBody) as { payload: Record<string, string> };
    expect(Object.keys(body)).toEqual(['payload']);
    expect(body.payload).toMatchObject({ checkoutId, 'result.code': '800.100.100', 'card.last4Digits': '0002' });
    expect(signatureMatches(body.payload, MERCHANT.secret_token)).toBe(true);
    expectHeaderHmac(webhook);
    expect(authentic(webhook.request, webhook.fields, MERCHANT.secret_token)).toEqual({ ok: true });
    // The header HMAC covers the exact bytes: a body re-serialised differently does not verify.
    expect(headerSignature({ ...webhook.request, rawBody: JSON.stringify(body, null, 1) }, MERCHANT.secret_token)).toBe('invalid');
  });

  it('validates the behaviour settings strictly: 400 with a message for an unknown field or value', async () => {
    expect((await inject('GET', '/sandbox/peach/behaviour')).json()).toEqual({ webhookFormat: 'form' });
    for (const payload of [{ webhookFormat: 'xml' }, { webhookFormat: 1 }, { webhookformat: 'json' }, { webhookFormat: 'json', lateMs: 5 }, [1]]) {
      const res = await inject('PUT', '/sandbox/peach/behaviour', { payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().message).toMatch(/webhookFormat|unknown setting|JSON object/);
    }
    const notJson = await inject('PUT', '/sandbox/peach/behaviour', { headers: { 'content-type': 'application/json' }, payload: '{' });
    expect(notJson.statusCode).toBe(400);
    expect((await inject('GET', '/sandbox/peach/behaviour')).json()).toEqual({ webhookFormat: 'form' });
    expect((await inject('PUT', '/sandbox/peach/behaviour', { payload: {} })).json()).toEqual({ webhookFormat: 'form' });
    expect((await inject('PUT', '/sandbox/peach/behaviour', { payload: { webhookFormat: 'json' } })).json()).toEqual({ webhookFormat: 'json' });
    expect((await inject('GET', '/sandbox/peach/behaviour')).json()).toEqual({ webhookFormat: 'json' });
    expect((await inject('DELETE', '/sandbox/peach/behaviour')).json()).toEqual({ webhookFormat: 'form' });
    expect((await inject('GET', '/sandbox/peach/behaviour')).json()).toEqual({ webhookFormat: 'form' });
  });
});

describe('Peach sandbox with Peach’s own timing', () => {
  /** Two look-ups a minute, and card …0077 turning successful as soon as its timer runs. */
  let slow: Harness;
  let slowOffsetMs = 0;
  const q = peach(() => slow);
  beforeAll(async () => {
    slow = await createHarness({
      config: testConfig({ PAYRAIL_SANDBOX_PEACH_LOOKUPS_PER_MINUTE: '2', PAYRAIL_SANDBOX_PEACH_LATE_SUCCESS_MS: '0' }),
      clock: () => new Date(Date.now() + slowOffsetMs),
    });
  });
  afterAll(() => slow.close());

  it('throttles /status and /v1/query to the allowance per rolling minute, each on its own', async () => {
    const { checkoutId } = await q.initiate();
    const ref = newRef();
    expect((await q.status(checkoutId)).statusCode).toBe(200);
    slowOffsetMs += 30_000;
    expect((await q.status(checkoutId)).statusCode).toBe(200);
    const refused = await q.status(checkoutId);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ result: { code: '800.120.100', description: 'Too many requests. Please try again later.' }, ndc: expect.any(String), timestamp: expect.any(String) });

    // /v1/query on the card host has its own count.
    expect((await q.query(ref)).statusCode).toBe(200);
    expect((await q.query(ref)).statusCode).toBe(200);
    expect((await q.query(ref)).statusCode).toBe(429);
    expect((await q.query(ref)).json().result.code).toBe('800.120.100');

    // Rolling: the first /status look-up leaves the window 60 s after it was made, the second 30 s later.
    slowOffsetMs += 30_001;
    expect((await q.status(checkoutId)).statusCode).toBe(200);
    expect((await q.status(checkoutId)).statusCode).toBe(429);
    slowOffsetMs += 30_000;
    expect((await q.status(checkoutId)).statusCode).toBe(200);
    // Requests refused for what they are (bad signature) are not the merchant's look-ups: not counted, not throttled.
    expect((await q.status(checkoutId, 'wrong-secret')).statusCode).toBe(401);
  });

  it('turns card …0077 successful by its timer, with a second webhook, without anyone asking', async () => {
    const ref = newRef();
    const { checkoutId } = await q.initiate({ merchantTransactionId: ref, notificationUrl });
    expect((await q.submitCard(checkoutId, '4000000000000077')).body).toContain('name="result.code" value="100.396.101"');
    const webhooks = await waitForWebhooks(checkoutId, 2);
    expect(webhooks.map((w) => w.fields['result.code']).sort()).toEqual(['000.100.110', '100.396.101']);
    for (const w of webhooks) {
      expectHeaderHmac(w);
      expect(authentic(w.request, w.fields, MERCHANT.secret_token)).toEqual({ ok: true });
    }
    expect((await q.ledger(ref)).map((r) => r.status)).toEqual(['approved']);
  });
});
