import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { ConnectorError } from '../../lib/errors.ts';
import type { CheckoutInput, ConnectorContext, InboundRequest, MandateTerms, ProviderSettings } from '../contract.ts';
import { resolveSettings } from '../settings.ts';
import { vodapayConnector as vp } from './connector.ts';
import { VODAPAY_SANDBOX_CREDENTIALS } from './credentials.ts';

/**
 * The VodaPay connector against the built-in sandbox over real HTTP: what each of the gateway's answers
 * means for an attempt — an initiation refused for a field seed 001 checks, a page paid, declined or still
 * open (asked by repeating the initiation), a collection approved, declined, refused, partly approved or
 * lost (settled by repeating its traceId), a repeat VodaPay will not judge (26) — and the notification's
 * signature.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
});
afterAll(() => h?.close());

const settings = (): ProviderSettings => resolveSettings(vp.settings, h.ctx.config.providers.vodapay, h.ctx.config);
const ctx = (overrides: Partial<ConnectorContext> = {}): ConnectorContext => ({
  fetch,
  clock: () => new Date(),
  log: h.ctx.log,
  settings: settings(),
  timeoutMs: 2_000,
  resolveHost: async () => [],
  ...overrides,
});
const customer = { id: crypto.randomUUID(), name: 'Thandi Mokoena', email: null, cellNumber: null };
const ref = () => `P${crypto.randomUUID().replaceAll('-', '').slice(0, 15).toUpperCase()}`;
const inDays = (days: number) => new Date(Date.now() + 2 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
const mandate = (overrides: Partial<MandateTerms> = {}): MandateTerms => ({ frequency: 'Monthly', day: 15, amount: { amountCents: 37_900, currency: 'ZAR' }, firstPaymentDate: inDays(10), minimumValidityMonths: 3, ...overrides });
const checkout = (overrides: Partial<CheckoutInput> = {}): CheckoutInput => ({
  merchantReference: ref(),
  amount: { amountCents: 13_897, currency: 'ZAR' },
  description: 'Purchase 42',
  customer,
  returnUrl: `${h.baseUrl}/callbacks/vodapay/return?url=${encodeURIComponent(`${h.baseUrl}/app/x/1`)}`,
  cancelUrl: `${h.baseUrl}/app/x/0`,
  notificationUrl: null,
  tokenise: true,
  mandate: mandate(),
  ...overrides,
});

/** Pays a page with a card, as the customer's browser would. */
async function pay(url: string, card: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', body: new URLSearchParams({ card_number: card, expiry: '12/30', cvv: '123', holder: 'T Mokoena' }), redirect: 'manual' });
  expect(res.status).toBe(303);
}

/** A mandate set up on the sandbox with a card: its payment token. */
async function mandateToken(card: string): Promise<string> {
  const input = checkout();
  const session = await vp.createCheckout!(input, ctx());
  await pay(session.redirectUrl, card);
  const result = await vp.lookup!({ kind: 'hosted', merchantReference: input.merchantReference, providerReference: session.providerReference, amount: input.amount, expiresAt: session.expiresAt, startedAt: new Date(), customerId: customer.id, mandate: input.mandate }, ctx());
  expect(result.status).toBe('succeeded');
  return result.token!.value;
}

const charge = (token: string, amountCents = 37_900, merchantReference = ref()) =>
  vp.chargeToken!({ merchantReference, amount: { amountCents, currency: 'ZAR' }, token, agreementReference: null, description: 'Purchase 43', customer, mediumType: 'CreditCard', notificationUrl: null }, ctx());
const repeat = (token: string, merchantReference: string, amountCents = 37_900) =>
  vp.lookup!({ kind: 'token', merchantReference, providerReference: null, amount: { amountCents, currency: 'ZAR' }, token, expiresAt: null, startedAt: new Date(), customerId: customer.id, mediumType: 'CreditCard' }, ctx());

