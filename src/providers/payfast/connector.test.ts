import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CardOutcome } from '../../../test/helpers/collections.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { sandboxTokens } from '../../db/schema.ts';
import { DEMO_PAYFAST_CARD_TOKEN } from '../../demo/ids.ts';
import { ConnectorError } from '../../lib/errors.ts';
import type { HostResolver } from '../../lib/host-resolver.ts';
import { Secret } from '../../lib/secret.ts';
import type { CheckoutInput, ConnectorContext, InboundRequest, ProviderSettings } from '../contract.ts';
import { resolveSettings } from '../settings.ts';
import { apiBase, payfastConnector as payfast } from './connector.ts';
import { PAYFAST_SANDBOX_MERCHANT } from './credentials.ts';
import { apiSignature, itnParamString, itnSignature } from './signature.ts';

// PayFast's ITN hosts resolve to this here (no network in tests); the sandbox's own ITNs come from loopback.
const PAYFAST_ADDRESS = '197.97.145.144';
const resolveHost: HostResolver = async () => [{ address: PAYFAST_ADDRESS, family: 4 }];

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

const settings = (): ProviderSettings => resolveSettings(payfast.settings, h.ctx.config.providers.payfast, h.ctx.config);
const ctx = (overrides: Partial<ConnectorContext> = {}): ConnectorContext => ({
  fetch,
  clock: () => new Date(),
  log: h.ctx.log,
  settings: settings(),
  timeoutMs: 5_000,
  resolveHost,
  ...overrides,
});
/** A real provider's settings (not a payrail sandbox): published test merchant given as credentials. */
const realSettings = (baseUrl: string, credentials: ProviderSettings['credentials'] = {}): ProviderSettings => ({ baseUrl, hosts: { base: baseUrl }, sandbox: false, credentials });
const behave = async (settings: Record<string, unknown>) => {
  const res = await fetch(`${sandbox()}/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings) });
  if (res.status !== 200) throw new Error(`behaviour ${res.status}: ${await res.text()}`);
};
const lookup = (kind: 'token' | 'link', merchantReference: string, providerReference: string | null, cents: number, token: string | null = null, startedAt = new Date()) =>
  payfast.lookup!({ kind, merchantReference, providerReference, amount: rand(cents), token, expiresAt: null, startedAt }, ctx());
const newRef = () => `P${randomBytes(8).toString('hex').toUpperCase()}`;
const rand = (cents: number) => ({ amountCents: cents, currency: 'ZAR' as const });
const customer = { id: 'c-1', name: 'Konstand Nel', email: 'konstand@example.co.za', cellNumber: '+27821234567' };
const charge = (token: string, merchantReference: string, cents = 37_900, c = ctx()) =>
  payfast.chargeToken!({ merchantReference, amount: rand(cents), token, agreementReference: null, description: '30 Day bundle', customer }, c);
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
  path: '/callbacks/payfast/itn',
  url: `${h.baseUrl}/callbacks/payfast/itn`,
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

describe('PayFast ad hoc charges of a token, as PayFast answers them', () => {
  it('reads the string "true" as an approval, with the pf_payment_id to look it up by', async () => {
    const ref = newRef();
    const first = await charge(DEMO_PAYFAST_CARD_TOKEN, ref);
    expect(first).toMatchObject({ status: 'succeeded', amount: rand(37_900), raw: { data: { response: 'true' } } });
    expect(first.providerReference).toMatch(/^[0-9]+$/);
    expect(await ledger(ref)).toEqual([expect.objectContaining({ id: first.providerReference, status: 'approved', kind: 'token', amount_cents: 37_900 })]);
    expect(await lookup('token', ref, first.providerReference, 37_900)).toMatchObject({ status: 'succeeded', providerReference: first.providerReference });
  });

  it('reads boolean true as an approval too (as PayFast’s sandbox host answers)', async () => {
    await behave({ adhocSuccess: 'boolean' });
    try {
      expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef())).toMatchObject({ status: 'succeeded', raw: { data: { response: true } } });
    } finally {
      await behave({ adhocSuccess: 'string' });
    }
  });

  it('charges a repeated m_payment_id again, as nothing says PayFast would refuse it: payrail must never send one twice', async () => {
    const ref = newRef();
    const [a, b] = [await charge(DEMO_PAYFAST_CARD_TOKEN, ref), await charge(DEMO_PAYFAST_CARD_TOKEN, ref)];
    expect(a.providerReference).not.toBe(b.providerReference);
    expect((await ledger(ref)).filter((r) => r.status === 'approved')).toHaveLength(2);
  });

  it('reads a decline inside an HTTP 200 — a bank code, or an object — as failed, with its kind', async () => {
    const declined = await charge(await cardToken('decline', '0002'), newRef());
    expect(declined).toMatchObject({ status: 'failed', failure: { code: '05', kind: 'declined', message: 'DO NOT HONOUR' }, raw: { code: 200, data: { response: '05' } } });
    expect(declined.providerReference).toMatch(/^[0-9]+$/);
    expect(await charge(await cardToken('insufficient_funds', '9995'), newRef())).toMatchObject({ status: 'failed', failure: { code: '51', kind: 'insufficient_funds' } });
    await behave({ declineShape: 'object' });
    try {
      const object = await charge(await cardToken('decline', '0002'), newRef());
      expect(object).toMatchObject({ status: 'failed', failure: { code: '05', kind: 'declined', message: 'DO NOT HONOUR' }, raw: { data: { response: { code: '05' } } } });
    } finally {
      await behave({ declineShape: 'code' });
    }
  });

  it('leaves a lost answer unknown; the ledger shows the charge and a look-up by the token settles it', async () => {
    const ref = newRef();
    const token = await cardToken('lost_response', '0119');
    const lost = await charge(token, ref);
    expect(lost).toMatchObject({ status: 'unknown', providerReference: null });
    const rows = await ledger(ref);
    expect(rows).toEqual([expect.objectContaining({ status: 'approved' })]);
    // PayFast's query takes a pf_payment_id or a token, never our m_payment_id: without the token nothing can be asked.
    expect(await lookup('token', ref, null, 37_900)).toMatchObject({ status: 'unknown' });
    expect(await lookup('token', ref, null, 37_900, token)).toMatchObject({ status: 'succeeded', providerReference: rows[0]!.id, amount: rand(37_900) });
    expect(await lookup('token', ref, rows[0]!.id, 37_900)).toMatchObject({ status: 'succeeded', providerReference: rows[0]!.id });
    // The look-up checks the amount, and that the record is this attempt's.
    expect(await lookup('token', ref, rows[0]!.id, 100)).toMatchObject({ status: 'unknown' });
    expect(await lookup('token', newRef(), rows[0]!.id, 37_900)).toMatchObject({ status: 'unknown' });
  });

  it('is unavailable when PayFast answers 503 — sent once, never re-sent — and the next attempt is charged', async () => {
    const token = await cardToken('unavailable_once', '0259');
    const first = newRef();
    await expect(charge(token, first)).rejects.toMatchObject({ kind: 'unavailable' });
    expect((await ledger(first)).map((r) => r.status)).toEqual(['unavailable']);
    const second = newRef();
    expect(await charge(token, second)).toMatchObject({ status: 'succeeded' });
    expect((await ledger(second)).map((r) => r.status)).toEqual(['approved']);
  });

  it('fails a token PayFast does not know or that was cancelled', async () => {
    expect(await charge(randomUUID(), newRef())).toMatchObject({ status: 'failed', failure: { code: 'token_not_found', kind: 'invalid' } });
    const token = await cardToken('approve', '4242');
    await h.ctx.database.db.update(sandboxTokens).set({ status: 'cancelled' }).where(and(eq(sandboxTokens.token, token)));
    expect(await charge(token, newRef())).toMatchObject({ status: 'failed' });
  });

  it('says misconfigured for a wrong passphrase or missing credentials, and unavailable when nothing was sent', async () => {
    const wrong = ctx({ settings: { ...settings(), credentials: { passphrase: new Secret('not-the-passphrase') } } });
    await expect(charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 100, wrong)).rejects.toMatchObject({ kind: 'misconfigured' });
    await expect(charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 100, ctx({ settings: realSettings('https://www.payfast.co.za') }))).rejects.toMatchObject({ kind: 'misconfigured' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = ctx({ settings: { ...settings(), baseUrl: `http://127.0.0.1:${port}/sandbox/payfast` } });
    const error = await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 100, down).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unavailable' });
  });

  it('takes only an explicit approval as final, in every shape PayFast answers', async () => {
    let calls = 0;
    const answer = (status: number, body: string) => ctx({ fetch: (async () => (calls++, new Response(body, { status }))) as typeof fetch });
    const data = (response: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ code: 200, status: 'success', data: { response, message: 'Transaction was successful(00)', pf_payment_id: '42', ...extra } });
    const cases: [number, string, string][] = [
      [200, data('true'), 'succeeded'],
      [200, data(true), 'succeeded'],
      [200, data('05', { message: 'DO NOT HONOUR (05)' }), 'failed'],
      [200, data({ code: '51', reason: 'INSUFFICIENT FUNDS' }), 'failed'],
      [200, data(false), 'failed'],
      [200, JSON.stringify({ code: 400, status: 'failed', data: { message: 'amount: invalid' } }), 'failed'],
      [400, JSON.stringify({ code: 400, status: 'failed', data: { message: 'amount: invalid' } }), 'failed'],
      [200, data('00'), 'unknown'],
      [200, data('TRUE '), 'unknown'],
      [200, data(null), 'unknown'],
      [200, '<html>', 'unknown'],
      [500, data('true'), 'unknown'],
      [502, '', 'unknown'],
    ];
    for (const [status, body, expected] of cases) expect([status, body, (await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(status, body))).status]).toEqual([status, body, expected]);
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(200, data({ code: '51', reason: 'INSUFFICIENT FUNDS' })))).toMatchObject({ failure: { code: '51', kind: 'insufficient_funds' } });
    const timeout = ctx({ fetch: (async () => { throw new DOMException('The operation was aborted due to timeout', 'TimeoutError'); }) as typeof fetch });
    expect(await charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, timeout)).toMatchObject({ status: 'unknown' });
    calls = 0;
    await expect(charge(DEMO_PAYFAST_CARD_TOKEN, newRef(), 37_900, answer(503, '{"code":503,"status":"error","data":{}}'))).rejects.toMatchObject({ kind: 'unavailable' });
    expect(calls).toBe(1);
  });
});

