import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { ConnectorError } from '../../lib/errors.ts';
import type { AttemptResult, CallbackVerdict, ChargeTokenInput, CheckoutInput, Connector, ConnectorContext, HostedSession, InboundRequest, LookupInput, NewToken } from '../contract.ts';
import { errorName, exchange, isObject, jsonObject, type Exchange } from '../kit/http.ts';
import { vodapayApiKey } from './credentials.ts';
import { cardOfToken, gatewayData, initiation, meaningOf, parseEnvelope, rawOf, resultOf, submission, type GatewayData } from './protocol.ts';

const PROVIDER = 'VodaPay';
/** How long VodaPay's page takes a payment (the sandbox's; VodaPay publishes none). */
const SESSION_TTL_MS = 30 * 60_000;
/** Seed 001 / the OpenAPI: a URL field holds at most 255 characters. */
const MAX_URL = 255;
/** The live host; anything else (UAT, the sandbox) is sent `test: true`. */
const LIVE_HOST = 'api.vodapaygateway.vodacom.co.za';

/**
 * VodaPay Gateway (seed 001, PROVIDERS.md): card mandates. "Add new payment method" on a Recurring service
 * initiates `/V2/Pay/Recurring` — the first payment on VodaPay's page and a monthly mandate for the rest —
 * and each later collection is `/V2/Pay/SubmitRecurring` against the mandate's payment token.
 *
 * VodaPay has no status query. An attempt whose answer was lost is settled by sending the same request
 * again with the same traceId (payrail's merchant reference): the gateway answers the original's result,
 * "in progress" (D4), or "duplicate" (26, no verdict), and never charges a traceId twice. The browser's
 * callback is unsigned: only a prompt to ask. The server notification is signed (payrail's choice, as
 * VodaPay publishes none: HMAC-SHA256 of the body under the api-key) and settles by itself. See README.md.
 */
