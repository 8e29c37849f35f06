import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CardOutcome } from '../../../test/helpers/collections.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { sandboxTokens, sandboxTransactions } from '../../db/schema.ts';
import { systemResolver } from '../../lib/host-resolver.ts';
import { Secret } from '../../lib/secret.ts';
import type { ConnectorContext, ProviderSettings, RefundInput } from '../contract.ts';
import { resolveSettings } from '../settings.ts';
import { peachConnector as peach } from './connector.ts';

// Refunds over real HTTP against payrail serving the Peach sandbox (README.md, "Refunds").
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
});
afterAll(() => h.close());

const settings = (): ProviderSettings => resolveSettings(peach.settings, h.ctx.config.providers.peach, h.ctx.config);
const ctx = (overrides: Partial<ConnectorContext> = {}): ConnectorContext => ({ fetch, clock: () => new Date(), log: h.ctx.log, settings: settings(), timeoutMs: 5_000, resolveHost: systemResolver, ...overrides });
const rand = (cents: number) => ({ amountCents: cents, currency: 'ZAR' as const });
const newRef = () => randomBytes(8).toString('hex');
const customer = { id: 'c-1', name: 'Thandi Nkosi', email: null, cellNumber: null };

interface Row {
  id: string;
  merchant_reference: string | null;
  kind: string;
  status: string;
  amount_cents: number;
  result_code: string;
  details: Record<string, unknown>;
}
/** The sandbox's ledger (its own endpoint), every row. */
async function ledger(): Promise<Row[]> {
  return ((await (await fetch(`${h.baseUrl}/sandbox/peach/transactions`)).json()) as { items: Row[] }).items;
}
const refundsOf = async (paymentId: string) => (await ledger()).filter((r) => r.kind === 'refund' && r.details.refunded_transaction_id === paymentId);

/** A registration charged once, approved: its payment id. */
async function charged(cents: number, outcome: CardOutcome = 'approve', last4 = '4242'): Promise<{ ref: string; id: string }> {
  const token = randomBytes(16).toString('hex');
  await h.ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PeachPayments', outcome, cardBin: '400000', cardLast4: last4, expiryMonth: 12, expiryYear: 2034, holder: 'T Nkosi' });
  const ref = newRef();
  await peach.chargeToken!({ merchantReference: ref, amount: rand(cents), token, agreementReference: null, description: 'Auto-recharge', customer }, ctx());
  const [row] = await h.ctx.database.db.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.provider, 'PeachPayments'), eq(sandboxTransactions.merchantReference, ref), eq(sandboxTransactions.status, 'approved')));
  expect(row).toBeDefined();
  return { ref, id: row!.id };
}

const input = (p: { ref: string; id: string | null }, cents: number, original: number, kind: RefundInput['kind'] = 'token'): RefundInput => ({
  refundReference: `R${randomBytes(8).toString('hex').toUpperCase()}`,
  merchantReference: p.ref,
  providerReference: p.id,
  kind,
  amount: rand(cents),
  original: rand(original),
  reason: 'Vend declined',
});

