import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO_PAYFAST_CARD_TOKEN } from '../../demo/ids.ts';
import { ConnectorError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import type { CheckoutInput, ConnectorContext, InboundRequest } from '../contract.ts';
import type { CardOutcome } from '../../sandboxes/kit/cards.ts';
import { sandboxTokens } from '../../sandboxes/kit/schema.ts';
import { apiBase, payfastConnector as payfast } from './connector.ts';
import { PAYFAST_SANDBOX_MERCHANT } from './credentials.ts';
import { apiSignature, itnParamString, itnSignature } from './signature.ts';

// PayFast's ITN hosts resolve to these in this file (no network in tests); the sandbox's own ITNs come from loopback.
const PAYFAST_ADDRESS = '197.97.145.144';
vi.mock('node:dns/promises', () => ({ lookup: vi.fn(async () => [{ address: PAYFAST_ADDRESS, family: 4 }]) }));

interface Itn {
  body: string;
  headers: IncomingHttpHeaders;
  remote: string;
}

/** A merchant's ITN endpoint: a bare node:http server that answers 200 and keeps what it got. */
function startReceiver(): Promise<{ url: string; got: Itn[]; server: Server }> {
  const got: Itn[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ body, headers: req.headers, remote: req.socket.remoteAddress ?? '' });
      res.writeHead(200).end('OK');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/itn`, got, server })));
}

let h: Harness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  h = await createHarness({ listen: true });
  receiver = await startReceiver();
});
afterAll(async () => {
  await new Promise((r) => receiver.server.close(r));
  await h.close();
});

const ctx = (overrides: Partial<ConnectorContext> = {}): ConnectorContext => ({
  fetch,
  clock: () => new Date(),
  log: h.ctx.log,
  settings: h.ctx.config.providers.payfast,
  timeoutMs: 5_000,
  ...overrides,
});
const newRef = () => `P${randomBytes(8).toString('hex').toUpperCase()}`;
const rand = (cents: number) => ({ amountCents: cents, currency: 'ZAR' as const });
const customer = { id: 'c-1', name: 'Konstand Nel', email: 'konstand@example.co.za', cellNumber: '+27821234567' };
const charge = (token: string, merchantReference: string, cents = 37_900, c = ctx()) =>
  payfast.chargeToken!({ merchantReference, amount: rand(cents), token, description: '30 Day bundle', customer }, c);
const sandbox = () => `${h.baseUrl}/sandbox/payfast`;

async function ledger(merchantReference: string): Promise<{ id: string; status: string; kind: string; amount_cents: number }[]> {
  const res = await fetch(`${sandbox()}/transactions?merchant_reference=${encodeURIComponent(merchantReference)}`);
  return ((await res.json()) as { items: { id: string; status: string; kind: string; amount_cents: number }[] }).items;
}

async function cardToken(outcome: CardOutcome, last4: string, notifyUrl: string | null = null): Promise<string> {
  const token = randomUUID();
  await h.ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PayFast', outcome, cardBin: '400000', cardLast4: last4, expiryMonth: 11, expiryYear: 2031, holder: 'Test Holder', notifyUrl });
  return token;
}

async function nextItn(match: (body: string) => boolean): Promise<Itn> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    const hit = receiver.got.find((i) => match(i.body));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no ITN arrived');
}

const inbound = (itn: Itn, overrides: Partial<InboundRequest> = {}): InboundRequest => ({
  channel: 'itn',
  method: 'POST',
  path: '/callbacks/payfast',
  query: {},
  headers: Object.fromEntries(Object.entries(itn.headers).map(([k, v]) => [k, String(v)])),
  rawBody: itn.body,
  remoteAddress: itn.remote,
  ...overrides,
});

/** An ITN body signed with the merchant's passphrase, as PayFast would sign it. */
function signedBody(pairs: [string, string][]): string {
  const params = itnParamString(pairs);
  return `${params}&signature=${itnSignature(params, PAYFAST_SANDBOX_MERCHANT.passphrase)}`;
}

describe('PayFast ad hoc charges of a token', () => {
  it('charges the demo card once, and a repeat of the same m_payment_id charges nothing more', async () => {
    const ref = newRef();
    const first = await charge(DEMO_PAYFAST_CARD_TOKEN, ref);
    expect(first).toMatchObject({ status: 'succeeded', amount: rand(37_900) });
    expect(first.providerReference).toMatch(/^[0-9]+$/);
    const again = await charge(DEMO_PAYFAST_CARD_TOKEN, ref);
    expect(again).toMatchObject({ status: 'succeeded', providerReference: first.providerReference });
    expect(await ledger(ref)).toEqual([expect.objectContaining({ id: first.providerReference, status: 'approved', kind: 'token', amount_cents: 37_900 })]);
  });

  it('approves concurrent duplicates of one m_payment_id once', async () => {
    const ref = newRef();
    const results = await Promise.all(Array.from({ length: 6 }, () => charge(DEMO_PAYFAST_CARD_TOKEN, ref)));
    expect(new Set(results.map((r) => `${r.status}:${r.providerReference}`)).size).toBe(1);
    expect((await ledger(ref)).filter((r) => r.status === 'approved')).toHaveLength(1);
  });

  it('fails a declined card and a card without funds, with the kind of failure', async () => {
    const declined = await charge(await cardToken('decline', '0002'), newRef());
    expect(declined).toMatchObject({ status: 'failed', failure: { code: 'DO_NOT_HONOUR', kind: 'declined', message: 'DO NOT HONOUR' } });
    const poor = await charge(await cardToken('insufficient_funds', '9995'), newRef());
    expect(poor).toMatchObject({ status: 'failed', failure: { kind: 'insufficient_funds' } });
  });

  it('leaves a lost answer unknown; the ledger shows the charge and a look-up settles it', async () => {
    const ref = newRef();
    const lost = await charge(await cardToken('lost_response', '0119'), ref);
    expect(lost).toMatchObject({ status: 'unknown', providerReference: null });
    const rows = await ledger(ref);
    expect(rows).toEqual([expect.objectContaining({ status: 'approved' })]);
    const settled = await payfast.lookup!({ kind: 'token', merchantReference: ref, providerReference: null, amount: rand(37_900) }, ctx());
    expect(settled).toMatchObject({ status: 'succeeded', providerReference: rows[0]!.id, amount: rand(37_900) });
    // The look-up checks the amount too.
    expect(await payfast.lookup!({ kind: 'token', merchantReference: ref, providerReference: null, amount: rand(100) }, ctx())).toMatchObject({ status: 'unknown' });
  });

  it('retries a 503 with the same m_payment_id and is charged exactly once', async () => {
    const ref = newRef();
    const result = await charge(await cardToken('unavailable_once', '0259'), ref);
    expect(result).toMatchObject({ status: 'succeeded', amount: rand(37_900) });
    const rows = await ledger(ref);
    expect(rows.map((r) => r.status)).toEqual(['unavailable', 'approved']);
  });

  it('fails a token PayFast does not know or that was cancelled', async () => {
    expect(await charge(randomUUID(), newRef())).toMatchObject({ status: 'failed', failure: { code: 'token_not_found', kind: 'invalid' } });
    const token = await cardToken('approve', '4242');
    await h.ctx.database.db.update(sandboxTokens).set({ status: 'cancelled' }).where(and(eq(sandboxTokens.token, token)));
    expect(await charge(token, newRef())).toMatchObject({ status: 'failed' });
  });

  it('says misconfigured for a wrong passphrase or missing credentials, and unavailable when nothing was sent', async () => {
    const wrong = ctx({ settings: { ...h.ctx.config.providers.payfast, credentials: { passphrase: new Secret('not-the-passphrase') } } });
    await expect(charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 100, wrong)).rejects.toMatchObject({ kind: 'misconfigured' });
    const real = ctx({ settings: { baseUrl: 'https://www.payfast.co.za', builtInSandbox: false, credentials: {} } });
    await expect(charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 100, real)).rejects.toMatchObject({ kind: 'misconfigured' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = ctx({ settings: { ...h.ctx.config.providers.payfast, baseUrl: `http://127.0.0.1:${port}/sandbox/payfast` } });
    const error = await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 100, down).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unavailable' });
  });

  it('never takes an answer it cannot trust as final', async () => {
    const answer = (status: number, body: string) => ctx({ fetch: (async () => new Response(body, { status })) as typeof fetch });
    const ok = (amount: unknown) => JSON.stringify({ code: 200, status: 'success', data: { response: true, pf_payment_id: '42', amount } });
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(200, ok(100)))).toMatchObject({ status: 'unknown', providerReference: '42' });
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(200, ok(37_900)))).toMatchObject({ status: 'succeeded' });
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(500, ok(37_900)))).toMatchObject({ status: 'unknown' });
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(200, '<html>'))).toMatchObject({ status: 'unknown' });
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(502, ''))).toMatchObject({ status: 'unknown' });
    const timeout = ctx({ fetch: (async () => { throw new DOMException('The operation was aborted due to timeout', 'TimeoutError'); }) as typeof fetch });
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, timeout)).toMatchObject({ status: 'unknown' });
    let calls = 0;
    const always503 = ctx({ fetch: (async () => (calls++, new Response('{"code":503,"status":"error","data":{}}', { status: 503 }))) as typeof fetch });
    await expect(charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, always503)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(calls).toBe(3);
  });
});

