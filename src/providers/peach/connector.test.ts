import { systemResolver } from '../../lib/host-resolver.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CardOutcome } from '../../../test/helpers/collections.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { sandboxTokens, sandboxTransactions } from '../../db/schema.ts';
import { ConnectorError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import type { CheckoutInput, ConnectorContext, InboundRequest, LookupInput, ProviderSettings } from '../contract.ts';
import { resolveSettings } from '../settings.ts';
import { peachConnector as peach } from './connector.ts';
import { PEACH_SANDBOX_CREDENTIALS } from './credentials.ts';
import { withSignature } from './signature.ts';

let h: Harness;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const logLines: string[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  h = await createHarness({ listen: true, clock });
});
afterAll(() => h.close());

const settings = (): ProviderSettings => resolveSettings(peach.settings, h.ctx.config.providers.peach, h.ctx.config);
const ctx = (overrides: Partial<ConnectorContext> = {}): ConnectorContext => ({
  fetch,
  clock,
  log,
  settings: settings(),
  timeoutMs: 5_000,
  resolveHost: systemResolver,
  ...overrides,
});
const lookupInput = (kind: 'hosted' | 'token', merchantReference: string, providerReference: string | null, cents: number): LookupInput => ({ kind, merchantReference, providerReference, amount: rand(cents), expiresAt: null, startedAt: new Date() });
const newRef = () => randomBytes(8).toString('hex');
const rand = (cents: number) => ({ amountCents: cents, currency: 'ZAR' as const });
const customer = { id: 'c-1', name: 'Thandi Nkosi', email: null, cellNumber: null };

function checkoutInput(merchantReference: string, overrides: Partial<CheckoutInput> = {}): CheckoutInput {
  return {
    merchantReference,
    amount: rand(37_900),
    description: 'Monthly Recurring 20/10',
    customer,
    returnUrl: `${h.baseUrl}/peach-redirect/collector?url=https://app.example/ext-pay/u/p/1`,
    cancelUrl: `${h.baseUrl}/peach-redirect/collector?url=https://app.example/ext-pay/u/p/0`,
    notificationUrl: `${h.baseUrl}/callbacks/peach`,
    tokenise: false,
    ...overrides,
  };
}

const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

/** Fills in the sandbox's card page like a browser and reads the auto-post page that follows. */
async function pay(redirectUrl: string, card: string, saveCard = false) {
  const page = await fetch(redirectUrl);
  expect(page.status).toBe(200);
  const form = new URLSearchParams({ card_number: card, expiry: '12/34', cvv: '123', holder: 'T Nkosi', ...(saveCard ? { save_card: '1' } : {}) });
  const res = await fetch(redirectUrl, { method: 'POST', body: form, redirect: 'manual' });
  const html = await res.text();
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [unescape(m[1]!), unescape(m[2]!)]));
  return { status: res.status, html, pageHtml: await page.text(), action: action && unescape(action), fields };
}

const inbound = (fields: Record<string, string>, channel: InboundRequest['channel'] = 'redirect', rawBody = new URLSearchParams(fields).toString()): InboundRequest => ({
  channel,
  method: 'POST',
  path: '/peach-redirect/collector',
  url: `${h.baseUrl}/peach-redirect/collector`,
  query: {},
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody,
  remoteAddress: '127.0.0.1',
});

async function ledger(merchantReference: string, status?: string) {
  const rows = await h.ctx.database.db
    .select()
    .from(sandboxTransactions)
    .where(and(eq(sandboxTransactions.provider, 'PeachPayments'), eq(sandboxTransactions.merchantReference, merchantReference)));
  return status ? rows.filter((r) => r.status === status) : rows;
}

async function registration(outcome: CardOutcome): Promise<string> {
  const token = randomBytes(16).toString('hex');
  await h.ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PeachPayments', outcome, cardBin: '400000', cardLast4: '0002', expiryMonth: 12, expiryYear: 2034, holder: 'T Nkosi' });
  return token;
}

