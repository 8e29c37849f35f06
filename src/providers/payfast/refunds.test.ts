import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CardOutcome } from '../../../test/helpers/collections.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { sandboxTokens } from '../../db/schema.ts';
import type { HostResolver } from '../../lib/host-resolver.ts';
import { Secret } from '../../lib/secret.ts';
import type { ConnectorContext, ProviderSettings, RefundInput } from '../contract.ts';
import { resolveSettings } from '../settings.ts';
import { payfastConnector as payfast } from './connector.ts';
import { refundReason } from './refund-transformers.ts';

// Refunds over real HTTP against payrail serving the PayFast sandbox (README.md, "Refunds").
const resolveHost: HostResolver = async () => [{ address: '197.97.145.144', family: 4 }];

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
});
afterAll(() => h.close());

const settings = (): ProviderSettings => resolveSettings(payfast.settings, h.ctx.config.providers.payfast, h.ctx.config);
const ctx = (overrides: Partial<ConnectorContext> = {}): ConnectorContext => ({ fetch, clock: () => new Date(), log: h.ctx.log, settings: settings(), timeoutMs: 5_000, resolveHost, ...overrides });
const rand = (cents: number) => ({ amountCents: cents, currency: 'ZAR' as const });
const newRef = () => `P${randomBytes(8).toString('hex').toUpperCase()}`;
const sandbox = () => `${h.baseUrl}/sandbox/payfast`;

interface Row {
  id: string;
  merchant_reference: string | null;
  kind: string;
  status: string;
  amount_cents: number;
  result_description: string;
  details: Record<string, unknown>;
}
async function ledger(merchantReference: string): Promise<Row[]> {
  const res = await fetch(`${sandbox()}/transactions?merchant_reference=${encodeURIComponent(merchantReference)}`);
  return ((await res.json()) as { items: Row[] }).items;
}
const refundRows = async (merchantReference: string) => (await ledger(merchantReference)).filter((r) => r.kind === 'refund');

async function cardToken(outcome: CardOutcome, last4: string): Promise<string> {
  const token = randomUUID();
  await h.ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PayFast', outcome, cardBin: '400000', cardLast4: last4, expiryMonth: 11, expiryYear: 2031, holder: 'Test Holder' });
  return token;
}

/** An approved ad hoc charge: its m_payment_id and pf_payment_id. */
async function paid(cents: number, outcome: CardOutcome = 'approve', last4 = '4242'): Promise<{ ref: string; pf: string }> {
  const ref = newRef();
  const result = await payfast.chargeToken!({ merchantReference: ref, amount: rand(cents), token: await cardToken(outcome, last4), agreementReference: null, description: 'Bundle', customer: { id: 'c', name: 'K Nel', email: null, cellNumber: null } }, ctx());
  const [row] = (await ledger(ref)).filter((r) => r.kind === 'token' && r.status === 'approved');
  expect(row, JSON.stringify(result)).toBeDefined();
  return { ref, pf: row!.id };
}

const input = (p: { ref: string; pf: string | null }, cents: number, original: number, refundReference = `R${randomBytes(6).toString('hex')}`): RefundInput => ({
  refundReference,
  merchantReference: p.ref,
  providerReference: p.pf,
  kind: 'token',
  amount: rand(cents),
  original: rand(original),
  reason: 'Vend declined',
});