describe('PayFast look-ups', () => {
  it('keeps a token charge PayFast never heard of unknown, and an unpaid link pending', async () => {
    const ref = newRef();
    expect(await payfast.lookup!({ kind: 'token', merchantReference: ref, providerReference: null, amount: rand(100) }, ctx())).toMatchObject({ status: 'unknown' });
    expect(await payfast.lookup!({ kind: 'link', merchantReference: ref, providerReference: null, amount: rand(100) }, ctx())).toMatchObject({ status: 'pending' });
  });

  it('reads a declined charge as failed', async () => {
    const ref = newRef();
    await charge(await cardToken('decline', '0002'), ref);
    expect(await payfast.lookup!({ kind: 'token', merchantReference: ref, providerReference: null, amount: rand(37_900) }, ctx())).toMatchObject({ status: 'failed', failure: { kind: 'declined' } });
  });
});

function linkInput(merchantReference: string, overrides: Partial<CheckoutInput> = {}): CheckoutInput {
  return {
    merchantReference,
    amount: rand(37_900),
    description: 'Monthly Recurring 20/10',
    customer,
    returnUrl: 'https://app.example/ext-pay/u/p/1',
    cancelUrl: 'https://app.example/ext-pay/u/p/0',
    notificationUrl: receiver.url,
    tokenise: true,
    ...overrides,
  };
}