describe('Peach refunds against the sandbox', () => {
  it('refunds a registration payment in full: an RF payment under our reference, a ledger row, found again', async () => {
    const p = await charged(29_900);
    const asked = input(p, 29_900, 29_900);
    const done = await peach.refund!(asked, ctx());
    expect(done).toMatchObject({ status: 'succeeded', raw: { paymentType: 'RF', referencedId: p.id, merchantTransactionId: asked.refundReference, amount: '299.00', result: { code: '000.100.110' } } });
    expect(done.providerReference).toMatch(/^[0-9a-f]{32}$/);
    expect(await refundsOf(p.id)).toEqual([expect.objectContaining({ id: done.providerReference, merchant_reference: asked.refundReference, status: 'approved', amount_cents: 29_900, details: expect.objectContaining({ refunded_transaction_id: p.id, reason: null }) })]);
    expect(await peach.lookupRefund!(asked, ctx())).toMatchObject({ status: 'succeeded', providerReference: done.providerReference });
  });

  it('refunds a checkout payment, found by its checkoutId', async () => {
    const ref = newRef();
    const session = await peach.createCheckout!(
      { merchantReference: ref, amount: rand(37_900), description: 'Bundle', customer, returnUrl: `${h.baseUrl}/peach-redirect/c?url=https://app.example/x/1`, cancelUrl: `${h.baseUrl}/peach-redirect/c?url=https://app.example/x/0`, notificationUrl: null, tokenise: false },
      ctx(),
    );
    const form = new URLSearchParams({ card_number: '4242424242424242', expiry: '12/34', cvv: '123', holder: 'T Nkosi' });
    expect((await fetch(session.redirectUrl, { method: 'POST', body: form, redirect: 'manual' })).status).toBe(200);
    const done = await peach.refund!(input({ ref, id: session.providerReference }, 10_000, 37_900, 'hosted'), ctx());
    expect(done).toMatchObject({ status: 'succeeded', raw: { paymentType: 'RF', amount: '100.00' } });
    // A checkout nobody paid made no payment: nothing to refund.
    const unpaid = await peach.createCheckout!({ merchantReference: newRef(), amount: rand(100), description: 'x', customer, returnUrl: 'https://app.example/r', cancelUrl: 'https://app.example/c', notificationUrl: null, tokenise: false }, ctx());
    expect(await peach.refund!(input({ ref, id: unpaid.providerReference }, 100, 100, 'hosted'), ctx())).toMatchObject({ status: 'failed', failure: { code: 'payment_not_found' } });
  });

  it('refunds in parts up to the payment, then refuses with 700.400.200', async () => {
    const p = await charged(10_000);
    expect(await peach.refund!(input(p, 4_000, 10_000), ctx())).toMatchObject({ status: 'succeeded' });
    const over = input(p, 7_000, 10_000);
    expect(await peach.refund!(over, ctx())).toMatchObject({ status: 'failed', failure: { code: '700.400.200' } });
    // A refused refund is on record: its look-up says failed, not "not found" (nothing to send again).
    expect(await peach.lookupRefund!(over, ctx())).toMatchObject({ status: 'failed', failure: { code: '700.400.200' } });
    expect(await peach.refund!(input(p, 6_000, 10_000), ctx())).toMatchObject({ status: 'succeeded' });
    expect(await peach.refund!(input(p, 1, 10_000), ctx())).toMatchObject({ status: 'failed', failure: { code: '700.400.200' } });
    expect((await refundsOf(p.id)).map((r) => [r.status, r.amount_cents])).toEqual([['approved', 4_000], ['declined', 7_000], ['approved', 6_000], ['declined', 1]]);
  });

  it('refuses a refund of a payment Peach does not know (700.400.580)', async () => {
    const asked = input({ ref: newRef(), id: randomBytes(16).toString('hex') }, 100, 100);
    expect(await peach.refund!(asked, ctx())).toMatchObject({ status: 'failed', failure: { code: '700.400.580' } });
  });

  it('says not_found only when Peach has no refund under the reference', async () => {
    const p = await charged(5_000);
    expect(await peach.lookupRefund!(input(p, 1_000, 5_000), ctx())).toMatchObject({ status: 'failed', failure: { code: 'not_found' } });
    // An answer that is not a list of payments says nothing: unknown.
    const stub = (async () => new Response(JSON.stringify({ result: { code: '000.000.100' } }))) as unknown as typeof fetch;
    expect(await peach.lookupRefund!(input(p, 1_000, 5_000), ctx({ fetch: stub }))).toMatchObject({ status: 'unknown' });
  });

  it('a refund whose answer is lost (card …0119) is unknown; its look-up finds it, made once', async () => {
    const p = await charged(20_000, 'lost_response', '0119');
    const asked = input(p, 20_000, 20_000);
    expect(await peach.refund!(asked, ctx())).toMatchObject({ status: 'unknown', providerReference: null });
    const found = await peach.lookupRefund!(asked, ctx());
    expect(found.status).toBe('succeeded');
    expect(await refundsOf(p.id)).toEqual([expect.objectContaining({ id: found.providerReference, status: 'approved', amount_cents: 20_000 })]);
  });

  it('refunds a repeated merchantTransactionId again: Peach publishes no deduplication', async () => {
    const p = await charged(3_000);
    const asked = input(p, 1_000, 3_000);
    await peach.refund!(asked, ctx());
    await peach.refund!(asked, ctx());
    expect((await refundsOf(p.id)).filter((r) => r.status === 'approved')).toHaveLength(2);
  });

  it('wrong credentials are misconfigured; nothing is refunded', async () => {
    const p = await charged(2_000);
    const wrong = ctx({ settings: { ...settings(), credentials: { access_token: new Secret('bm9wZQ==') } } });
    await expect(peach.refund!(input(p, 2_000, 2_000), wrong)).rejects.toMatchObject({ kind: 'misconfigured' });
    await expect(peach.lookupRefund!(input(p, 2_000, 2_000), wrong)).rejects.toMatchObject({ kind: 'misconfigured' });
    expect(await refundsOf(p.id)).toEqual([]);
  });
});