describe('PayFast refunds against the sandbox', () => {
  it('refunds a payment in full, as a ledger row of kind refund, and finds it again', async () => {
    const p = await paid(37_900);
    const asked = input(p, 37_900, 37_900);
    const done = await payfast.refund!(asked, ctx());
    expect(done).toMatchObject({ status: 'succeeded', raw: { code: 200, data: { response: { status: 'COMPLETE', payment_id: p.pf, refund_amount: 379 } } } });
    expect(done.providerReference).toMatch(/^[0-9a-f-]{36}$/);
    expect(await refundRows(p.ref)).toEqual([
      expect.objectContaining({ id: done.providerReference, merchant_reference: p.ref, status: 'approved', amount_cents: 37_900, details: expect.objectContaining({ refunded_transaction_id: p.pf, reason: refundReason(asked) }) }),
    ]);
    expect(await payfast.lookupRefund!(asked, ctx())).toMatchObject({ status: 'succeeded', providerReference: done.providerReference });
  });

  it('refunds in parts up to the payment, then refuses: more than is left, and a payment fully refunded', async () => {
    const p = await paid(10_000);
    expect(await payfast.refund!(input(p, 4_000, 10_000), ctx())).toMatchObject({ status: 'succeeded' });
    expect(await payfast.refund!(input(p, 7_000, 10_000), ctx())).toMatchObject({ status: 'failed', failure: { code: 'amount_exceeds_available', message: expect.stringContaining('R60.00') } });
    expect(await payfast.refund!(input(p, 6_000, 10_000), ctx())).toMatchObject({ status: 'succeeded' });
    expect(await payfast.refund!(input(p, 100, 10_000), ctx())).toMatchObject({ status: 'failed', failure: { code: 'already_refunded' } });
    const rows = await refundRows(p.ref);
    expect(rows.map((r) => [r.status, r.amount_cents])).toEqual([['approved', 4_000], ['declined', 7_000], ['approved', 6_000], ['declined', 100]]);
  });

  it('refuses a refund of a payment PayFast does not know; its look-up says not_found', async () => {
    const unknown = input({ ref: newRef(), pf: '1000000001' }, 100, 100);
    expect(await payfast.refund!(unknown, ctx())).toMatchObject({ status: 'failed', failure: { code: 'payment_not_found' } });
    expect(await payfast.lookupRefund!(unknown, ctx())).toMatchObject({ status: 'failed', failure: { code: 'not_found' } });
  });

  it('says not_found only when PayFast shows it has no such refund', async () => {
    const p = await paid(5_000);
    // No refund of this payment at all: 404.
    expect(await payfast.lookupRefund!(input(p, 1_000, 5_000), ctx())).toMatchObject({ status: 'failed', failure: { code: 'not_found' } });
    // Another refund of it, with its reason: not ours.
    await payfast.refund!(input(p, 1_000, 5_000), ctx());
    expect(await payfast.lookupRefund!(input(p, 1_000, 5_000), ctx())).toMatchObject({ status: 'failed', failure: { code: 'not_found' } });
    // A list whose refunds show no reason could hold ours: unknown, never not_found.
    const listing = { code: 200, status: 'success', data: { response: { transactions: [{ id: 'x', amount: 1_000, status: 'COMPLETE' }] } } };
    const stub = (async () => new Response(JSON.stringify(listing))) as unknown as typeof fetch;
    expect(await payfast.lookupRefund!(input(p, 1_000, 5_000), ctx({ fetch: stub }))).toMatchObject({ status: 'unknown' });
  });

  it('a refund whose answer is lost (card …0119) is unknown; its look-up finds it, and it was made once', async () => {
    const p = await paid(20_000, 'lost_response', '0119');
    const asked = input(p, 20_000, 20_000);
    expect(await payfast.refund!(asked, ctx())).toMatchObject({ status: 'unknown', providerReference: null });
    const found = await payfast.lookupRefund!(asked, ctx());
    expect(found.status).toBe('succeeded');
    const rows = await refundRows(p.ref);
    expect(rows).toEqual([expect.objectContaining({ id: found.providerReference, status: 'approved', amount_cents: 20_000 })]);
  });

  it('refunds a repeated request again: PayFast takes no reference for a refund', async () => {
    const p = await paid(3_000);
    const asked = input(p, 1_000, 3_000);
    await payfast.refund!(asked, ctx());
    await payfast.refund!(asked, ctx());
    expect((await refundRows(p.ref)).filter((r) => r.status === 'approved')).toHaveLength(2);
    // The look-up sees both, and says the first (logging the second).
    expect(await payfast.lookupRefund!(asked, ctx())).toMatchObject({ status: 'succeeded' });
  });

  it('wrong credentials are misconfigured; nothing is refunded', async () => {
    const p = await paid(2_000);
    const wrong = ctx({ settings: { ...settings(), credentials: { passphrase: new Secret('not-the-passphrase') } } });
    await expect(payfast.refund!(input(p, 2_000, 2_000), wrong)).rejects.toMatchObject({ kind: 'misconfigured' });
    await expect(payfast.lookupRefund!(input(p, 2_000, 2_000), wrong)).rejects.toMatchObject({ kind: 'misconfigured' });
    expect(await refundRows(p.ref)).toEqual([]);
  });
});