describe('VodaPay mandate pages', () => {
  it('initiates /V2/Pay/Recurring with the mandate: the customer goes to the initiation URL, and a repeat says the page is still open', async () => {
    const input = checkout();
    const session = await vp.createCheckout!(input, ctx());
    expect(session.redirectUrl).toMatch(new RegExp(`^${h.baseUrl}/sandbox/vodapay-pay/pay\\?sessionId=[0-9a-f-]{36}$`));
    expect(session.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 60_000);
    const open = await vp.lookup!({ kind: 'hosted', merchantReference: input.merchantReference, providerReference: session.providerReference, amount: input.amount, expiresAt: session.expiresAt, startedAt: new Date(), customerId: customer.id, mandate: input.mandate }, ctx());
    expect(open.status).toBe('pending');

    await pay(session.redirectUrl, '4242424242424242');
    const paid = await vp.lookup!({ kind: 'hosted', merchantReference: input.merchantReference, providerReference: session.providerReference, amount: input.amount, expiresAt: session.expiresAt, startedAt: new Date(), customerId: customer.id, mandate: input.mandate }, ctx());
    expect(paid).toMatchObject({ status: 'succeeded', amount: { amountCents: 13_897 } });
    // The token is described by Token/List: the card's last four digits and expiry, the name on it.
    expect(paid.token).toMatchObject({ mediumType: 'CreditCard', accountName: 'T Mokoena', accountNumber: '4242', expiryMonth: 12, expiryYear: 2030 });
    expect(paid.token!.value).toMatch(/^[1-9][0-9]{18}$/);
    expect(JSON.stringify(paid.raw)).not.toContain(paid.token!.value);
  });

  it('a page declined or cancelled fails the attempt', async () => {
    const input = checkout();
    const session = await vp.createCheckout!(input, ctx());
    await pay(session.redirectUrl, '4000000000000002');
    const declined = await vp.lookup!({ kind: 'hosted', merchantReference: input.merchantReference, providerReference: null, amount: input.amount, expiresAt: null, startedAt: new Date(), customerId: customer.id, mandate: input.mandate }, ctx());
    expect(declined).toMatchObject({ status: 'failed', failure: { code: '05', kind: 'declined' } });
  });

  it('refuses to start a page VodaPay would refuse, naming the field: a first payment in the past, a day that is not one, no mandate at all', async () => {
    const refusal = async (input: CheckoutInput) => {
      const err = await vp.createCheckout!(input, ctx()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      return (err as ConnectorError).message;
    };
    expect(await refusal(checkout({ mandate: mandate({ firstPaymentDate: '2020-01-01' }) }))).toMatch(/firstPaymentDate/);
    expect(await refusal(checkout({ mandate: mandate({ day: 32 }) }))).toMatch(/regularPaymentDay/);
    expect(await refusal(checkout({ mandate: null }))).toMatch(/mandate/);
    expect(await refusal(checkout({ returnUrl: `${h.baseUrl}/callbacks/vodapay/return?url=${'x'.repeat(300)}` }))).toMatch(/255/);
  });

  it('a wrong api-key is a configuration error, not a decline', async () => {
    const wrong = { ...settings(), credentials: { api_key: { reveal: () => '00000000-0000-0000-0000-000000000000' } as never } };
    const err = await vp.createCheckout!(checkout(), ctx({ settings: wrong })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider.misconfigured' });
  });
});

describe('VodaPay collections (SubmitRecurring)', () => {
  it('approves, declines, refuses for funds, and refuses more than the mandate allows — each mapped', async () => {
    const good = await mandateToken('4242424242424242');
    expect(await charge(good)).toMatchObject({ status: 'succeeded', amount: { amountCents: 37_900 } });
    expect(await charge(good, 40_000)).toMatchObject({ status: 'failed', failure: { code: 'D2', kind: 'invalid' } });
    expect(await charge('1234567890123456789')).toMatchObject({ status: 'failed', failure: { code: '56', kind: 'invalid' } });
  });

  it('a partial approval (10) is never the attempt’s success: not on the page, not in a collection', async () => {
    const input = checkout();
    const session = await vp.createCheckout!(input, ctx());
    await pay(session.redirectUrl, '4000000000000010');
    const page = await vp.lookup!({ kind: 'hosted', merchantReference: input.merchantReference, providerReference: null, amount: input.amount, expiresAt: null, startedAt: new Date(), customerId: customer.id, mandate: input.mandate }, ctx());
    expect(page.status).toBe('unknown');
    // The page did leave a token (VodaPay's, read from the sandbox's own table): its collections are partial too.
    const [row] = await h.ctx.database.query<{ payment_token: string }>('SELECT payment_token FROM sandbox.vodapay_mandates WHERE trace_id = $1', [input.merchantReference]);
    const result = await charge(row!.payment_token, 10_000);
    expect(result.status).toBe('unknown');
  });

  it('a lost answer is unknown; repeating the same traceId answers the original, and a changed amount is not taken for it', async () => {
    const lost = await mandateToken('4000000000000119');
    const reference = ref();
    const first = await charge(lost, 37_900, reference);
    expect(first.status).toBe('unknown');
    const again = await repeat(lost, reference);
    expect(again).toMatchObject({ status: 'succeeded', amount: { amountCents: 37_900 } });
    const ledger = (await (await fetch(`${h.baseUrl}/sandbox/vodapay/transactions?merchant_reference=${reference}`)).json()) as { items: { status: string }[] };
    expect(ledger.items.map((i) => i.status)).toEqual(['approved']);
    await expect(repeat(lost, reference, 100)).rejects.toThrow(/D3/);
  });

  it('a gateway that answers every repeat as a duplicate (26) gives no verdict: the look-up fails and waits for the notification', async () => {
    const token = await mandateToken('4242424242424242');
    const reference = ref();
    expect((await charge(token, 37_900, reference)).status).toBe('succeeded');
    await fetch(`${h.baseUrl}/sandbox/vodapay/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repeat_answer: 'duplicate' }) });
    try {
      await expect(repeat(token, reference)).rejects.toThrow(/26/);
    } finally {
      await fetch(`${h.baseUrl}/sandbox/vodapay/behaviour`, { method: 'DELETE' });
    }
  });

  it('cancels a mandate at VodaPay: collections with it are refused after, and cancelling again is harmless', async () => {
    const token = await mandateToken('4242424242424242');
    await vp.cancelToken!({ token, reference: ref(), customerId: customer.id }, ctx());
    expect(await charge(token)).toMatchObject({ status: 'failed', failure: { code: '56' } });
    await vp.cancelToken!({ token, reference: ref(), customerId: customer.id }, ctx());
  });

  it('an unreachable gateway charged nothing', async () => {
    const dead = { ...settings(), baseUrl: 'http://127.0.0.1:9' };
    const sent = vp.chargeToken!({ merchantReference: ref(), amount: { amountCents: 100, currency: 'ZAR' }, token: '1234567890123456789', agreementReference: null, description: 'x', customer }, ctx({ settings: dead }));
    await expect(sent).rejects.toMatchObject({ code: 'provider.unavailable' });
  });
});

describe('VodaPay notifications', () => {
  const request = (body: string, signature: string | null): InboundRequest => ({
    channel: 'webhook',
    method: 'POST',
    path: '/callbacks/vodapay/notify',
    query: {},
    headers: signature ? { 'x-vodapay-signature': signature } : {},
    rawBody: body,
    remoteAddress: '127.0.0.1',
    url: `${h.baseUrl}/callbacks/vodapay/notify`,
  });
  const body = JSON.stringify({ traceId: 'P0123456789ABCDE', transactionId: crypto.randomUUID(), sessionId: crypto.randomUUID(), echoData: null, responseCode: '00', responseMessage: 'Approved', amount: 37_900, paymentToken: '1234567890123456789', card: { bin: '424242', last4: '4242', expiryMonth: 12, expiryYear: 2030 }, transmissionDateTime: '2027-01-15T10:00:00+0200', retrievalReferenceNumber: '000000000001', kind: 'Recurring' });
  const sign = (text: string, key: string) => createHmac('sha256', key).update(text).digest('hex');

  it('believes a body signed with the api-key, and nothing else', async () => {
    const ok = await vp.verifyCallback!(request(body, sign(body, VODAPAY_SANDBOX_CREDENTIALS.apiKey)), ctx());
    expect(ok).toMatchObject({ ok: true, callback: { merchantReference: 'P0123456789ABCDE', result: { status: 'succeeded', amount: { amountCents: 37_900 }, token: { accountNumber: '4242', expiryMonth: 12 } } } });
    for (const forged of [request(body, null), request(body, sign(body, 'another-key')), request(body.replace('37900', '1'), sign(body, VODAPAY_SANDBOX_CREDENTIALS.apiKey)), request(body, 'zz')]) {
      expect(await vp.verifyCallback!(forged, ctx())).toMatchObject({ ok: false });
    }
  });

  it('reads the browser’s callback only for which attempt to ask about', async () => {
    const data = Buffer.from(JSON.stringify({ responseCode: '00', traceId: 'P0123456789ABCDE', transactionId: 't-1' })).toString('base64');
    const verdict = await vp.verifyCallback!({ ...request('', null), channel: 'redirect', method: 'GET', query: { data } }, ctx());
    expect(verdict).toMatchObject({ ok: true, callback: { merchantReference: 'P0123456789ABCDE', result: { status: 'unknown' } } });
    expect(await vp.verifyCallback!({ ...request('', null), channel: 'redirect', method: 'GET', query: { data: 'not base64 json' } }, ctx())).toMatchObject({ ok: false });
  });
});
