import { ConnectorError } from '../../lib/errors.ts';
import type { HostResolver } from '../../lib/host-resolver.ts';
import type { AttemptResult, CallbackVerdict, ChargeTokenInput, CheckoutInput, Connector, ConnectorContext, HostedSession, InboundRequest, LookupInput, RefundInput, RefundResult } from '../contract.ts';
import { inRanges, isLoopback, plainAddress } from '../kit/addresses.ts';
import { errorName, exchange } from '../kit/http.ts';
import { apiCall } from './api.ts';
import { payfastCredentials, type PayFastCredentials } from './credentials.ts';
import { itnParamString, itnSignature, sameSignature } from './signature.ts';
import { lookupRefund, refund } from './refunds.ts';

export { apiBase } from './api.ts';
import { adhocRequest, adhocVerdict, isPfPaymentId, itnCallback, paymentLinkForm, queryVerdict, type Verdict } from './transformers.ts';

/**
 * PayFast (seed 000): payment links on the hosted form, ad hoc charges of tokenised cards, card update, ITN
 * callbacks and transaction queries, as PayFast really answers them (README.md here, PROVIDERS.md).
 */

/** PayFast's hosts, whose addresses may post ITNs (PayFast's PHP sample), and its published server ranges. */
const ITN_HOSTS = ['www.payfast.co.za', 'sandbox.payfast.co.za', 'w1w.payfast.co.za', 'w2w.payfast.co.za'];
const ITN_RANGES = ['197.97.145.144/28', '41.74.179.192/27', '102.216.36.0/28', '102.216.36.128/28', '144.126.193.139'];
const DNS_CACHE_MS = 5 * 60_000;
/** A payment link accepts payment for 24 hours (the sandbox's session lifetime; PayFast publishes none). */
const SESSION_TTL_MS = 24 * 60 * 60_000;

function settle(verdict: Verdict, ctx: ConnectorContext, what: string): AttemptResult {
  if (verdict.kind === 'misconfigured') throw new ConnectorError('misconfigured', 'PayFast', verdict.message);
  if (verdict.kind === 'unavailable') throw new ConnectorError('unavailable', 'PayFast', verdict.message);
  if (verdict.problem) ctx.log.error({ what }, `PayFast: ${verdict.problem}; left unknown`);
  return verdict.result;
}

const lostResult = (ctx: ConnectorContext, what: string, error: unknown): AttemptResult => {
  ctx.log.warn({ what, error: errorName(error) }, 'PayFast request sent but no answer: outcome unknown');
  return { status: 'unknown', providerReference: null, raw: { error: errorName(error) } };
};

/** Addresses of PayFast's ITN hosts, every address each resolves to, kept for a few minutes (per resolver). */
const senderCache = new WeakMap<HostResolver, { until: number; addresses: Set<string> }>();
async function payfastAddresses(resolve: HostResolver, now: number): Promise<Set<string>> {
  const cached = senderCache.get(resolve);
  if (cached && cached.until > now) return cached.addresses;
  const found = await Promise.all(ITN_HOSTS.map((h) => resolve(h).catch(() => [])));
  const addresses = new Set(found.flat().map((a) => a.address));
  if (addresses.size > 0) senderCache.set(resolve, { until: now + DNS_CACHE_MS, addresses });
  return addresses;
}

/** PayFast's published ranges or its hosts' addresses; this machine too when PayFast is payrail's sandbox. */
async function senderAllowed(remote: string, ctx: ConnectorContext): Promise<boolean> {
  const address = plainAddress(remote);
  if (ctx.settings.sandbox && isLoopback(address)) return true;
  if (inRanges(address, ITN_RANGES)) return true;
  return (await payfastAddresses(ctx.resolveHost, ctx.clock().getTime())).has(address);
}