const charge = (token: string, merchantReference: string, c = ctx(), agreementReference: string | null = null) =>
  peach.chargeToken!({ merchantReference, amount: rand(29_900), token, agreementReference, description: 'Auto-recharge', customer }, c);

describe('Peach connector: hosted checkout against the sandbox', () => {
  it('pays a tokenising checkout with 4242, verifies the redirect POST and finds the new registration', async () => {
    const ref = newRef();
    const session = await peach.createCheckout!(checkoutInput(ref, { tokenise: true }), ctx());
    expect(session.redirectUrl).toBe(`${h.baseUrl}/sandbox/peach/checkout/${session.providerReference}`);
    expect(session.providerReference).toMatch(/^[0-9a-f]{32}$/);
    expect(session.expiresAt!.getTime() - clock().getTime()).toBeGreaterThan(29 * 60_000);

    const paid = await pay(session.redirectUrl, '4242 4242 4242 4242', true);
    expect(paid.pageHtml).toMatch(/name="save_card" value="1" checked/);
    expect(paid.status).toBe(200);
    expect(paid.action).toBe(checkoutInput(ref).returnUrl);
    expect(paid.fields).toMatchObject({ amount: '379.00', checkoutId: session.providerReference, currency: 'ZAR', merchantTransactionId: ref, paymentBrand: 'VISA', 'result.code': '000.100.110', 'card.last4Digits': '4242' });
    expect(paid.fields.registrationId).toMatch(/^[0-9a-f]{32}$/);

    const verdict = await peach.verifyCallback!(inbound(paid.fields), ctx());
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.callback).toMatchObject({
      eventId: `${paid.fields.id}:000.100.110`,
      kind: 'payment',
      merchantReference: ref,
      providerReference: session.providerReference,
      result: { status: 'succeeded', amount: rand(37_900), token: { value: paid.fields.registrationId, accountNumber: '4242', mediumType: 'CreditCard' } },
    });
    expect(verdict.callback.occurredAt).toBeInstanceOf(Date);
    expect(JSON.stringify(verdict.callback.result.raw)).not.toContain(paid.fields.registrationId!);

    const tampered = await peach.verifyCallback!(inbound({ ...paid.fields, amount: '3.79' }), ctx());
    expect(tampered).toEqual({ ok: false, reason: 'the signature does not match' });
    expect((await peach.verifyCallback!(inbound({ ...paid.fields, signature: '' }), ctx())).ok).toBe(false);

    const looked = await peach.lookup!(lookupInput('hosted', ref, session.providerReference, 37_900), ctx());
    expect(looked).toMatchObject({
      status: 'succeeded',
      providerReference: session.providerReference,
      amount: rand(37_900),
      // The payment that stored the card is what later merchant-initiated charges cite.
      token: { value: paid.fields.registrationId, mediumType: 'CreditCard', accountName: 'T Nkosi', accountNumber: '4242', expiryMonth: 12, expiryYear: 2034, agreementReference: paid.fields.id },
    });
    expect(await ledger(ref, 'approved')).toHaveLength(1);

    // The registration is charged later on Peach's card host, as a merchant-initiated charge citing the first payment.
    const chargeRef = newRef();
    const first = await charge(paid.fields.registrationId!, chargeRef, ctx(), paid.fields.id!);
    expect(first).toMatchObject({ status: 'succeeded', amount: rand(29_900) });
    const [row] = await ledger(chargeRef, 'approved');
    expect(row!.details).toMatchObject({ standingInstruction: { mode: 'REPEATED', type: 'UNSCHEDULED', source: 'MIT', initialTransactionId: paid.fields.id } });
    // Peach publishes no idempotency on merchantTransactionId: the same request sent again is charged again,
    // which is why payrail never sends one twice.
    await charge(paid.fields.registrationId!, chargeRef, ctx(), paid.fields.id!);
    expect(await ledger(chargeRef, 'approved')).toHaveLength(2);
  });

  it('sends token charges and their look-ups to the card host, never to Checkout’s', async () => {
    const calls: string[] = [];
    const spy = (async (url: string | URL | Request, init?: RequestInit) => (calls.push(String(url)), fetch(url, init))) as typeof fetch;
    const ref = newRef();
    await charge(await registration('approve'), ref, ctx({ fetch: spy }));
    await peach.lookup!(lookupInput('token', ref, null, 29_900), ctx({ fetch: spy }));
    expect(calls.map((u) => new URL(u).pathname.replace(/[0-9a-f]{32}/, ':id'))).toEqual(['/sandbox/peach-card/v1/registrations/:id/payments', '/sandbox/peach-card/v1/query']);
    // On the Checkout host the card API does not exist, as at Peach.
    const wrongHost = ctx({ settings: { ...settings(), hosts: { ...settings().hosts, card: settings().hosts.base! } } });
    await expect(charge(await registration('approve'), newRef(), wrongHost)).rejects.toBeInstanceOf(ConnectorError);
  });

  it('sends the shopper to the success URL after a decline too, and the look-up says failed', async () => {
    const ref = newRef();
    const session = await peach.createCheckout!(checkoutInput(ref), ctx());
    const paid = await pay(session.redirectUrl, '4000000000000002');
    expect(paid.action).toBe(checkoutInput(ref).returnUrl);
    expect(paid.fields['result.code']).toBe('800.100.100');
    expect(paid.fields.registrationId).toBeUndefined();
    const verdict = await peach.verifyCallback!(inbound(paid.fields), ctx());
    expect(verdict.ok && verdict.callback.result.status).toBe('failed');
    const looked = await peach.lookup!(lookupInput('hosted', ref, session.providerReference, 37_900), ctx());
    expect(looked).toMatchObject({ status: 'failed', failure: { code: '800.100.100', kind: 'declined' } });
    expect(looked.token).toBeUndefined();
  });

  it('delivers the webhook to notificationUrl, where it verifies', async () => {
    const received: { contentType: string; body: string }[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ contentType: String(req.headers['content-type']), body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const ref = newRef();
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/peach`;
      const session = await peach.createCheckout!(checkoutInput(ref, { notificationUrl: url }), ctx());
      await pay(session.redirectUrl, '4242424242424242');
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(1);
      const [hook] = received;
      const verdict = await peach.verifyCallback!({ ...inbound({}, 'webhook', hook!.body), headers: { 'content-type': hook!.contentType } }, ctx());
      expect(verdict).toMatchObject({ ok: true, callback: { merchantReference: ref, providerReference: session.providerReference, result: { status: 'succeeded' } } });
    } finally {
      receiver.close();
    }
  });

  it('does not take "cancelled" for an expired checkout as final: Peach may still report it successful', async () => {
    const ref = newRef();
    const session = await peach.createCheckout!(checkoutInput(ref), ctx());
    const input = lookupInput('hosted', ref, session.providerReference, 37_900);
    expect((await peach.lookup!(input, ctx())).status).toBe('pending');
    offsetMs = 31 * 60_000;
    try {
      expect((await fetch(session.redirectUrl)).status).toBe(410);
      expect(await peach.lookup!(input, ctx())).toMatchObject({ status: 'pending', raw: { 'result.code': '100.396.101' } });
    } finally {
      offsetMs = 0;
    }
  });

  it('follows a checkout reported cancelled that turns successful later (card …0077)', async () => {
    const ref = newRef();
    const session = await peach.createCheckout!(checkoutInput(ref), ctx());
    const paid = await pay(session.redirectUrl, '4000000000000077');
    expect(paid.fields['result.code']).toBe('100.396.101');
    const verdict = await peach.verifyCallback!(inbound(paid.fields), ctx());
    expect(verdict).toMatchObject({ ok: true, callback: { result: { status: 'pending' } } });
    const input = lookupInput('hosted', ref, session.providerReference, 37_900);
    expect((await peach.lookup!(input, ctx())).status).toBe('pending');
    offsetMs = 10 * 60_000;
    try {
      expect(await peach.lookup!(input, ctx())).toMatchObject({ status: 'succeeded', amount: rand(37_900) });
    } finally {
      offsetMs = 0;
    }
  });
});

describe('Peach connector: charging registrations per test card', () => {
  it('maps declines and insufficient funds to failures', async () => {
    expect(await charge(await registration('decline'), newRef())).toMatchObject({ status: 'failed', failure: { code: '800.100.100', kind: 'declined' } });
    const poor = await charge(await registration('insufficient_funds'), newRef());
    expect(poor).toMatchObject({ status: 'failed', failure: { code: '800.100.155', kind: 'insufficient_funds', message: 'transaction declined (amount exceeds credit)' } });
  });

  it('leaves a lost answer unknown; the look-up finds the approval', async () => {
    const ref = newRef();
    expect(await charge(await registration('lost_response'), ref)).toMatchObject({ status: 'unknown', providerReference: null });
    expect(await ledger(ref, 'approved')).toHaveLength(1);
    const looked = await peach.lookup!(lookupInput('token', ref, null, 29_900), ctx());
    expect(looked).toMatchObject({ status: 'succeeded', amount: rand(29_900), providerReference: (await ledger(ref, 'approved'))[0]!.id });
  });

  it('is unavailable on a 503, sent once; the next attempt on the registration is charged', async () => {
    const token = await registration('unavailable_once');
    const ref = newRef();
    await expect(charge(token, ref)).rejects.toMatchObject({ kind: 'unavailable' });
    expect((await ledger(ref)).map((r) => r.status)).toEqual(['unavailable']);
    const next = newRef();
    expect(await charge(token, next)).toMatchObject({ status: 'succeeded' });
  });

  it('fails an unknown registration as an invalid card, and a look-up of nothing stays unknown', async () => {
    expect(await charge(randomBytes(16).toString('hex'), newRef())).toMatchObject({ status: 'failed', failure: { code: '100.350.101', kind: 'invalid' } });
    const looked = await peach.lookup!(lookupInput('token', newRef(), null, 100), ctx());
    // Peach's "cannot find transaction": explicit, so past the deadline it means the charge never arrived.
    expect(looked).toMatchObject({ status: 'unknown', absent: true });
    expect(await peach.lookup!(lookupInput('hosted', newRef(), null, 100), ctx())).toMatchObject({ status: 'unknown', absent: true });
  });

  it('never logs secrets, signatures or registration ids', () => {
    const text = logLines.join('\n');
    for (const secret of Object.values(PEACH_SANDBOX_CREDENTIALS)) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
  });
});

describe('Peach connector: refusals and broken answers', () => {
  const closedPort = async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const { port } = s.address() as AddressInfo;
    await new Promise((resolve) => s.close(resolve));
    return port;
  };
  const answering = (status: number, body: unknown, calls: string[] = []): typeof fetch =>
    (async (url: string | URL | Request) => {
      calls.push(String(url));
      return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;

  it('is unavailable when Peach cannot be reached (nothing was sent)', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = { ...settings(), baseUrl: down, hosts: { base: down, card: down } };
    await expect(peach.createCheckout!(checkoutInput(newRef()), ctx({ settings: unreachable }))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(charge(await registration('approve'), newRef(), ctx({ settings: unreachable }))).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('is misconfigured without credentials for a real host, or with a wrong secret', async () => {
    const real = { baseUrl: 'https://testsecure.peachpayments.com', hosts: { base: 'https://testsecure.peachpayments.com', card: 'https://sandbox-card.peachpayments.com' }, sandbox: false, credentials: {} };
    const error = await peach.createCheckout!(checkoutInput(newRef()), ctx({ settings: real })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'misconfigured', message: 'PAYRAIL_PEACH_SECRET_TOKEN is not set; Peach Payments needs it.' });
    const wrong = { ...settings(), credentials: { secret_token: new Secret('0'.repeat(32)) } };
    await expect(peach.createCheckout!(checkoutInput(newRef()), ctx({ settings: wrong }))).rejects.toMatchObject({ kind: 'misconfigured' });
    const badToken = { ...settings(), credentials: { access_token: new Secret('nope') } };
    await expect(charge(await registration('approve'), newRef(), ctx({ settings: badToken }))).rejects.toMatchObject({ kind: 'misconfigured' });
  });

  it('refuses a checkout Peach would not create as a protocol error', async () => {
    await expect(peach.createCheckout!(checkoutInput('short'), ctx())).rejects.toMatchObject({ kind: 'protocol' });
    await expect(peach.createCheckout!(checkoutInput(newRef()), ctx({ fetch: answering(502, 'bad gateway') }))).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('never re-sends a charge: a 503 is unavailable after one request, other 5xx and nonsense stay unknown', async () => {
    const calls: string[] = [];
    await expect(charge('a'.repeat(32), newRef(), ctx({ fetch: answering(503, {}, calls) }))).rejects.toMatchObject({ kind: 'unavailable' });
    expect(calls).toHaveLength(1);
    expect((await charge('a'.repeat(32), newRef(), ctx({ fetch: answering(500, { result: { code: '000.100.110' } }) }))).status).toBe('unknown');
    expect((await charge('a'.repeat(32), newRef(), ctx({ fetch: answering(200, '<html>') }))).status).toBe('unknown');
    expect((await charge('a'.repeat(32), newRef(), ctx({ fetch: answering(200, { result: { code: '123.456.789' } }) }))).status).toBe('unknown');
    expect((await charge('a'.repeat(32), newRef(), ctx({ fetch: answering(200, { result: { code: '000.200.000' } }) }))).status).toBe('pending');
  });

  it('does not believe a success for another amount or currency', async () => {
    const ref = newRef();
    const success = { id: 'p1', merchantTransactionId: ref, result: { code: '000.100.110', description: 'ok' } };
    expect((await charge('a'.repeat(32), ref, ctx({ fetch: answering(200, { ...success, amount: '2.99', currency: 'ZAR' }) }))).status).toBe('unknown');
    expect((await charge('a'.repeat(32), ref, ctx({ fetch: answering(200, { ...success, amount: '299.00', currency: 'USD' }) }))).status).toBe('unknown');
    expect((await charge('a'.repeat(32), ref, ctx({ fetch: answering(200, { ...success, amount: '299.00', currency: 'ZAR' }) }))).status).toBe('succeeded');
  });

  it('leaves a status answer with a bad signature unknown', async () => {
    const checkoutId = 'c'.repeat(32);
    const fields = { amount: '379.00', checkoutId, currency: 'ZAR', merchantTransactionId: 'x'.repeat(16), 'result.code': '000.100.110', 'result.description': 'ok' };
    const input = lookupInput('hosted', 'x'.repeat(16), checkoutId, 37_900);
    const good = withSignature(fields, PEACH_SANDBOX_CREDENTIALS.secret_token);
    expect((await peach.lookup!(input, ctx({ fetch: answering(200, good) }))).status).toBe('succeeded');
    expect((await peach.lookup!(input, ctx({ fetch: answering(200, { ...good, 'result.code': '000.000.000' }) }))).status).toBe('unknown');
    expect((await peach.lookup!(input, ctx({ fetch: answering(200, { ...good, amount: '1.00' }) }))).status).toBe('unknown');
    await expect(peach.lookup!(input, ctx({ fetch: answering(503, {}) }))).rejects.toMatchObject({ kind: 'unavailable' });
    // Throttled (two look-ups a minute): try later, never a result.
    await expect(peach.lookup!(input, ctx({ fetch: answering(429, { result: { code: '800.120.100' } }) }))).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('refuses callbacks that are not signed Peach posts', async () => {
    const signed = withSignature({ checkoutId: 'c'.repeat(32), 'result.code': '000.100.110', merchantTransactionId: 'x'.repeat(16) }, PEACH_SANDBOX_CREDENTIALS.secret_token);
    expect((await peach.verifyCallback!(inbound(signed), ctx())).ok).toBe(true);
    expect((await peach.verifyCallback!(inbound(signed, 'itn'), ctx())).ok).toBe(false);
    expect((await peach.verifyCallback!(inbound({}, 'webhook', ''), ctx())).ok).toBe(false);
    expect((await peach.verifyCallback!(inbound(signed, 'webhook', `${new URLSearchParams(signed)}&checkoutId=other`), ctx())).ok).toBe(false);
    expect((await peach.verifyCallback!({ ...inbound(signed), headers: { 'content-type': 'application/json' } }, ctx())).ok).toBe(false);
    expect((await peach.verifyCallback!({ ...inbound(signed), headers: { 'content-type': 'text/xml' } }, ctx())).ok).toBe(false);
    const { checkoutId: _c, ...noCheckout } = signed;
    expect((await peach.verifyCallback!(inbound(withSignature(noCheckout, PEACH_SANDBOX_CREDENTIALS.secret_token)), ctx())).ok).toBe(false);
  });
});

describe('Peach connector: webhooks in every shape Peach sends', () => {
  const secret: string = PEACH_SANDBOX_CREDENTIALS.secret_token;
  const fields = () => withSignature({ amount: '379.00', checkoutId: 'd'.repeat(32), currency: 'ZAR', id: 'e'.repeat(32), merchantTransactionId: 'REF0000000000001', 'result.code': '000.100.110', 'result.description': 'ok' }, secret);
  const hmac = (key: string, timestamp: string, id: string, url: string, body: string) => createHmac('sha256', key).update(`${timestamp}.${id}.${url}.${body}`).digest('hex');
  const webhook = (body: string, contentType: string, headers: Record<string, string> = {}): InboundRequest => ({
    ...inbound({}, 'webhook', body),
    path: '/callbacks/peach/webhook',
    url: `${h.baseUrl}/callbacks/peach/webhook`,
    headers: { 'content-type': contentType, ...headers },
  });
  const headerSigned = (body: string, key = secret) => {
    const timestamp = String(Date.now());
    const id = 'wh-1';
    return { 'x-webhook-id': id, 'x-webhook-timestamp': timestamp, 'x-webhook-signature': hmac(key, timestamp, id, `${h.baseUrl}/callbacks/peach/webhook`, body), 'x-webhook-signature-algorithm': 'HmacSHA256' };
  };

  it('accepts JSON with a valid header HMAC, and refuses a forged one', async () => {
    const body = JSON.stringify({ payload: fields() });
    expect(await peach.verifyCallback!(webhook(body, 'application/json', headerSigned(body)), ctx())).toMatchObject({ ok: true, callback: { merchantReference: 'REF0000000000001', result: { status: 'succeeded' } } });
    // A JSON body without an in-body signature is fine when the header HMAC is valid.
    const { signature: _s, ...unsigned } = fields();
    const bare = JSON.stringify({ payload: unsigned });
    expect((await peach.verifyCallback!(webhook(bare, 'application/json', headerSigned(bare)), ctx())).ok).toBe(true);
    expect(await peach.verifyCallback!(webhook(bare, 'application/json', headerSigned(bare, 'f'.repeat(32))), ctx())).toEqual({ ok: false, reason: 'the header signature does not match' });
    expect(await peach.verifyCallback!(webhook(bare.replace('379.00', '3.79'), 'application/json', headerSigned(bare)), ctx())).toEqual({ ok: false, reason: 'the header signature does not match' });
    expect((await peach.verifyCallback!(webhook(bare, 'application/json'), ctx())).ok).toBe(false);
  });

  it('accepts a form whose dotted names arrive with underscores, signed in the body or by header', async () => {
    const underscored = new URLSearchParams(Object.entries(fields()).map(([k, v]): [string, string] => [k.replace('.', '_'), v])).toString();
    expect(await peach.verifyCallback!(webhook(underscored, 'application/x-www-form-urlencoded'), ctx())).toMatchObject({ ok: true, callback: { result: { status: 'succeeded', amount: rand(37_900) } } });
    expect((await peach.verifyCallback!(webhook(underscored, 'application/x-www-form-urlencoded', headerSigned(underscored)), ctx())).ok).toBe(true);
    expect((await peach.verifyCallback!(webhook(underscored.replace('379.00', '3.79'), 'application/x-www-form-urlencoded'), ctx())).ok).toBe(false);
  });
});
