import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError } from '../../lib/errors.ts';
import type { AttemptResult, CallbackVerdict, ChargeTokenInput, CheckoutInput, Connector, ConnectorContext, HostedSession, InboundRequest, LookupInput } from '../contract.ts';
import { payfastCredentials, type PayFastCredentials } from './credentials.ts';
import { apiSignature, itnParamString, itnSignature, sameSignature } from './signature.ts';
import { adhocRequest, adhocVerdict, itnCallback, paymentLinkForm, queryVerdict, type Verdict } from './transformers.ts';

/**
 * PayFast (seed 000): payment links on the hosted form, ad hoc charges of tokenised cards, card update, ITN
 * callbacks and transaction queries. Talks to `settings.baseUrl` (the built-in sandbox by default).
 */

/** PayFast's hosts, whose addresses may post ITNs. */
const ITN_HOSTS = ['www.payfast.co.za', 'sandbox.payfast.co.za', 'w1w.payfast.co.za', 'w2w.payfast.co.za'];
const DNS_CACHE_MS = 5 * 60_000;
/** Waits before the second and third attempt of an ad hoc charge answered with 503. */
const RETRY_DELAYS_MS = [200, 400];
/** A payment link accepts payment for 24 hours (the sandbox's session lifetime). */
const SESSION_TTL_MS = 24 * 60 * 60_000;

/** The REST API's base: the built-in sandbox's `/api`, PayFast's API host, or `/api` under any other (standalone sandbox) host. */
export function apiBase(settings: ConnectorContext['settings']): string {
  const base = settings.baseUrl.replace(/\/+$/, '');
  if (settings.builtInSandbox) return `${base}/api`;
  const host = new URL(base).hostname;
  if (host === 'sandbox.payfast.co.za') return 'https://api.payfast.co.za';
  if (host === 'www.payfast.co.za' || host === 'payfast.co.za') return 'https://api.payfast.co.za';
  return `${base}/api`;
}
const testingQuery = (settings: ConnectorContext['settings']): string => (!settings.builtInSandbox && new URL(settings.baseUrl).hostname === 'sandbox.payfast.co.za' ? '?testing=true' : '');

type Sent = { kind: 'answer'; status: number; text: string; location: string | null } | { kind: 'not_sent'; error: unknown } | { kind: 'lost'; error: unknown };

/** Errors raised before a single byte of the request left: nothing can have happened at PayFast. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_INVALID_URL', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

function neverSent(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && NOT_SENT.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => neverSent(x, depth + 1))) return true;
  return neverSent(e.cause, depth + 1);
}

/** One HTTP exchange. A request that may have reached PayFast without its answer reaching us is `lost`. */
async function send(ctx: ConnectorContext, url: string, init: RequestInit): Promise<Sent> {
  let response: Response;
  try {
    response = await ctx.fetch(url, { ...init, signal: AbortSignal.timeout(ctx.timeoutMs) });
  } catch (error) {
    return neverSent(error) ? { kind: 'not_sent', error } : { kind: 'lost', error };
  }
  try {
    return { kind: 'answer', status: response.status, text: await response.text(), location: response.headers.get('location') };
  } catch (error) {
    return { kind: 'lost', error };
  }
}

const errorName = (e: unknown): string => (e instanceof Error ? `${e.name}${(e.cause as { code?: string } | undefined)?.code ? ` (${(e.cause as { code: string }).code})` : ''}` : 'error');