describe('Peach refund answers, each mapped', () => {
  const asked = input({ ref: 'm1', id: 'ab'.repeat(16) }, 5_000, 10_000);
  const answering = (status: number, body: unknown) => (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })) as unknown as typeof fetch;
  const rf = (code: string, over: Record<string, unknown> = {}) => ({ id: 'cd'.repeat(16), referencedId: 'ab'.repeat(16), paymentType: 'RF', amount: '50.00', currency: 'ZAR', merchantTransactionId: asked.refundReference, result: { code, description: 'x' }, ...over });

  it('maps success, pending, refusals, request errors and what it cannot read', async () => {
    const run = (status: number, body: unknown) => peach.refund!(asked, ctx({ fetch: answering(status, body) }));
    expect(await run(200, rf('000.000.000'))).toMatchObject({ status: 'succeeded', providerReference: 'cd'.repeat(16) });
    expect(await run(200, rf('000.200.000'))).toMatchObject({ status: 'pending' });
    expect(await run(400, rf('700.400.200'))).toMatchObject({ status: 'failed', failure: { code: '700.400.200' } });
    expect(await run(400, rf('800.100.100'))).toMatchObject({ status: 'failed' });
    // A success for another amount, or not a refund, is not believed.
    expect(await run(200, rf('000.100.110', { amount: '500.00' }))).toMatchObject({ status: 'unknown' });
    expect(await run(200, rf('000.100.110', { paymentType: 'DB' }))).toMatchObject({ status: 'unknown' });
    expect(await run(200, rf('999.999.999'))).toMatchObject({ status: 'unknown' });
    expect(await run(200, 'not json')).toMatchObject({ status: 'unknown' });
    expect(await run(502, '')).toMatchObject({ status: 'unknown' });
    await expect(run(503, { result: { code: '900.100.400' } })).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(run(401, { result: { code: '800.900.300' } })).rejects.toMatchObject({ kind: 'misconfigured' });
    await expect(run(400, { result: { code: '200.300.404', description: 'invalid or missing parameter' } })).rejects.toMatchObject({ kind: 'protocol' });
    await expect(run(404, 'Not Found')).rejects.toMatchObject({ kind: 'misconfigured' });
  });

  it('a dropped connection is unknown; a refused one, or no payment to name, sends nothing', async () => {
    const dropped = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    }) as unknown as typeof fetch;
    expect(await peach.refund!(asked, ctx({ fetch: dropped }))).toMatchObject({ status: 'unknown' });
    const refused = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    }) as unknown as typeof fetch;
    await expect(peach.refund!(asked, ctx({ fetch: refused }))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(peach.lookupRefund!(asked, ctx({ fetch: answering(429, { result: { code: '800.120.100' } }) }))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(peach.refund!({ ...asked, providerReference: null }, ctx())).rejects.toMatchObject({ kind: 'protocol' });
  });

  it('sends an RF on the card host, under our reference, with the bearer token', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const stub = (async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), init: init ?? {} });
      return new Response(JSON.stringify(rf('000.100.110')));
    }) as typeof fetch;
    await peach.refund!(asked, ctx({ fetch: stub }));
    expect(seen[0]!.url).toBe(`${h.baseUrl}/sandbox/peach-card/v1/payments/${'ab'.repeat(16)}`);
    expect(Object.fromEntries(new URLSearchParams(String(seen[0]!.init.body)))).toEqual({ entityId: expect.stringMatching(/^[0-9a-f]{32}$/), amount: '50.00', currency: 'ZAR', paymentType: 'RF', merchantTransactionId: asked.refundReference });
    expect((seen[0]!.init.headers as Record<string, string>).authorization).toMatch(/^Bearer /);
  });
});
