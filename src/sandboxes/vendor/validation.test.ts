import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advice, API, AUTH, basic, purchase, startSandbox, type Client } from './test-client.ts';

/**
 * Every message rule of the interface (seed 003, PROVIDERS.md), one row each: a broken rule is refused with
 * the ErrorDetail it earns, and nothing is vended or recorded.
 */
let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterAll(() => c?.close());

type Mutate = (b: Record<string, any>) => void;
const cases: [string, Mutate, number, string, RegExp][] = [
  ['id not a UUID', (b) => (b.id = 'not-a-uuid'), 400, 'FORMAT_ERROR', /id must be a version 4 UUID/],
  ['id a UUID v1', (b) => (b.id = 'c232ab00-9414-11ec-b3c8-9f6bdeced846'), 400, 'FORMAT_ERROR', /version 4 UUID/],
  ['id missing', (b) => delete b.id, 400, 'FORMAT_ERROR', /id is required/],
  ['id differs from the path', (b) => (b.id = randomUUID()), 400, 'FORMAT_ERROR', /differs from the id in the path/],
  ['time missing', (b) => delete b.time, 400, 'FORMAT_ERROR', /time is required/],
  ['time not RFC 3339', (b) => (b.time = '2024-01-01 10:00'), 400, 'FORMAT_ERROR', /RFC 3339/],
  ['originator missing', (b) => delete b.originator, 400, 'FORMAT_ERROR', /originator is required/],
  ['institution missing', (b) => delete b.originator.institution, 400, 'FORMAT_ERROR', /originator.institution is required/],
  ['terminalId 7 chars', (b) => (b.originator.terminalId = 'PAYRAIL'), 400, 'FORMAT_ERROR', /terminalId must be exactly 8/],
  ['terminalId 9 chars', (b) => (b.originator.terminalId = 'PAYRAIL12'), 400, 'FORMAT_ERROR', /terminalId must be exactly 8/],
  ['merchant missing', (b) => delete b.originator.merchant, 400, 'FORMAT_ERROR', /originator.merchant is required/],
  ['merchantType 3 digits', (b) => (b.originator.merchant.merchantType = '490'), 400, 'FORMAT_ERROR', /merchantType must be 4 digits/],
  ['merchantType letters', (b) => (b.originator.merchant.merchantType = '49A0'), 400, 'FORMAT_ERROR', /merchantType must be 4 digits/],
  ['merchantId 14 chars', (b) => (b.originator.merchant.merchantId = 'PAYRAIL0000001'), 400, 'FORMAT_ERROR', /merchantId must be exactly 15/],
  ['merchantName missing', (b) => delete b.originator.merchant.merchantName, 400, 'FORMAT_ERROR', /merchantName is required/],
  ['merchant region 3 chars', (b) => (b.originator.merchant.merchantName.region = 'WCP'), 400, 'FORMAT_ERROR', /region must be at most 2/],
  ['client missing', (b) => delete b.client, 400, 'FORMAT_ERROR', /client is required/],
  ['thirdPartyIdentifiers missing', (b) => delete b.thirdPartyIdentifiers, 400, 'FORMAT_ERROR', /thirdPartyIdentifiers is required/],
  ['thirdPartyIdentifiers not an array', (b) => (b.thirdPartyIdentifiers = {}), 400, 'FORMAT_ERROR', /must be an array/],
  ['thirdPartyIdentifier without institutionId', (b) => delete b.thirdPartyIdentifiers[0].institutionId, 400, 'FORMAT_ERROR', /institutionId is required/],
  ['meter missing', (b) => delete b.meter, 400, 'FORMAT_ERROR', /meter is required/],
  ['meterId 21 chars', (b) => (b.meter.meterId = '1'.repeat(21)), 400, 'FORMAT_ERROR', /meterId must be at most 20/],
  ['meterId with a dash', (b) => (b.meter.meterId = '0123-4567'), 400, 'FORMAT_ERROR', /meterId/],
  ['track2Data wrong length', (b) => (b.meter.track2Data = '123'), 400, 'FORMAT_ERROR', /track2Data/],
  ['purchaseAmount missing', (b) => delete b.purchaseAmount, 400, 'FORMAT_ERROR', /purchaseAmount is required/],
  ['amount in rand with cents', (b) => (b.purchaseAmount.amount = 100.5), 400, 'FORMAT_ERROR', /integer \(minor units/],
  ['amount a string', (b) => (b.purchaseAmount.amount = '10000'), 400, 'FORMAT_ERROR', /integer/],
  ['amount negative', (b) => (b.purchaseAmount.amount = -100), 400, 'FORMAT_ERROR', /negative/],
  ['currency letters', (b) => (b.purchaseAmount.currency = 'ZAR'), 400, 'FORMAT_ERROR', /ISO 4217 numeric/],
  ['currency not the rand', (b) => (b.purchaseAmount.currency = '840'), 400, 'INVALID_AMOUNT', /710/],
  ['msisdn malformed', (b) => (b.msisdn = '12ab'), 400, 'INVALID_MSISDN', /msisdn/],
  ['amount below R10', (b) => (b.purchaseAmount.amount = 999), 400, 'AMOUNT_TOO_LOW', /1000 cents/],
  ['amount above R5000', (b) => (b.purchaseAmount.amount = 500_001), 400, 'AMOUNT_TOO_HIGH', /500000 cents/],
  ['amount 0 (a free token)', (b) => (b.purchaseAmount.amount = 0), 400, 'NO_FREE_UNITS_DUE', /free/],
  ['unknown meter', (b) => (b.meter.meterId = '01234560999'), 400, 'UNKNOWN_METER_ID', /not known/],
  ['empty meter number', (b) => (b.meter.meterId = ''), 400, 'UNKNOWN_METER_ID', /not known/],
];

describe('purchase request rules', () => {
  it.each(cases)('%s', async (_name, mutate, status, errorType, detail) => {
    const body = purchase();
    const pathId = body.id;
    mutate(body);
    const res = await c.api(`/tokenPurchases/${pathId}`, body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ errorType, requestType: 'TOKEN_PURCHASE_REQUEST', id: pathId });
    expect(res.body.detailMessage).toMatch(detail);
    expect(res.body.errorMessage.length).toBeLessThanOrEqual(20);
    expect(Object.keys(res.body).sort()).toEqual(['detailMessage', 'errorMessage', 'errorType', 'id', 'originalId', 'requestType']);
    // A format error moves nothing; the vendor's business refusals are in the ledger as declined.
    const ledger = await c.ledger(pathId);
    expect(ledger.filter((r) => r.status === 'approved')).toEqual([]);
    expect(ledger.length).toBe(errorType === 'FORMAT_ERROR' || errorType === 'INVALID_MSISDN' || errorType === 'INVALID_AMOUNT' ? 0 : 1);
  });

  it('the same rules hold on /retry and /trial', async () => {
    const body = purchase();
    body.originator.terminalId = 'SHORT';
    for (const path of [`/tokenPurchases/${body.id}/retry`, `/tokenPurchases/${body.id}/trial`, `/tokenPurchases/trials/${body.id}`]) {
      const res = await c.api(path, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ errorType: 'FORMAT_ERROR', requestType: path.endsWith('retry') ? 'TOKEN_PURCHASE_RETRY_REQUEST' : 'TOKEN_PURCHASE_REQUEST' });
    }
  });

  it('a path id that is not a UUIDv4 is a FORMAT_ERROR', async () => {
    const res = await c.api('/tokenPurchases/1234', purchase());
    expect(res).toMatchObject({ status: 400, body: { errorType: 'FORMAT_ERROR', id: '1234' } });
  });
});