const cardForm = (card: string, expiry = '12/30') => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ card_number: card, expiry, cvv: '123', holder: 'K Nel' }).toString(),
});

describe('PayFast payment links and ITNs', () => {
  it('makes a link, takes the card, and sends an ITN that verifies, with the new token', async () => {
    const ref = newRef();
    const before = Date.now();
    const link = await payfast.createPaymentLink!(linkInput(ref), ctx());
    expect(link.redirectUrl).toMatch(new RegExp(`^${sandbox()}/eng/process/payment/[0-9a-f-]{36}#cc$`));
    expect(link.redirectUrl).toContain(link.providerReference);
    expect(link.expiresAt!.getTime() - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    expect(await payfast.lookup!({ kind: 'link', merchantReference: ref, providerReference: link.providerReference, amount: rand(37_900) }, ctx())).toMatchObject({ status: 'pending' });

    const page = await fetch(link.redirectUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('R 379.00');
    const paid = await fetch(link.redirectUrl, cardForm('4242 4242 4242 4242'));
    expect(paid.status).toBe(302);
    expect(paid.headers.get('location')).toBe('https://app.example/ext-pay/u/p/1');
    expect((await fetch(link.redirectUrl, cardForm('4242424242424242'))).status).toBe(410);

    const itn = await nextItn((b) => b.includes(`m_payment_id=${ref}&`));
    const verdict = await payfast.verifyCallback!(inbound(itn), ctx());
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
    if (!verdict.ok) return;
    const { callback } = verdict;
    expect(callback).toMatchObject({ kind: 'payment', merchantReference: ref, result: { status: 'succeeded', amount: rand(37_900) } });
    expect(callback.eventId).toBe(`${callback.providerReference}:COMPLETE`);
    expect(callback.result.token).toMatchObject({ mediumType: 'CreditCard', accountName: 'Konstand Nel', accountNumber: '4242', expiryMonth: 12, expiryYear: 2030 });
    const token = callback.result.token!.value;
    expect(JSON.stringify(callback.result.raw)).not.toContain(token);
    expect(JSON.stringify(callback.result.raw)).not.toContain('signature');

    expect(await payfast.lookup!({ kind: 'link', merchantReference: ref, providerReference: link.providerReference, amount: rand(37_900) }, ctx())).toMatchObject({ status: 'succeeded', providerReference: callback.providerReference });
    // The tokenised card can be charged later (HybridDayBundle auto-recharge).
    expect(await charge(token, newRef(), 29_900)).toMatchObject({ status: 'succeeded', amount: rand(29_900) });
  });

  it('refuses tampered, forged and foreign ITNs, each with its reason', async () => {
    const ref = newRef();
    const link = await payfast.createPaymentLink!(linkInput(ref, { tokenise: false }), ctx());
    expect((await fetch(link.redirectUrl, cardForm('4242424242424242'))).status).toBe(302);
    const itn = await nextItn((b) => b.includes(`m_payment_id=${ref}&`));
    expect((await payfast.verifyCallback!(inbound(itn), ctx())).ok).toBe(true);

    const reasonFor = async (overrides: Partial<InboundRequest>) => {
      const verdict = await payfast.verifyCallback!(inbound(itn, overrides), ctx());
      return verdict.ok ? 'accepted' : verdict.reason;
    };
    expect(await reasonFor({ rawBody: itn.body.replace('amount_gross=379.00', 'amount_gross=3.79') })).toMatch(/^signature/);
    expect(await reasonFor({ rawBody: itn.body.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(32)}`) })).toMatch(/^signature/);
    expect(await reasonFor({ rawBody: itn.body.replace(/&signature=[0-9a-f]+/, '') })).toMatch(/^signature/);
    expect(await reasonFor({ remoteAddress: '203.0.113.9' })).toMatch(/^sender/);
    expect(await reasonFor({ channel: 'webhook' })).toMatch(/ITN/);

    // Correctly signed with the passphrase, but never sent by PayFast: the server confirmation says INVALID.
    const pairs = [...new URLSearchParams(itn.body)].filter(([k]) => k !== 'signature');
    const forged = pairs.map(([k, v]): [string, string] => [k, k === 'pf_payment_id' ? '9999999999' : v]);
    expect(await reasonFor({ rawBody: signedBody(forged) })).toMatch(/^server confirmation/);
    const foreign = pairs.map(([k, v]): [string, string] => [k, k === 'merchant_id' ? '10000101' : v]);
    expect(await reasonFor({ rawBody: signedBody(foreign) })).toMatch(/^merchant_id/);
  });

  it('accepts a real PayFast host as sender only when not on the built-in sandbox', async () => {
    const ref = newRef();
    const link = await payfast.createPaymentLink!(linkInput(ref, { tokenise: false }), ctx());
    await fetch(link.redirectUrl, cardForm('4242424242424242'));
    const itn = await nextItn((b) => b.includes(`m_payment_id=${ref}&`));
    const creds = { merchant_id: new Secret('10000100'), merchant_key: new Secret('46f0cd694581a'), passphrase: new Secret('jt7NOE43FZPn') };
    const standalone = ctx({ settings: { baseUrl: sandbox(), builtInSandbox: false, credentials: creds } });
    expect((await payfast.verifyCallback!(inbound(itn, { remoteAddress: `::ffff:${PAYFAST_ADDRESS}` }), standalone)).ok).toBe(true);
    expect(await payfast.verifyCallback!(inbound(itn), standalone)).toMatchObject({ ok: false, reason: expect.stringMatching(/^sender/) });
  });

  it('reports a failed card in the ITN and leaves the link failed', async () => {
    const ref = newRef();
    const link = await payfast.createPaymentLink!(linkInput(ref), ctx());
    const page = await fetch(link.redirectUrl, cardForm('4000 0000 0000 0002'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('https://app.example/ext-pay/u/p/0');
    const itn = await nextItn((b) => b.includes(`m_payment_id=${ref}&`));
    const verdict = await payfast.verifyCallback!(inbound(itn), ctx());
    expect(verdict).toMatchObject({ ok: true, callback: { kind: 'payment', result: { status: 'failed', failure: { kind: 'declined' } } } });
    expect(verdict.ok && verdict.callback.result.token).toBeFalsy();
    expect(await payfast.lookup!({ kind: 'link', merchantReference: ref, providerReference: null, amount: rand(37_900) }, ctx())).toMatchObject({ status: 'failed' });
  });

  it('refuses to make a link the sandbox rejects, naming the problem', async () => {
    const wrong = ctx({ settings: { ...h.ctx.config.providers.payfast, credentials: { passphrase: new Secret('nope') } } });
    await expect(payfast.createPaymentLink!(linkInput(newRef()), wrong)).rejects.toMatchObject({ kind: 'misconfigured', message: expect.stringContaining('signature') });
    await expect(payfast.createPaymentLink!(linkInput(newRef(), { amount: rand(0) }), ctx())).rejects.toMatchObject({ kind: 'protocol', message: expect.stringContaining('amount') });
  });
});

describe('PayFast card update', () => {
  it('gives the seed 000 URL, replaces the card and sends the UPDATED notice', async () => {
    const token = await cardToken('approve', '4242', receiver.url);
    expect(await payfast.cardUpdateUrl!({ token, returnUrl: '' }, ctx())).toBe(`${sandbox()}/eng/recurring/update/${token}`);
    const url = await payfast.cardUpdateUrl!({ token, returnUrl: 'https://app.example/cards?done=1' }, ctx());
    expect(url).toBe(`${sandbox()}/eng/recurring/update/${token}?return=https%3A%2F%2Fapp.example%2Fcards%3Fdone%3D1`);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Update your card');
    expect(html).toContain('4242');

    const form = new URLSearchParams({ return: 'https://app.example/cards?done=1', card_number: '5555555555554444', expiry: '07/31', cvv: '321', holder: 'K Nel' });
    const done = await fetch(`${sandbox()}/eng/recurring/update/${token}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('https://app.example/cards?done=1');
    const [row] = await h.ctx.database.db.select().from(sandboxTokens).where(eq(sandboxTokens.token, token));
    expect(row).toMatchObject({ cardLast4: '4444', expiryMonth: 7, expiryYear: 2031, holder: 'K Nel', status: 'active' });

    const itn = await nextItn((b) => b.includes(`token=${token}`) && b.includes('payment_status=UPDATED'));
    const verdict = await payfast.verifyCallback!(inbound(itn), ctx());
    expect(verdict).toMatchObject({
      ok: true,
      callback: { kind: 'token_update', merchantReference: null, providerReference: null, result: { status: 'succeeded', providerReference: null }, tokenUpdate: { token, accountNumber: '4444', expiryMonth: 7, expiryYear: 2031 } },
    });
    expect(verdict.ok && verdict.callback.eventId).toMatch(/^[0-9]+:UPDATED$/);
  });
});

describe('PayFast endpoints', () => {
  it('uses the built-in sandbox API, or PayFast API with ?testing=true for its sandbox', () => {
    expect(apiBase(h.ctx.config.providers.payfast)).toBe(`${sandbox()}/api`);
    expect(apiBase({ baseUrl: 'https://sandbox.payfast.co.za', builtInSandbox: false, credentials: {} })).toBe('https://api.payfast.co.za');
    expect(apiBase({ baseUrl: 'https://www.payfast.co.za', builtInSandbox: false, credentials: {} })).toBe('https://api.payfast.co.za');
  });

  it('signs API calls, and adds ?testing=true for PayFast’s own sandbox without signing it', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const stub = (async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), init: init ?? {} });
      return new Response(JSON.stringify({ code: 200, status: 'success', data: { response: true, pf_payment_id: '1' } }));
    }) as typeof fetch;
    const passphrase = 'a passphrase~';
    const creds = { merchant_id: new Secret('10000100'), merchant_key: new Secret('46f0cd694581a'), passphrase: new Secret(passphrase) };
    const ref = newRef();
    await charge(DEMO_PAYFAST_CARD_TOKEN, ref, 100, ctx({ fetch: stub, settings: { baseUrl: 'https://sandbox.payfast.co.za', builtInSandbox: false, credentials: creds } }));
    expect(seen[0]!.url).toBe(`https://api.payfast.co.za/subscriptions/${DEMO_PAYFAST_CARD_TOKEN}/adhoc?testing=true`);
    const headers = seen[0]!.init.headers as Record<string, string>;
    expect(headers).toMatchObject({ 'merchant-id': '10000100', version: 'v1', 'content-type': 'application/json' });
    expect(headers.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    const body = JSON.parse(String(seen[0]!.init.body)) as Record<string, string | number>;
    expect(body).toEqual({ amount: 100, item_name: '30 Day bundle', item_description: '30 Day bundle', m_payment_id: ref });
    const fields = { 'merchant-id': '10000100', version: 'v1', timestamp: headers.timestamp!, ...Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])) };
    expect(headers.signature).toBe(apiSignature(fields, passphrase));
    expect(JSON.stringify(seen)).not.toContain(passphrase);
  });

  it('declares its capabilities and timing', () => {
    expect(payfast.capabilities).toMatchObject({ tokenCharges: ['CreditCard'], paymentLinks: true, cardUpdate: true, statusLookup: true, callbacks: true, hostedCheckout: false });
    expect(payfast.timing).toEqual({ firstCheckAfterMs: 30_000, sessionTtlMs: 86_400_000 });
  });
});