export const vodapayConnector: Connector = {
  id: PROVIDER,
  settings: { key: 'vodapay', credentials: ['api_key'], hosts: { base: '/sandbox/vodapay' } },
  capabilities: { tokenCharges: ['CreditCard'], tokenisation: true, defaultFor: ['CreditCard'], mandates: true },
  callbacks: [
    // VodaPay sends the browser back with GET callbackUrl?data=<base64 JSON>. Unsigned: it only prompts payrail to ask.
    { channel: 'redirect', method: 'GET', path: '/callbacks/vodapay/return', answer: 'after-verify', settles: 'lookup' },
    { channel: 'webhook', path: '/callbacks/vodapay/notify', answer: 'after-verify', notification: true, settles: 'itself', claimedReference: claimedTrace },
  ],
  // A lost submit is repeated after a minute; a page is asked about (by repeating its initiation) likewise,
  // and the notification usually settles it first. A page opened just before it closes may still be paid
  // for a few minutes after (settle window).
  timing: { firstCheckAfterMs: 60_000, sessionTtlMs: SESSION_TTL_MS, settleWindowMs: 10 * 60_000 },

  async createCheckout(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession> {
    if (!input.mandate) throw new ConnectorError('misconfigured', PROVIDER, 'VodaPay takes card mandates only: the page needs the monthly mandate it sets up.');
    if (input.returnUrl.length > MAX_URL || (input.notificationUrl?.length ?? 0) > MAX_URL) {
      throw new ConnectorError('misconfigured', PROVIDER, `VodaPay takes URLs of at most ${MAX_URL} characters: shorten PAYRAIL_PUBLIC_URL or the return URL.`);
    }
    const sent = await post(ctx, '/V2/Pay/Recurring', initiation(input, input.mandate, { callbackUrl: input.returnUrl, notificationUrl: input.notificationUrl }));
    const data = answered(sent, 'start the payment page');
    if (meaningOf(data.responseCode).is !== 'approved' || !data.initiationUrl) {
      throw new ConnectorError('protocol', PROVIDER, `VodaPay refused the payment page: ${data.responseMessage || 'no reason given'} (${data.responseCode}).`);
    }
    return {
      redirectUrl: data.initiationUrl,
      providerReference: data.transactionId ?? data.sessionId,
      expiresAt: new Date(ctx.clock().getTime() + SESSION_TTL_MS),
      raw: rawOf(data, sent.kind === 'answer' ? sent.status : 0),
    };
  },

  async chargeToken(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult> {
    const sent = await post(ctx, '/V2/Pay/SubmitRecurring', submission({ ...input, customerId: input.customer.id }));
    if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, `VodaPay could not be reached; nothing was charged (${errorName(sent.error)}).`);
    if (sent.kind === 'lost') return { status: 'unknown', providerReference: null, raw: { error: `no answer from VodaPay (${errorName(sent.error)})` } };
    refusedUnprocessed(sent);
    const data = parseEnvelope(sent.text);
    if (!data) return { status: 'unknown', providerReference: null, raw: { http_status: sent.status, error: 'VodaPay answered without a response code' } };
    const meaning = meaningOf(data.responseCode);
    if (meaning.is === 'merchant') throw new ConnectorError('misconfigured', PROVIDER, `VodaPay does not know this merchant's api-key (${data.responseCode}); nothing was charged.`);
    if (meaning.is === 'mismatch' || meaning.is === 'duplicate') ctx.log.error({ traceId: input.merchantReference, code: data.responseCode }, 'VodaPay says a new traceId was seen before: the outcome is unknown');
    return resultOf(data, input.amount, rawOf(data, sent.status));
  },

  async lookup(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
    // No status query: the same request again, with the same traceId, is the question.
    if (input.kind === 'token') {
      if (!input.token) throw new Error('a VodaPay collection is looked up by repeating it, which needs its payment token');
      const sent = await post(ctx, '/V2/Pay/SubmitRecurring', submission({ merchantReference: input.merchantReference, amount: input.amount, token: input.token, customerId: input.customerId ?? null }));
      const data = verdictOf(sent, input);
      return resultOf(data, input.amount, rawOf(data, sent.kind === 'answer' ? sent.status : 0));
    }
    if (input.kind !== 'hosted' || !input.mandate) throw new Error('payrail makes VodaPay attempts only as mandate pages and collections');
    const description = 'Repeat of the mandate payment';
    const sent = await post(ctx, '/V2/Pay/Recurring', initiation({ merchantReference: input.merchantReference, amount: input.amount, description, customer: { id: input.customerId ?? '', name: '', email: null, cellNumber: null } }, input.mandate, {}));
    const data = verdictOf(sent, input);
    const raw = rawOf(data, sent.kind === 'answer' ? sent.status : 0);
    // Accepted again without a token: the page is open (or this repeat opened one nobody was given): nothing paid yet.
    if (meaningOf(data.responseCode).is === 'approved' && !data.paymentToken) return { status: 'pending', providerReference: input.providerReference, raw };
    const result = resultOf(data, input.amount, raw);
    if (result.status !== 'succeeded' || !data.paymentToken) return result;
    return { ...result, token: await describeToken(ctx, data.paymentToken, input.customerId ?? null) };
  },

  async verifyCallback(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict> {
    if (request.channel === 'redirect') return browserReturn(request);
    if (request.channel !== 'webhook') return { ok: false, reason: `VodaPay sends no ${request.channel} callbacks` };
    return notification(request, vodapayApiKey(ctx.settings));
  },

  async cancelToken(input, ctx): Promise<void> {
    const sent = await post(ctx, '/V2/Token/Cancel', { echoData: input.reference, traceId: input.reference, paymentToken: input.token, tokenControlAction: 'Cancel', ...(input.customerId ? { customerId: input.customerId } : {}) });
    const data = answered(sent, 'cancel the mandate');
    // 56: VodaPay holds no such token: there is nothing left to cancel.
    if (meaningOf(data.responseCode).is === 'approved' || data.responseCode === '56') return;
    throw new ConnectorError('protocol', PROVIDER, `VodaPay did not cancel the mandate: ${data.responseMessage || 'no reason given'} (${data.responseCode}).`);
  },
};

/** One POST to the gateway, with its two headers. */
function post(ctx: ConnectorContext, path: string, body: unknown): Promise<Exchange> {
  const base = ctx.settings.baseUrl.replace(/\/$/, '');
  const live = new URL(base).hostname === LIVE_HOST;
  return exchange(ctx, `${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'api-key': vodapayApiKey(ctx.settings), test: live ? 'false' : 'true' },
    body: JSON.stringify(body),
  });
}

/** A request the gateway refused before processing it: credentials, or the gateway being unavailable. Nothing moved. */
function refusedUnprocessed(sent: Extract<Exchange, { kind: 'answer' }>): void {
  if (sent.status === 401 || sent.status === 403) throw new ConnectorError('misconfigured', PROVIDER, `VodaPay refused payrail's api-key (HTTP ${sent.status}); nothing was charged.`);
  if (sent.status === 503) throw new ConnectorError('unavailable', PROVIDER, 'VodaPay is unavailable (HTTP 503); nothing was charged.');
}

/** An answer with a response code, or a ConnectorError saying why there is none (for requests that move no money). */
function answered(sent: Exchange, doing: string): GatewayData {
  if (sent.kind !== 'answer') throw new ConnectorError('unavailable', PROVIDER, `VodaPay did not answer; could not ${doing} (${errorName(sent.error)}).`);
  refusedUnprocessed(sent);
  const data = parseEnvelope(sent.text);
  if (!data) throw new ConnectorError('unavailable', PROVIDER, `VodaPay answered HTTP ${sent.status} without a response code; could not ${doing}.`);
  if (meaningOf(data.responseCode).is === 'merchant') throw new ConnectorError('misconfigured', PROVIDER, `VodaPay does not know this merchant's api-key (${data.responseCode}).`);
  return data;
}

/** A repeat's answer, when it is a verdict; otherwise it throws and the janitor asks again later. */
function verdictOf(sent: Exchange, input: LookupInput): GatewayData {
  if (sent.kind !== 'answer') throw new Error(`VodaPay did not answer the repeat of ${input.merchantReference} (${errorName(sent.error)})`);
  const data = parseEnvelope(sent.text);
  if (!data) throw new Error(`VodaPay answered the repeat of ${input.merchantReference} with HTTP ${sent.status} and no response code`);
  const meaning = meaningOf(data.responseCode);
  if (meaning.is === 'duplicate') throw new Error(`VodaPay answered the repeat of ${input.merchantReference} as a duplicate (26): its notification will say`);
  if (meaning.is === 'mismatch') throw new Error(`VodaPay says the repeat of ${input.merchantReference} differs from the original (D3)`);
  if (meaning.is === 'merchant') throw new ConnectorError('misconfigured', PROVIDER, `VodaPay does not know this merchant's api-key (${data.responseCode}).`);
  if (meaning.is === 'unrecognised') throw new Error(`VodaPay answered the repeat of ${input.merchantReference} with an unknown code ${data.responseCode}`);
  return data;
}

/**
 * The card behind a new payment token, from `/V2/Token/List` (the answers of Recurring name the token but not
 * the card). The mandate is kept whatever this says: without it, the medium just shows no digits.
 */
async function describeToken(ctx: ConnectorContext, token: string, customerId: string | null): Promise<NewToken> {
  const bare: NewToken = { value: token, mediumType: 'CreditCard', accountName: 'VodaPay card', accountNumber: null };
  if (!customerId) return bare;
  const sent = await post(ctx, '/V2/Token/List', { traceId: randomUUID().replaceAll('-', ''), customerId });
  const body = sent.kind === 'answer' ? jsonObject(sent.text) : null;
  const data = body && isObject(body.data) ? body.data : body;
  const entries = data && Array.isArray(data.paymentTokens) ? data.paymentTokens.filter(isObject) : [];
  const entry = entries.find((e) => e.token === token);
  if (!entry) return bare;
  const card = cardOfToken(entry);
  return { ...bare, accountName: card.name ?? 'VodaPay card', accountNumber: card.last4, ...(card.expiryMonth ? { expiryMonth: card.expiryMonth, expiryYear: card.expiryYear } : {}) };
}

/** The browser's return: `data` decoded, trusted for nothing but which attempt to ask about. */
function browserReturn(request: InboundRequest): CallbackVerdict {
  const encoded = request.query.data;
  if (!encoded) return { ok: false, reason: 'the return carries no data' };
  const decoded = jsonObject(Buffer.from(encoded, 'base64').toString('utf8'));
  const data = decoded ? gatewayData(decoded) : null;
  const reference = data?.traceId ?? (decoded && typeof decoded.echoData === 'string' ? decoded.echoData : null);
  if (!data || !reference) return { ok: false, reason: 'the return’s data is not VodaPay’s (no response code or traceId)' };
  return {
    ok: true,
    callback: {
      eventId: `return:${data.transactionId ?? reference}:${data.responseCode}`,
      kind: 'payment',
      merchantReference: reference.slice(0, 100),
      providerReference: data.transactionId,
      // Not believed: the callback settles by asking (settles: 'lookup').
      result: { status: 'unknown', providerReference: data.transactionId, raw: { response_code: data.responseCode } },
      occurredAt: null,
    },
  };
}

/** The signed server notification: its signature checked in constant time, then its result believed. */
function notification(request: InboundRequest, apiKey: string): CallbackVerdict {
  const given = request.headers['x-vodapay-signature'] ?? '';
  const expected = createHmac('sha256', apiKey).update(request.rawBody, 'utf8').digest();
  const signature = /^[0-9a-f]{64}$/i.test(given) ? Buffer.from(given, 'hex') : null;
  if (!signature || !timingSafeEqual(signature, expected)) return { ok: false, reason: 'x-vodapay-signature is missing or does not sign the body' };
  const body = jsonObject(request.rawBody);
  const data = body ? gatewayData(body) : null;
  if (!body || !data || !data.traceId) return { ok: false, reason: 'the notification names no traceId or response code' };
  if (data.amountCents === null) return { ok: false, reason: 'the notification states no amount' };
  const raw = rawOf(data, 200);
  const result = resultOf(data, { amountCents: data.amountCents, currency: 'ZAR' }, raw);
  const card = isObject(body.card) ? body.card : {};
  const last4 = typeof card.last4 === 'string' && /^[0-9]{4}$/.test(card.last4) ? card.last4 : null;
  const month = Number(card.expiryMonth);
  const year = Number(card.expiryYear);
  const token: NewToken | undefined =
    result.status === 'succeeded' && body.kind === 'Recurring' && data.paymentToken
      ? { value: data.paymentToken, mediumType: 'CreditCard', accountName: 'VodaPay card', accountNumber: last4, ...(month >= 1 && month <= 12 && year >= 2000 ? { expiryMonth: month, expiryYear: year } : {}) }
      : undefined;
  const at = typeof body.transmissionDateTime === 'string' ? new Date(body.transmissionDateTime) : null;
  return {
    ok: true,
    callback: {
      eventId: `${data.transactionId ?? data.traceId}:${data.responseCode}`,
      kind: 'payment',
      merchantReference: data.traceId,
      providerReference: data.transactionId,
      result: token ? { ...result, token } : result,
      occurredAt: at && !Number.isNaN(at.getTime()) ? at : null,
    },
  };
}

/** The attempt a notification says it is about, read before it is verified. */
function claimedTrace(rawBody: string): string | null {
  const body = jsonObject(rawBody);
  return body && typeof body.traceId === 'string' ? body.traceId.slice(0, 100) : null;
}