describe('bad bodies are never a 500', () => {
  const bodies: [string, string, Record<string, string>][] = [
    ['malformed JSON', '{"id": ', { 'content-type': 'application/json' }],
    ['an array', '[]', { 'content-type': 'application/json' }],
    ['a string', '"x"', { 'content-type': 'application/json' }],
    ['empty', '', { 'content-type': 'application/json' }],
    ['not JSON at all', 'id=1', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['text/plain', '{}', { 'content-type': 'text/plain' }],
  ];
  it.each(bodies)('%s → 400 FORMAT_ERROR', async (_name, text, headers) => {
    const id = randomUUID();
    for (const path of [`/tokenPurchases/${id}`, `/tokenPurchases/${id}/retry`, `/meterLookups/${id}`, `/tokenReprints/${id}`, `/tokenPurchases/${id}/confirmations/${randomUUID()}`]) {
      const res = await c.call('POST', `${API}${path}`, text, { ...AUTH, ...headers });
      expect(res.status, `${path}: ${res.text}`).toBe(400);
      expect(res.body.errorType).toBe('FORMAT_ERROR');
    }
  });
});

describe('HTTP Basic auth on every call', () => {
  const wrong: [string, Record<string, string>][] = [
    ['no credentials', {}],
    ['wrong password', { authorization: basic(undefined, 'nope') }],
    ['wrong user', { authorization: basic('someone', undefined) }],
    ['not Basic', { authorization: 'Bearer abc' }],
  ];
  it.each(wrong)('%s → 401 on every resource', async (_name, headers) => {
    const p = purchase();
    for (const path of [`/tokenPurchases/${p.id}`, `/tokenPurchases/${p.id}/retry`, `/tokenPurchases/${p.id}/trial`, `/meterLookups/${p.id}`, `/tokenReprints/${p.id}`, `/tokenPurchases/${p.id}/confirmations/${randomUUID()}`, `/tokenPurchases/${p.id}/reversals/${randomUUID()}`]) {
      const res = await c.api(path, p, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(res.body.errorType).toBe('INVALID_MERCHANT');
    }
    expect(await c.ledger(p.id)).toEqual([]);
  });
});

describe('advice rules', () => {
  it.each([
    ['no reversalReason', (b: Record<string, any>) => delete b.reversalReason, /reversalReason/],
    ['an unknown reversalReason', (b: Record<string, any>) => (b.reversalReason = 'CHANGED_MIND'), /reversalReason/],
    ['requestId differs from the path', (b: Record<string, any>) => (b.requestId = randomUUID()), /requestId .* differs/],
    ['id differs from the path', (b: Record<string, any>) => (b.id = randomUUID()), /id .* differs/],
    ['no time', (b: Record<string, any>) => delete b.time, /time is required/],
    ['no thirdPartyIdentifiers', (b: Record<string, any>) => delete b.thirdPartyIdentifiers, /thirdPartyIdentifiers/],
  ])('a reversal with %s → 400 FORMAT_ERROR', async (_name, mutate, detail) => {
    const requestId = randomUUID();
    const body = advice(requestId, undefined, { reversalReason: 'TIMEOUT' });
    const adviceId = body.id;
    mutate(body);
    const res = await c.api(`/tokenPurchases/${requestId}/reversals/${adviceId}`, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errorType: 'FORMAT_ERROR', requestType: 'REVERSAL_ADVICE', id: adviceId, originalId: requestId });
    expect(res.body.detailMessage).toMatch(detail);
  });
});