/** An ITN's signature (over its fields in received order, with the passphrase), its sender and its merchant. */
async function checkItn(request: InboundRequest, ctx: ConnectorContext): Promise<{ ok: true; fields: Record<string, string>; params: string } | { ok: false; reason: string }> {
  if (request.channel !== 'itn') return { ok: false, reason: `PayFast posts ITNs only, not ${request.channel}.` };
  const creds = payfastCredentials(ctx.settings);
  const pairs = [...new URLSearchParams(request.rawBody)];
  // The signature covers the fields before it: one after it, or a field given twice (the later read as its
  // value), would be read without being signed.
  if (pairs.findIndex(([k]) => k === 'signature') < pairs.length - 1) return { ok: false, reason: 'signature: the ITN has fields after its signature, or none.' };
  if (new Set(pairs.map(([k]) => k)).size !== pairs.length) return { ok: false, reason: 'signature: the ITN names a field more than once.' };
  const fields = Object.fromEntries(pairs);
  const params = itnParamString(pairs);
  if (!fields.signature || !sameSignature(fields.signature, itnSignature(params, creds.passphrase))) return { ok: false, reason: 'signature: the ITN signature does not match its fields.' };
  if (!(await senderAllowed(request.remoteAddress, ctx))) return { ok: false, reason: `sender: ${request.remoteAddress} is not a PayFast host.` };
  if (fields.merchant_id !== creds.merchantId) return { ok: false, reason: 'merchant_id: the ITN is for another merchant.' };
  return { ok: true, fields, params };
}