describe('PayFast look-ups', () => {
  it('has nothing to ask about a page nobody has paid (pending), and cannot prove a charge never arrived (unknown)', async () => {
    const ref = newRef();
    expect(await lookup('token', ref, null, 100, DEMO_PAYFAST_CARD_TOKEN)).toMatchObject({ status: 'unknown' });
    expect(await lookup('link', ref, null, 100)).toMatchObject({ status: 'pending' });
    expect(await lookup('token', ref, '1234567890', 100)).toMatchObject({ status: 'unknown' });
  });

  it('calls a token charge absent when PayFast shows no such charge by the token (the janitor waits out the ITN window)', async () => {
    const token = await cardToken('approve', '7777');
    expect(await lookup('token', newRef(), null, 100, token)).toMatchObject({ status: 'unknown', absent: true });
    const ref = newRef();
    await charge(token, ref);
    expect(await lookup('token', newRef(), null, 100, token)).toMatchObject({ status: 'unknown', absent: true });
    expect(await lookup('token', ref, null, 37_900, token)).toMatchObject({ status: 'succeeded' });
    // A pf_payment_id PayFast gave us is never "absent", even if its query finds nothing.
    expect((await lookup('token', newRef(), '1234567890', 100)).absent).toBeUndefined();
    expect(payfast.timing.deadlineMs).toBe(20 * 60_000);
  });

  it('reads a declined charge as failed, by its pf_payment_id', async () => {
    const ref = newRef();
    const declined = await charge(await cardToken('decline', '0002'), ref);
    expect(await lookup('token', ref, declined.providerReference, 37_900)).toMatchObject({ status: 'failed', failure: { kind: 'declined' } });
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
    // PayFast names the payment only in its ITN: nothing to look the link up by yet.
    expect(link.providerReference).toBeNull();
    expect(link.redirectUrl).toContain((link.raw as { payment_uuid: string }).payment_uuid);
    expect(link.expiresAt!.getTime() - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    expect(await lookup('link', ref, link.providerReference, 37_900)).toMatchObject({ status: 'pending' });

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

    expect(await lookup('link', ref, callback.providerReference, 37_900)).toMatchObject({ status: 'succeeded', providerReference: callback.providerReference });
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
    // What the signature does not cover is not read: a field after it, or a field given twice (even signed).
    expect(await reasonFor({ rawBody: `${itn.body}&payment_status=FAILED` })).toBe('signature: the ITN has fields after its signature, or none.');
    const unsigned = [...new URLSearchParams(itn.body)].filter(([k]) => k !== 'signature');
    expect(await reasonFor({ rawBody: signedBody([...unsigned, ['payment_status', 'FAILED']]) })).toBe('signature: the ITN names a field more than once.');
    expect(await reasonFor({ remoteAddress: '203.0.113.9' })).toMatch(/^sender/);
    expect(await reasonFor({ channel: 'webhook' })).toMatch(/ITN/);

    // Correctly signed with the passphrase, but never sent by PayFast: the server confirmation says INVALID.
    const pairs = [...new URLSearchParams(itn.body)].filter(([k]) => k !== 'signature');
    const forged = pairs.map(([k, v]): [string, string] => [k, k === 'pf_payment_id' ? '9999999999' : v]);
    expect(await reasonFor({ rawBody: signedBody(forged) })).toMatch(/^server confirmation/);
    const foreign = pairs.map(([k, v]): [string, string] => [k, k === 'merchant_id' ? '10000101' : v]);
    expect(await reasonFor({ rawBody: signedBody(foreign) })).toMatch(/^merchant_id/);
  });

  /** A payment link paid with an approving card: its reference, its ITN and the pf_payment_id it names. */
  async function paidLinkItn() {
    const ref = newRef();
    const link = await payfast.createPaymentLink!(linkInput(ref, { tokenise: false }), ctx());
    await fetch(link.redirectUrl, cardForm('4242424242424242'));
    const itn = await nextItn((b) => b.includes(`m_payment_id=${ref}&`));
    return { ref, itn, pf: new URLSearchParams(itn.body).get('pf_payment_id')! };
  }

  it('keeps an ITN it cannot confirm yet (validate answering HTML 403), with the pf_payment_id as a hint, and confirms it later', async () => {
    const { ref, itn, pf } = await paidLinkItn();
    await behave({ validate: 'html_403' });
    try {
      expect(await payfast.verifyCallback!(inbound(itn), ctx())).toEqual({ ok: false, retry: true, reason: expect.stringMatching(/^server confirmation: PayFast answered 403/), hint: { merchantReference: ref, providerReference: pf } });
    } finally {
      await behave({ validate: 'normal' });
    }
    expect(await payfast.verifyCallback!(inbound(itn), ctx())).toMatchObject({ ok: true, callback: { providerReference: pf } });
  });

  it('checks an ITN’s signature, sender and merchant without asking the validate service (checkCallback)', async () => {
    const { ref, itn, pf } = await paidLinkItn();
    await behave({ validate: 'html_403' });
    try {
      // The validate service answers HTML: the full verification must wait, the connector's own checks need not.
      expect(await payfast.verifyCallback!(inbound(itn), ctx())).toMatchObject({ ok: false, retry: true });
      expect(await payfast.checkCallback!(inbound(itn), ctx())).toMatchObject({ ok: true, callback: { kind: 'payment', merchantReference: ref, providerReference: pf, result: { status: 'succeeded', amount: rand(37_900) } } });
      const reasonFor = async (overrides: Partial<InboundRequest>) => {
        const verdict = await payfast.checkCallback!(inbound(itn, overrides), ctx());
        return verdict.ok ? 'accepted' : verdict.reason;
      };
      expect(await reasonFor({ rawBody: itn.body.replace('amount_gross=379.00', 'amount_gross=3.79') })).toMatch(/^signature/);
      expect(await reasonFor({ remoteAddress: '203.0.113.9' })).toMatch(/^sender/);
      const pairs = [...new URLSearchParams(itn.body)].filter(([k]) => k !== 'signature');
      expect(await reasonFor({ rawBody: signedBody(pairs.map(([k, v]): [string, string] => [k, k === 'merchant_id' ? '10000101' : v])) })).toMatch(/^merchant_id/);
    } finally {
      await behave({ validate: 'normal' });
    }
  });

  it('accepts as sender PayFast’s published ranges and its hosts’ addresses — loopback only when PayFast is payrail’s sandbox', async () => {
    const ref = newRef();
    const link = await payfast.createPaymentLink!(linkInput(ref, { tokenise: false }), ctx());
    await fetch(link.redirectUrl, cardForm('4242424242424242'));
    const itn = await nextItn((b) => b.includes(`m_payment_id=${ref}&`));
    const creds = { merchant_id: new Secret('10000100'), merchant_key: new Secret('46f0cd694581a'), passphrase: new Secret('jt7NOE43FZPn') };
    const real = ctx({ settings: realSettings(sandbox(), creds) });
    // Behind a trusted proxy the remote address is the one the proxy reported (PAYRAIL_TRUSTED_PROXIES, test/seam).
    for (const address of ['41.74.179.200', '102.216.36.5', '197.97.145.159', `::ffff:${PAYFAST_ADDRESS}`]) expect((await payfast.verifyCallback!(inbound(itn, { remoteAddress: address }), real)).ok).toBe(true);
    for (const address of ['41.74.179.224', '10.0.0.1', '127.0.0.1', itn.remote]) expect(await payfast.verifyCallback!(inbound(itn, { remoteAddress: address }), real)).toMatchObject({ ok: false, reason: expect.stringMatching(/^sender/) });
    expect((await payfast.verifyCallback!(inbound(itn), ctx())).ok).toBe(true);
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
    expect(verdict.ok && (await lookup('link', ref, verdict.callback.providerReference, 37_900))).toMatchObject({ status: 'failed' });
  });

  it('refuses to make a link the sandbox rejects, naming the problem', async () => {
    const wrong = ctx({ settings: { ...settings(), credentials: { passphrase: new Secret('nope') } } });
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
    expect(apiBase(settings())).toBe(`${sandbox()}/api`);
    expect(apiBase(realSettings('https://sandbox.payfast.co.za'))).toBe('https://api.payfast.co.za');
    expect(apiBase(realSettings('https://www.payfast.co.za'))).toBe('https://api.payfast.co.za');
    expect(apiBase(realSettings('http://localhost:8090/sandbox/payfast'))).toBe('http://localhost:8090/sandbox/payfast/api');
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
    await charge(DEMO_PAYFAST_CARD_TOKEN, ref, 100, ctx({ fetch: stub, settings: realSettings('https://sandbox.payfast.co.za', creds) }));
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

  it('declares what it can do, its ITN receiver, its settings and its timing', () => {
    expect(payfast.capabilities).toEqual({ tokenCharges: ['CreditCard'], tokenisation: true, defaultFor: ['CreditCard'] });
    expect(payfast.callbacks).toEqual([{ channel: 'itn', path: '/callbacks/payfast/itn', legacyPaths: ['/payfast-payments/itn'], answer: 'first', notification: true, settles: 'itself', claimedReference: expect.any(Function) }]);
    // What an ITN says it is about, before anything about it is trusted.
    expect(payfast.callbacks![0]!.claimedReference!('m_payment_id=PX1&pf_payment_id=1&signature=x')).toBe('PX1');
    expect(payfast.callbacks![0]!.claimedReference!('%%%')).toBeNull();
    expect(payfast.settings).toEqual({ key: 'payfast', credentials: ['merchant_id', 'merchant_key', 'passphrase'], hosts: { base: '/sandbox/payfast' } });
    expect(payfast.timing).toEqual({ firstCheckAfterMs: 30_000, sessionTtlMs: 86_400_000, settleWindowMs: 3_600_000, deadlineMs: 1_200_000 });
    expect(payfast.createCheckout).toBeUndefined();
  });
});