/** A signed REST call: headers merchant-id, version, timestamp and signature over headers, query and body fields. */
function apiCall(ctx: ConnectorContext, creds: PayFastCredentials, method: 'GET' | 'POST', path: string, body?: Record<string, string | number>): Promise<Sent> {
  const timestamp = ctx.clock().toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const headerFields = { 'merchant-id': creds.merchantId, version: 'v1', timestamp };
  const bodyFields = Object.fromEntries(Object.entries(body ?? {}).map(([k, v]) => [k, String(v)]));
  const signature = apiSignature({ ...headerFields, ...bodyFields }, creds.passphrase);
  return send(ctx, `${apiBase(ctx.settings)}${path}${testingQuery(ctx.settings)}`, {
    method,
    headers: { ...headerFields, signature, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

function settle(verdict: Verdict, ctx: ConnectorContext, what: string): AttemptResult {
  if (verdict.kind === 'misconfigured') throw new ConnectorError('misconfigured', 'PayFast', verdict.message);
  if (verdict.kind === 'unavailable') throw new ConnectorError('unavailable', 'PayFast', verdict.message);
  if (verdict.mismatch) ctx.log.error({ what, askedCents: verdict.mismatch.askedCents, answered: verdict.mismatch.answered }, 'PayFast answered a success for another amount; left unknown');
  return verdict.result;
}

const lostResult = (ctx: ConnectorContext, what: string, error: unknown): AttemptResult => {
  ctx.log.warn({ what, error: errorName(error) }, 'PayFast request sent but no answer: outcome unknown');
  return { status: 'unknown', providerReference: null, raw: { error: errorName(error) } };
};

/** Addresses of PayFast's ITN hosts, resolved with dns.lookup (all addresses) and kept for a few minutes. */
let senderCache: { until: number; addresses: Set<string> } | null = null;
async function payfastAddresses(now: number): Promise<Set<string>> {
  if (senderCache && senderCache.until > now) return senderCache.addresses;
  const found = await Promise.all(ITN_HOSTS.map((h) => dnsLookup(h, { all: true }).catch(() => [])));
  const addresses = new Set(found.flat().map((a) => a.address));
  if (addresses.size > 0) senderCache = { until: now + DNS_CACHE_MS, addresses };
  return addresses;
}

const plainAddress = (a: string): string => a.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
const isLoopback = (a: string): boolean => a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));

async function senderAllowed(remote: string, ctx: ConnectorContext): Promise<boolean> {
  const address = plainAddress(remote);
  if (ctx.settings.builtInSandbox && isLoopback(address)) return true;
  return (await payfastAddresses(ctx.clock().getTime())).has(address);
}

export const payfastConnector: Connector = {
  id: 'PayFast',
  capabilities: { tokenCharges: ['CreditCard'], hostedCheckout: false, tokenisation: true, paymentLinks: true, cardUpdate: true, statusLookup: true, callbacks: true, offSystem: false, utilityVend: false },
  timing: { firstCheckAfterMs: 30_000, sessionTtlMs: SESSION_TTL_MS },

  async chargeToken(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult> {
    const creds = payfastCredentials(ctx.settings);
    const body = adhocRequest(input);
    const path = `/subscriptions/${encodeURIComponent(input.token)}/adhoc`;
    for (let attempt = 0; ; attempt++) {
      const sent = await apiCall(ctx, creds, 'POST', path, { ...body });
      if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', 'PayFast', `PayFast could not be reached (${errorName(sent.error)}); nothing was charged.`);
      if (sent.kind === 'lost') return lostResult(ctx, 'adhoc', sent.error);
      // 503: PayFast charged nothing. The retry repeats the same m_payment_id, which PayFast approves at most
      // once and answers with the first result if it was approved already: that is what makes it safe.
      const delay = RETRY_DELAYS_MS[attempt];
      if (sent.status === 503 && delay !== undefined) {
        ctx.log.info({ merchantReference: input.merchantReference, attempt: attempt + 1 }, 'PayFast answered 503; retrying the same charge');
        await sleep(delay);
        continue;
      }
      return settle(adhocVerdict(sent.status, sent.text, input.amount.amountCents), ctx, `adhoc ${input.merchantReference}`);
    }
  },

  async createPaymentLink(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession> {
    const form = paymentLinkForm(input, payfastCredentials(ctx.settings));
    const url = `${ctx.settings.baseUrl.replace(/\/+$/, '')}/eng/process`;
    const sent = await send(ctx, url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    // Making a link moves no money, so every failure is an error the caller may retry with a new link.
    if (sent.kind !== 'answer') throw new ConnectorError(sent.kind === 'lost' ? 'timeout' : 'unavailable', 'PayFast', `PayFast's hosted form did not answer (${errorName(sent.error)}).`);
    if (sent.status >= 300 && sent.status < 400 && sent.location) {
      const location = new URL(sent.location, url);
      location.hash = 'cc'; // seed 000's links open on the card tab: …/eng/process/payment/{uuid}#cc
      const providerReference = location.pathname.split('/').filter(Boolean).pop() ?? '';
      return { redirectUrl: location.toString(), providerReference, expiresAt: new Date(ctx.clock().getTime() + SESSION_TTL_MS), raw: { status: sent.status, payment_uuid: providerReference } };
    }
    const reason = (/<p>([^<]*)<\/p>/.exec(sent.text)?.[1] ?? sent.text.slice(0, 200)).trim();
    const kind = sent.status >= 500 ? 'unavailable' : /signature|merchant/i.test(reason) ? 'misconfigured' : 'protocol';
    throw new ConnectorError(kind, 'PayFast', `PayFast refused the payment link (${sent.status}): ${reason}`);
  },

  async lookup(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
    const sent = await apiCall(ctx, payfastCredentials(ctx.settings), 'GET', `/process/query/${encodeURIComponent(input.merchantReference)}`);
    if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', 'PayFast', `PayFast could not be reached (${errorName(sent.error)}).`);
    if (sent.kind === 'lost') return lostResult(ctx, 'query', sent.error);
    return settle(queryVerdict(sent.status, sent.text, input), ctx, `query ${input.merchantReference}`);
  },

  /** PayFast's four ITN checks, in its order; the amount check (|expected − amount_gross| ≤ 0.01) is the caller's. */
  async verifyCallback(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict> {
    if (request.channel !== 'itn') return { ok: false, reason: `PayFast posts ITNs only, not ${request.channel}.` };
    const creds = payfastCredentials(ctx.settings);
    const pairs = [...new URLSearchParams(request.rawBody)];
    const fields = Object.fromEntries(pairs);
    const params = itnParamString(pairs);
    if (!fields.signature || !sameSignature(fields.signature, itnSignature(params, creds.passphrase))) return { ok: false, reason: 'signature: the ITN signature does not match its fields.' };
    if (!(await senderAllowed(request.remoteAddress, ctx))) return { ok: false, reason: `sender: ${request.remoteAddress} is not a PayFast host.` };
    if (fields.merchant_id !== creds.merchantId) return { ok: false, reason: 'merchant_id: the ITN is for another merchant.' };
    const confirmation = await send(ctx, `${ctx.settings.baseUrl.replace(/\/+$/, '')}/eng/query/validate`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params });
    if (confirmation.kind !== 'answer') return { ok: false, reason: `server confirmation: PayFast did not answer (${errorName(confirmation.error)}).` };
    if (confirmation.text.trim() !== 'VALID') return { ok: false, reason: `server confirmation: PayFast answered ${JSON.stringify(confirmation.text.trim().slice(0, 40))}, not VALID.` };
    return itnCallback(fields);
  },

  async cardUpdateUrl(input: { token: string; returnUrl: string }, ctx: ConnectorContext): Promise<string> {
    const url = `${ctx.settings.baseUrl.replace(/\/+$/, '')}/eng/recurring/update/${encodeURIComponent(input.token)}`;
    return input.returnUrl ? `${url}?return=${encodeURIComponent(input.returnUrl)}` : url;
  },
};
