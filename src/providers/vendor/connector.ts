import { ConnectorError } from '../../lib/errors.ts';
import { errorName, exchange, jsonObject, type Exchange } from '../kit/http.ts';
import type { VendAdviceInput, VendAdviceResult, VendorConnector, VendorContext, VendPurchaseResult, VendStatus } from '../vendor-contract.ts';
import { vendorCredentials } from './credentials.ts';
import { adviceRequest, failureOf, meterInfoOf, meterLookupRequest, purchaseRequest, purchaseTotalOf, rawOf, reprintRequest, tokensOf } from './transformers.ts';

const PROVIDER = 'Vendor';

/**
 * The prepaid-utility vendor (seed 003, Electrum's prepaid utility interface v3; PROVIDERS.md). Every call
 * maps to one outcome class: 200/201/202 succeeded; 500, 504, a lost connection or a timeout unknown (a
 * purchase is then retried with `/retry`, same id and body); 400, 501, 503 and anything else failed, with the
 * ErrorDetail's errorType as the code. Nothing sent throws ConnectorError('unavailable'). See README.md.
 */
export const vendorConnector: VendorConnector = {
  id: PROVIDER,
  settings: { key: 'vendor', credentials: ['username', 'password'], hosts: { base: '/sandbox/vendor/prepaidutility/v3' } },
  // PROVIDERS.md: the vendor's client timeout is 60 s; an unknown purchase is retried after that.
  timing: { firstCheckAfterMs: 60_000 },

  async purchase(input, ctx) {
    const sent = await post(ctx, `/tokenPurchases/${encodeURIComponent(input.requestId)}`, purchaseRequest(input, input.sentAt ?? ctx.clock()));
    return vended(ctx, sent, 'purchase', input.requestId, input.amount.amountCents);
  },

  async retryPurchase(input, ctx) {
    const sent = await post(ctx, `/tokenPurchases/${encodeURIComponent(input.requestId)}/retry`, purchaseRequest(input, input.sentAt ?? ctx.clock()));
    return vended(ctx, sent, 'retry', input.requestId, input.amount.amountCents);
  },

  confirm: (input, ctx) => advise(ctx, input, 'confirmation'),
  reverse: (input, ctx) => advise(ctx, input, 'reversal'),

  async lookupMeter(input, ctx) {
    const sent = await post(ctx, `/meterLookups/${encodeURIComponent(input.requestId)}`, meterLookupRequest(input.requestId, input.meterId, ctx.clock()));
    const status = classOf(sent);
    if (sent.kind !== 'answer') return { status, meter: null };
    const body = jsonObject(sent.text);
    if (status === 'succeeded') return body ? { status, meter: meterInfoOf(input.meterId, body) } : { status: 'unknown', meter: null };
    return status === 'failed' ? { status, meter: null, failure: failureOf(sent.status, sent.text) } : { status, meter: null };
  },

  async reprint(input, ctx) {
    const sent = await post(ctx, `/tokenReprints/${encodeURIComponent(input.requestId)}`, reprintRequest(input.requestId, input.meterId, input.originalRequestId, ctx.clock()));
    return vended(ctx, sent, 'reprint', input.requestId, null);
  },
};

