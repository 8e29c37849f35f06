import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { ConnectorError } from '../../lib/errors.ts';
import type { ProviderSettings } from '../contract.ts';
import { resolveSettings } from '../settings.ts';
import type { VendorContext, VendPurchaseInput } from '../vendor-contract.ts';
import { vendorConnector as v } from './connector.ts';

/**
 * The vendor connector against the built-in sandbox over real HTTP: every outcome class of PROVIDERS.md —
 * 201/202 succeeded, 500/504/dropped/timeout unknown, 400/501/503 failed, nothing sent a ConnectorError —
 * for purchases, retries, lookups, reprints and advices.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
});
afterEach(() => fetch(`${h.baseUrl}/sandbox/vendor/behaviour`, { method: 'DELETE' }));
afterAll(() => h?.close());

const settings = (): ProviderSettings => resolveSettings(v.settings, h.ctx.config.providers.vendor, h.ctx.config);
const ctx = (overrides: Partial<VendorContext> = {}): VendorContext => ({ fetch, clock: () => new Date(), log: h.ctx.log, settings: settings(), timeoutMs: 2_000, ...overrides });
const buy = (meterId = '01234567890', amountCents = 10_000): VendPurchaseInput => ({ requestId: randomUUID(), meterId, amount: { amountCents, currency: 'ZAR' }, sentAt: new Date() });
const behave = (settings: Record<string, unknown>) => fetch(`${h.baseUrl}/sandbox/vendor/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings) });
const ledger = async (ref: string) => ((await (await fetch(`${h.baseUrl}/sandbox/vendor/transactions?merchant_reference=${ref}`)).json()) as { items: any[] }).items;
const advices = async (ref: string) => ((await (await fetch(`${h.baseUrl}/sandbox/vendor/advices?request_id=${ref}`)).json()) as { items: any[] }).items;

describe('purchases', () => {
  it('201 → succeeded with the token, units, amount and receipt; raw keeps no token digits', async () => {
    const input = buy();
    const r = await v.purchase(input, ctx());
    expect(r.status).toBe('succeeded');
    expect(r.tokens).toMatchObject([{ tokenType: 'STD', units: '34.7', amount: { amountCents: 10_000, currency: 'ZAR' } }]);
    expect(r.tokens[0]!.token).toMatch(/^[0-9]{20}$/);
    expect(r.tokens[0]!.receiptNumber).toMatch(/^[0-9]{12}$/);
    const raw = JSON.stringify(r.raw);
    expect(raw).not.toContain(r.tokens[0]!.token);
    expect(r.raw).toMatchObject({ http_status: 201, tokens: [{ last4: r.tokens[0]!.token.slice(-4), units: 34.7 }] });
  });

  it('…0408: 504 → unknown; retryPurchase (same id and body) → succeeded with the one token', async () => {
    const input = buy('12340408');
    const lost = await v.purchase(input, ctx());
    expect(lost).toMatchObject({ status: 'unknown', tokens: [] });
    const retried = await v.retryPurchase(input, ctx());
    const again = await v.retryPurchase(input, ctx());
    expect(retried.status).toBe('succeeded');
    expect(again.tokens[0]!.token).toBe(retried.tokens[0]!.token);
    expect(await ledger(input.requestId)).toHaveLength(1);
  });

  it('a dropped connection → unknown', async () => {
    await behave({ lost_response: 'drop' });
    const input = buy('12340408');
    expect(await v.purchase(input, ctx())).toMatchObject({ status: 'unknown', tokens: [] });
    expect((await v.retryPurchase(input, ctx())).status).toBe('succeeded');
  });

  it('no answer within the timeout → unknown', async () => {
    await behave({ lost_response_ms: 1_500 });
    expect(await v.purchase(buy('12340408'), ctx({ timeoutMs: 300 }))).toMatchObject({ status: 'unknown', raw: { error: expect.stringMatching(/TimeoutError|AbortError/) } });
  });

  it.each([
    [500, 'unknown', undefined],
    [504, 'unknown', undefined],
    [501, 'failed', 'FUNCTION_NOT_SUPPORTED'],
    [503, 'failed', 'UPSTREAM_UNAVAILABLE'],
  ])('HTTP %i → %s', async (httpStatus, status, code) => {
    await behave({ purchase_failures: 1, purchase_failure_status: httpStatus });
    const r = await v.purchase(buy(), ctx());
    expect(r.status).toBe(status);
    if (code) expect(r.failure).toMatchObject({ code });
    else expect(r.failure).toBeUndefined();
  });

  it('a 500 that vended nothing: the retry is processed as a new purchase', async () => {
    await behave({ purchase_failures: 1, purchase_failure_status: 500 });
    const input = buy();
    expect((await v.purchase(input, ctx())).status).toBe('unknown');
    expect((await v.retryPurchase(input, ctx())).status).toBe('succeeded');
  });

  it.each([
    ['55550503', 10_000, 'UPSTREAM_UNAVAILABLE'],
    ['01234560999', 10_000, 'UNKNOWN_METER_ID'],
    ['01234567890', 500, 'AMOUNT_TOO_LOW'],
    ['01234567890', 600_000, 'AMOUNT_TOO_HIGH'],
  ])('meter %s, %i cents → failed %s (and the same on a retry)', async (meterId, amountCents, code) => {
    const input = buy(meterId, amountCents);
    const r = await v.purchase(input, ctx());
    expect(r).toMatchObject({ status: 'failed', tokens: [], failure: { code } });
    expect((await v.retryPurchase(input, ctx())).failure?.code).toBe(code);
  });

  it('a reused id is failed DUPLICATE_RECORD (payrail never does this: it retries)', async () => {
    const input = buy();
    await v.purchase(input, ctx());
    expect((await v.purchase(input, ctx())).failure?.code).toBe('DUPLICATE_RECORD');
  });

  it('wrong credentials → failed HTTP 401 (nothing vended)', async () => {
    const wrong = { ...settings(), credentials: { password: { reveal: () => 'wrong' } as never } };
    const input = buy();
    expect(await v.purchase(input, ctx({ settings: wrong }))).toMatchObject({ status: 'failed', failure: { code: 'INVALID_MERCHANT' } });
    expect(await ledger(input.requestId)).toEqual([]);
  });

  it('a refused connection → ConnectorError unavailable', async () => {
    const nowhere = { ...settings(), baseUrl: 'http://127.0.0.1:9/prepaidutility/v3' };
    const err = await v.purchase(buy(), ctx({ settings: nowhere })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'unavailable' });
    await expect(v.confirm({ adviceId: randomUUID(), requestId: randomUUID() }, ctx({ settings: nowhere }))).rejects.toBeInstanceOf(ConnectorError);
  });

  it('outside a sandbox, missing credentials are a configuration error', async () => {
    const real = { ...settings(), sandbox: false, credentials: {} };
    await expect(v.purchase(buy(), ctx({ settings: real }))).rejects.toMatchObject({ kind: 'misconfigured' });
  });

  it('a 2xx whose tokens cannot be read → unknown; an amount other than asked is kept in raw', async () => {
    const fake = (status: number, body: unknown) => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;
    expect((await v.purchase(buy(), ctx({ fetch: fake(201, { tokens: [{ token: '123' }] }) }))).status).toBe('unknown');
    expect((await v.purchase(buy(), ctx({ fetch: fake(201, 'nonsense') }))).status).toBe('unknown');
    const other = await v.purchase(buy(), ctx({ fetch: fake(201, { purchaseTotal: { amount: 1, currency: '710' }, tokens: [{ tokenType: 'STD', token: '1'.repeat(20), units: 1 }] }) }));
    expect(other).toMatchObject({ status: 'succeeded', raw: { amount_mismatch: true } });
    expect((await v.purchase(buy(), ctx({ fetch: fake(418, {}) }))).failure).toMatchObject({ code: 'HTTP_418' });
  });
});

describe('lookups and reprints', () => {
  it('lookupMeter: 201 → the customer and utility; 0999 → failed UNKNOWN_METER_ID', async () => {
    expect(await v.lookupMeter({ requestId: randomUUID(), meterId: '01234567890' }, ctx())).toEqual({
      status: 'succeeded',
      meter: { meterId: '01234567890', customerName: 'Thandi Mokoena', address: '12 Long Street, Cape Town, 8001', utility: 'Sandbox Municipal Electricity' },
    });
    expect(await v.lookupMeter({ requestId: randomUUID(), meterId: '01234560999' }, ctx())).toMatchObject({ status: 'failed', meter: null, failure: { code: 'UNKNOWN_METER_ID' } });
  });

  it('reprint: the last token of the meter, or the one of a purchase; none → failed UNABLE_TO_LOCATE_RECORD', async () => {
    const meterId = `6${Date.now()}`.slice(0, 11);
    const a = buy(meterId);
    const first = await v.purchase(a, ctx());
    const second = await v.purchase(buy(meterId, 2_000), ctx());
    const last = await v.reprint({ requestId: randomUUID(), meterId }, ctx());
    expect(last.status).toBe('succeeded');
    expect(last.tokens[0]!.token).toBe(second.tokens[0]!.token);
    expect((await v.reprint({ requestId: randomUUID(), meterId, originalRequestId: a.requestId }, ctx())).tokens[0]!.token).toBe(first.tokens[0]!.token);
    expect(await v.reprint({ requestId: randomUUID(), meterId: '44443333' }, ctx())).toMatchObject({ status: 'failed', failure: { code: 'UNABLE_TO_LOCATE_RECORD' } });
  });
});

describe('advices', () => {
  it('confirm and reverse: 202 → succeeded; a resend of the same advice (DUPLICATE_RECORD) → succeeded', async () => {
    const input = buy();
    await v.purchase(input, ctx());
    const confirmation = { adviceId: randomUUID(), requestId: input.requestId, sentAt: new Date() };
    expect((await v.confirm(confirmation, ctx())).status).toBe('succeeded');
    expect(await v.confirm(confirmation, ctx())).toMatchObject({ status: 'succeeded', raw: { error_type: 'DUPLICATE_RECORD' } });
    expect((await v.reverse({ adviceId: randomUUID(), requestId: input.requestId, reason: 'CANCELLED' }, ctx())).status).toBe('succeeded');
    expect(await advices(input.requestId)).toMatchObject([
      { kind: 'confirmation', received: 2 },
      { kind: 'reversal', reason: 'CANCELLED' },
    ]);
  });

  it('an advice for an unknown purchase → failed (404: stop resending)', async () => {
    expect((await v.confirm({ adviceId: randomUUID(), requestId: randomUUID() }, ctx())).status).toBe('failed');
  });

  it.each([
    [500, 'unknown'],
    [504, 'unknown'],
    [503, 'unknown'],
    [501, 'failed'],
  ])('HTTP %i → %s; store-and-forward resends until it is taken', async (httpStatus, status) => {
    const input = buy();
    await v.purchase(input, ctx());
    await behave({ advice_failures: 2, advice_failure_status: httpStatus });
    const advice = { adviceId: randomUUID(), requestId: input.requestId, reason: 'TIMEOUT' as const };
    expect((await v.reverse(advice, ctx())).status).toBe(status);
    expect((await v.reverse(advice, ctx())).status).toBe(status);
    expect((await v.reverse(advice, ctx())).status).toBe('succeeded');
    expect(await advices(input.requestId)).toMatchObject([{ kind: 'reversal', reason: 'TIMEOUT', received: 1 }]);
  });

  it('a dropped connection or a timeout → unknown', async () => {
    const slow = (async () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }) as unknown as typeof fetch;
    expect((await v.confirm({ adviceId: randomUUID(), requestId: randomUUID() }, ctx({ fetch: slow }))).status).toBe('unknown');
  });
});