describe('PayFast refund answers, each mapped', () => {
  const asked = input({ ref: 'P1', pf: '1234567890' }, 5_000, 10_000);
  const answering = (status: number, body: unknown) => (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })) as unknown as typeof fetch;
  const record = (over: Record<string, unknown> = {}) => ({ code: 200, status: 'success', data: { response: { id: 'dc0521d3-55fe-269b-fa00-b647310d760f', payment_id: '1234567890', refund_amount: 50, status: 'COMPLETE', ...over } } });

  it('maps success, pending, failure, refusals and what it cannot read', async () => {
    const run = (status: number, body: unknown) => payfast.refund!(asked, ctx({ fetch: answering(status, body) }));
    expect(await run(200, record())).toMatchObject({ status: 'succeeded', providerReference: 'dc0521d3-55fe-269b-fa00-b647310d760f' });
    expect(await run(200, record({ refund_amount: '50.00' }))).toMatchObject({ status: 'succeeded' });
    expect(await run(200, record({ status: 'PENDING' }))).toMatchObject({ status: 'pending' });
    expect(await run(200, record({ status: 'FAILED' }))).toMatchObject({ status: 'failed', failure: { code: 'FAILED' } });
    expect(await run(200, { code: 200, status: 'success', data: { response: true } })).toMatchObject({ status: 'succeeded' });
    // A success for another amount is not believed.
    expect(await run(200, record({ refund_amount: 500 }))).toMatchObject({ status: 'unknown' });
    expect(await run(200, record({ status: 'DONE' }))).toMatchObject({ status: 'unknown' });
    expect(await run(200, '<html>ok</html>')).toMatchObject({ status: 'unknown' });
    expect(await run(500, { code: 500, status: 'error', data: { message: 'Application Error' } })).toMatchObject({ status: 'unknown' });
    expect(await run(400, { code: 400, status: 'failed', data: { response: false, message: 'Refund amount exceeds the amount available for refund (R10.00).' } })).toMatchObject({ status: 'failed', failure: { code: 'amount_exceeds_available' } });
    expect(await run(404, { code: 404, status: 'failed', data: { response: false, message: 'Transaction not found.' } })).toMatchObject({ status: 'failed', failure: { code: 'payment_not_found' } });
    await expect(run(503, { code: 503, status: 'error', data: {} })).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(run(401, { code: 401, status: 'failed', data: { response: false, message: 'Merchant authorisation failed' } })).rejects.toMatchObject({ kind: 'misconfigured' });
  });

  it('a dropped connection is unknown; one never made, or an attempt without a pf_payment_id, sends nothing', async () => {
    const dropped = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    }) as unknown as typeof fetch;
    expect(await payfast.refund!(asked, ctx({ fetch: dropped }))).toMatchObject({ status: 'unknown' });
    expect(await payfast.lookupRefund!(asked, ctx({ fetch: dropped }))).toMatchObject({ status: 'unknown' });
    const refused = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    }) as unknown as typeof fetch;
    await expect(payfast.refund!(asked, ctx({ fetch: refused }))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(payfast.refund!({ ...asked, providerReference: null }, ctx())).rejects.toMatchObject({ kind: 'protocol' });
    await expect(payfast.refund!({ ...asked, amount: rand(20_000) }, ctx())).rejects.toMatchObject({ kind: 'protocol' });
  });

  it('sends the amount in cents and our reference in the reason, signed', async () => {
    const seen: { url: string; body: string }[] = [];
    const stub = (async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), body: String(init?.body) });
      return new Response(JSON.stringify(record()));
    }) as typeof fetch;
    await payfast.refund!(asked, ctx({ fetch: stub }));
    expect(seen[0]!.url).toBe(`${sandbox()}/api/refunds/1234567890`);
    expect(JSON.parse(seen[0]!.body)).toEqual({ amount: 5_000, reason: `Vend declined (${asked.refundReference})`, notify_buyer: 1 });
  });
});