/** One POST with HTTP Basic auth. Nothing sent → ConnectorError('unavailable'): nothing happened at the vendor. */
async function post(ctx: VendorContext, path: string, body: unknown): Promise<Exclude<Exchange, { kind: 'not_sent' }>> {
  const { username, password } = vendorCredentials(ctx.settings);
  const sent = await exchange({ ...ctx, resolveHost: async () => [] }, `${ctx.settings.baseUrl.replace(/\/$/, '')}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
    body: JSON.stringify(body),
  });
  if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, `The utility vendor could not be reached; nothing was sent (${errorName(sent.error)}).`);
  return sent;
}

/** The outcome class of a purchase, retry, lookup or reprint (PROVIDERS.md). */
function classOf(sent: Exclude<Exchange, { kind: 'not_sent' }>): VendStatus {
  if (sent.kind === 'lost') return 'unknown';
  if (sent.status >= 200 && sent.status <= 202) return 'succeeded';
  if (sent.status === 500 || sent.status === 504) return 'unknown';
  return 'failed';
}

/** A purchase's, retry's or reprint's answer: its tokens, or why there are none. */
function vended(ctx: VendorContext, sent: Exclude<Exchange, { kind: 'not_sent' }>, doing: 'purchase' | 'retry' | 'reprint', requestId: string, askedCents: number | null): VendPurchaseResult {
  const status = classOf(sent);
  if (sent.kind === 'lost') {
    ctx.log.warn({ requestId, doing, error: errorName(sent.error) }, 'no answer from the utility vendor: the outcome is unknown');
    return { status, tokens: [], raw: { error: `no answer from the vendor (${errorName(sent.error)})` } };
  }
  const body = jsonObject(sent.text);
  const raw = rawOf(sent.status, body);
  if (status === 'succeeded') {
    const tokens = body ? tokensOf(body) : null;
    if (!tokens) {
      ctx.log.error({ requestId, doing, httpStatus: sent.status }, 'the utility vendor answered success with an unreadable PurchaseResponse: the outcome is unknown');
      return { status: 'unknown', tokens: [], raw: { ...raw, error: 'unreadable PurchaseResponse' } };
    }
    const total = body ? purchaseTotalOf(body) : null;
    // Tokens cannot be revoked: a total that differs from what was asked is recorded and reported, not refused.
    const mismatch = askedCents !== null && total !== null && total.amountCents !== askedCents;
    if (mismatch) ctx.log.error({ requestId, asked: askedCents, answered: total.amountCents }, 'the utility vendor vended a different amount than was asked');
    ctx.log.info({ requestId, doing, httpStatus: sent.status, tokens: tokens.length }, 'utility tokens issued');
    return { status, tokens, raw: mismatch ? { ...raw, amount_mismatch: true } : raw };
  }
  ctx.log.warn({ requestId, doing, httpStatus: sent.status, status }, 'the utility vendor did not issue tokens');
  return status === 'failed' ? { status, tokens: [], failure: failureOf(sent.status, sent.text), raw } : { status, tokens: [], raw };
}

/**
 * An advice, store-and-forward (PROVIDERS.md): 2xx succeeded; 4xx and 501 failed (stop resending); 500, 504,
 * a timeout — and any other 5xx — unknown (send it again). A 400 DUPLICATE_RECORD means the vendor already
 * holds this advice id, which is what resending wanted: succeeded (**connector choice**).
 */
async function advise(ctx: VendorContext, input: VendAdviceInput, kind: 'confirmation' | 'reversal'): Promise<VendAdviceResult> {
  const segment = kind === 'confirmation' ? 'confirmations' : 'reversals';
  const sent = await post(ctx, `/tokenPurchases/${encodeURIComponent(input.requestId)}/${segment}/${encodeURIComponent(input.adviceId)}`, adviceRequest(input, kind, input.sentAt ?? ctx.clock()));
  if (sent.kind === 'lost') return { status: 'unknown', raw: { error: `no answer from the vendor (${errorName(sent.error)})` } };
  const body = jsonObject(sent.text);
  const raw = rawOf(sent.status, body);
  let status: VendStatus;
  if (sent.status >= 200 && sent.status < 300) status = 'succeeded';
  else if (sent.status === 400 && body?.errorType === 'DUPLICATE_RECORD') status = 'succeeded';
  else if ((sent.status >= 400 && sent.status < 500) || sent.status === 501) status = 'failed';
  else status = 'unknown';
  ctx.log.info({ adviceId: input.adviceId, requestId: input.requestId, kind, httpStatus: sent.status, status }, 'utility vendor advice sent');
  return { status, raw };
}