export const payfastConnector: Connector = {
  id: 'PayFast',
  settings: { key: 'payfast', credentials: ['merchant_id', 'merchant_key', 'passphrase'], hosts: { base: '/sandbox/payfast' } },
  capabilities: { tokenCharges: ['CreditCard'], tokenisation: true, defaultFor: ['CreditCard'] },
  // An ITN is confirmed with PayFast's validate service as part of its verification: it settles by itself.
  callbacks: [
    {
      channel: 'itn',
      path: '/callbacks/payfast/itn',
      legacyPaths: ['/payfast-payments/itn'],
      answer: 'first',
      notification: true,
      settles: 'itself',
      claimedReference: (rawBody) => new URLSearchParams(rawBody).get('m_payment_id')?.slice(0, 100) || null,
    },
  ],
  // PayFast retries an ITN at once, after 10 minutes, then with growing gaps: an hour covers a late one on a
  // closed page. Its query cannot find a payment by our m_payment_id, so a token charge it has no record of
  // by token is taken as never sent only once its ITN would have come: at once, or 10 minutes later (20).
  // A charge whose ITN comes later still is a late success.
  timing: { firstCheckAfterMs: 30_000, sessionTtlMs: SESSION_TTL_MS, settleWindowMs: 60 * 60_000, deadlineMs: 20 * 60_000 },

  /**
   * `POST /subscriptions/{token}/adhoc`. Sent once: PayFast publishes no idempotency, so a request whose
   * answer is lost is never sent again; it is `unknown` until the ITN or a query settles it.
   */
  async chargeToken(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult> {
    const sent = await apiCall(ctx, payfastCredentials(ctx.settings), 'POST', `/subscriptions/${encodeURIComponent(input.token)}/adhoc`, { ...adhocRequest(input) });
    if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', 'PayFast', `PayFast could not be reached (${errorName(sent.error)}); nothing was charged.`);
    if (sent.kind === 'lost') return lostResult(ctx, 'adhoc', sent.error);
    return settle(adhocVerdict(sent.status, sent.text, input.amount), ctx, `adhoc ${input.merchantReference}`);
  },

  async createPaymentLink(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession> {
    const form = paymentLinkForm(input, payfastCredentials(ctx.settings));
    const url = `${ctx.settings.baseUrl.replace(/\/+$/, '')}/eng/process`;
    const sent = await exchange(ctx, url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    // Making a link moves no money, so every failure is an error the caller may retry with a new link.
    if (sent.kind !== 'answer') throw new ConnectorError(sent.kind === 'lost' ? 'timeout' : 'unavailable', 'PayFast', `PayFast's hosted form did not answer (${errorName(sent.error)}).`);
    const location = sent.header('location');
    if (sent.status >= 300 && sent.status < 400 && location) {
      const page = new URL(location, url);
      page.hash = 'cc'; // seed 000's links open on the card tab: …/eng/process/payment/{uuid}#cc
      const paymentUuid = page.pathname.split('/').filter(Boolean).pop() ?? '';
      // PayFast names the payment (pf_payment_id) only in its ITN: until then there is nothing to look it up by.
      return { redirectUrl: page.toString(), providerReference: null, expiresAt: new Date(ctx.clock().getTime() + SESSION_TTL_MS), raw: { status: sent.status, payment_uuid: paymentUuid } };
    }
    const reason = (/<p>([^<]*)<\/p>/.exec(sent.text)?.[1] ?? sent.text.slice(0, 200)).trim();
    const kind = sent.status >= 500 ? 'unavailable' : /signature|merchant/i.test(reason) ? 'misconfigured' : 'protocol';
    throw new ConnectorError(kind, 'PayFast', `PayFast refused the payment link (${sent.status}): ${reason}`);
  },

  /**
   * `GET /process/query/{id}`, where id is the pf_payment_id (from the ad hoc answer or an ITN) or, for a
   * token charge whose answer was lost, the token (its latest payment). Never our m_payment_id: PayFast's
   * query does not take it. A page nobody has paid has nothing to ask by: `pending`.
   */
  async lookup(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
    const id = isPfPaymentId(input.providerReference) ? input.providerReference : input.kind === 'token' && input.token ? input.token : null;
    if (id === null) return { status: input.kind === 'token' ? 'unknown' : 'pending', providerReference: input.providerReference, raw: { reason: 'PayFast has not named this payment yet' } };
    const sent = await apiCall(ctx, payfastCredentials(ctx.settings), 'GET', `/process/query/${encodeURIComponent(id)}`);
    if (sent.kind !== 'answer') throw new ConnectorError('unavailable', 'PayFast', `PayFast's query did not answer (${errorName(sent.error)}).`);
    const result = settle(queryVerdict(sent.status, sent.text, input), ctx, `query ${input.merchantReference}`);
    // A pf_payment_id PayFast gave us names a payment it made: not finding it is a lag, never "no such payment".
    if (id !== input.token && result.absent) {
      const { absent: _absent, ...named } = result;
      return named;
    }
    return result;
  },

  /**
   * PayFast's four ITN checks, in its order; the amount check (|expected − amount_gross| ≤ 0.01) is the
   * caller's. A server confirmation that does not answer `VALID` or `INVALID` (an HTML 403, a timeout) is
   * "not validated yet": the ITN is kept and verified again later, and its pf_payment_id is a hint the
   * janitor may query by.
   */
  async verifyCallback(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict> {
    const checked = await checkItn(request, ctx);
    if (!checked.ok) return checked;
    const { fields, params } = checked;
    const hint = fields.m_payment_id && isPfPaymentId(fields.pf_payment_id) ? { merchantReference: fields.m_payment_id, providerReference: fields.pf_payment_id } : undefined;
    const confirmation = await exchange(ctx, `${ctx.settings.baseUrl.replace(/\/+$/, '')}/eng/query/validate`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params });
    if (confirmation.kind !== 'answer') return { ok: false, retry: true, reason: `server confirmation: PayFast did not answer (${errorName(confirmation.error)}).`, ...(hint ? { hint } : {}) };
    const said = confirmation.text.trim();
    if (said === 'INVALID') return { ok: false, reason: 'server confirmation: PayFast answered INVALID.' };
    if (said !== 'VALID' || confirmation.status !== 200) {
      return { ok: false, retry: true, reason: `server confirmation: PayFast answered ${confirmation.status} ${JSON.stringify(said.slice(0, 40))}, not VALID.`, ...(hint ? { hint } : {}) };
    }
    return itnCallback(fields);
  },

  /** The first three of those checks, which need no call to PayFast (the contract's `checkCallback`). */
  async checkCallback(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict> {
    const checked = await checkItn(request, ctx);
    return checked.ok ? itnCallback(checked.fields) : checked;
  },

  async cardUpdateUrl(input: { token: string; returnUrl: string }, ctx: ConnectorContext): Promise<string> {
    const url = `${ctx.settings.baseUrl.replace(/\/+$/, '')}/eng/recurring/update/${encodeURIComponent(input.token)}`;
    return input.returnUrl ? `${url}?return=${encodeURIComponent(input.returnUrl)}` : url;
  },

  /** `POST /refunds/{pf_payment_id}` (refunds.ts). Sent once: PayFast takes no refund reference or idempotency key. */
  refund: (input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> => refund(input, ctx),

  /** `GET /refunds/{pf_payment_id}`: the payment's refunds, ours known by the reference in its reason (refunds.ts). */
  lookupRefund: (input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> => lookupRefund(input, ctx),
};
