import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError } from '../../lib/errors.ts';
import type {
  AttemptResult,
  CallbackVerdict,
  ChargeTokenInput,
  CheckoutInput,
  Connector,
  ConnectorContext,
  HostedSession,
  InboundRequest,
  LookupInput,
} from '../contract.ts';
import { peachCredential } from './credentials.ts';
import { signatureMatches, withSignature } from './signature.ts';
import {
  checkoutOutcome,
  classifyResult,
  formatAmount,
  judge,
  paymentOutcome,
  pickPayment,
  type CheckoutFields,
  type CheckoutInitiateRequest,
  type CheckoutInitiateResponse,
  type Judged,
  type PaymentResponse,
  type QueryResponse,
} from './transformers.ts';

const PROVIDER = 'PeachPayments';
const SESSION_TTL_MS = 30 * 60_000;
/** Waits before re-sending a token charge Peach answered 503 to (two more tries in all). */
const RETRY_DELAYS_MS = [200, 400] as const;

/**
 * Peach Payments: Hosted Checkout for "Add new payment method" (seed 000), optionally tokenising the card
 * (a registration), and the Payments API to charge such a registration later. See README.md here for the
 * protocol choices where Peach publishes nothing.
 */
export const peachConnector: Connector = {
  id: PROVIDER,
  capabilities: {
    tokenCharges: ['CreditCard'],
    hostedCheckout: true,
    tokenisation: true,
    paymentLinks: false,
    cardUpdate: false,
    statusLookup: true,
    callbacks: true,
    offSystem: false,
    utilityVend: false,
  },
  timing: { firstCheckAfterMs: 60_000, sessionTtlMs: SESSION_TTL_MS },

  async createCheckout(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession> {
    const secret = peachCredential(ctx.settings, 'secret_token');
    const request: Omit<CheckoutInitiateRequest, 'signature'> = {
      'authentication.entityId': peachCredential(ctx.settings, 'entity_id'),
      merchantTransactionId: input.merchantReference,
      amount: formatAmount(input.amount.amountCents),
      paymentType: 'DB',
      currency: input.amount.currency,
      nonce: randomBytes(16).toString('hex'),
      shopperResultUrl: input.returnUrl,
      cancelUrl: input.cancelUrl,
      notificationUrl: input.notificationUrl,
      defaultPaymentMethod: 'CARD',
      ...(input.tokenise ? { createRegistration: 'true' as const } : {}),
    };
    // Peach takes Redirect-based Checkout as JSON and checks the Referer against the merchant's allowlist.
    const sent = await send(ctx, `${base(ctx)}/checkout/initiate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...referer(input.returnUrl) },
      body: JSON.stringify(withSignature(request, secret)),
    });
    // Initiating a checkout charges nothing, so any failure to get an answer is simply "unavailable".
    if (sent.kind !== 'answer' || sent.status >= 500) {
      throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments could not start a checkout; nothing was charged.', { cause: errorOf(sent) });
    }
    const answer = (isObject(sent.json) ? sent.json : {}) as CheckoutInitiateResponse;
    if (sent.status < 300 && typeof answer.checkoutId === 'string' && answer.checkoutId !== '' && isWebUrl(answer.redirectUrl)) {
      return {
        redirectUrl: answer.redirectUrl,
        providerReference: answer.checkoutId,
        expiresAt: new Date(ctx.clock().getTime() + SESSION_TTL_MS),
        raw: { result: answer.result, checkoutId: answer.checkoutId },
      };
    }
    throw refused(sent.status, answer.result, 'start a checkout');
  },

  async chargeToken(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult> {
    const form = new URLSearchParams({
      entityId: peachCredential(ctx.settings, 'entity_id'),
      amount: formatAmount(input.amount.amountCents),
      currency: input.amount.currency,
      paymentType: 'DB',
      merchantTransactionId: input.merchantReference,
      // A merchant-initiated charge of a card the customer stored earlier (card-on-file).
      'standingInstruction.mode': 'REPEATED',
      'standingInstruction.type': 'UNSCHEDULED',
      'standingInstruction.source': 'MIT',
    }).toString();
    const headers = { authorization: `Bearer ${peachCredential(ctx.settings, 'access_token')}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const url = `${base(ctx)}/v1/registrations/${encodeURIComponent(input.token)}/payments`;
    for (let attempt = 0; ; attempt++) {
      const sent = await send(ctx, url, { method: 'POST', headers, body: form });
      if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments could not be reached; nothing was charged.', { cause: sent.error });
      if (sent.kind === 'no_answer') return unknown(ctx, input.merchantReference, 'the charge was sent but no answer came back');
      if (sent.status === 503) {
        // 503 means Peach did not take the request, so re-sending it is safe — and it is the SAME request
        // (same merchantTransactionId): Peach answers a merchantTransactionId it already approved with that
        // payment instead of charging again, so even a 503 that lied cannot lead to a second charge.
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments answered 503 three times; nothing was charged.');
        await sleep(delay);
        continue;
      }
      if (sent.status === 401 || sent.status === 403) throw refused(sent.status, undefined, 'charge a card');
      const payment = (isObject(sent.json) ? sent.json : {}) as PaymentResponse;
      const code = payment.result?.code;
      if (sent.status >= 500 || typeof code !== 'string') return unknown(ctx, input.merchantReference, `HTTP ${sent.status} without a readable result`);
      // Peach refused the request itself (a format or authentication error): nothing was processed.
      if (sent.status >= 400 && classifyResult(code) === 'request_invalid') throw refused(sent.status, payment.result, 'charge a card');
      return logged(ctx, input.merchantReference, judge(paymentOutcome(payment), { amount: input.amount, merchantReference: input.merchantReference }));
    }
  },

  async lookup(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
    if (input.kind === 'hosted') return lookupCheckout(input, ctx);
    if (input.kind === 'token') return lookupPayment(input, ctx);
    throw new ConnectorError('misconfigured', PROVIDER, 'Peach Payments makes no payment links.');
  },

  async verifyCallback(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict> {
    if (request.channel !== 'redirect' && request.channel !== 'webhook') return { ok: false, reason: `Peach Payments sends no ${request.channel} callbacks` };
    const contentType = Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
    if (contentType !== '' && !contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) return { ok: false, reason: 'not a form post' };
    const pairs = [...new URLSearchParams(request.rawBody)];
    if (new Set(pairs.map(([k]) => k)).size !== pairs.length) return { ok: false, reason: 'a field is repeated' };
    const fields: CheckoutFields = Object.fromEntries(pairs);
    if (!fields.signature) return { ok: false, reason: 'no signature' };
    if (!signatureMatches(fields, peachCredential(ctx.settings, 'secret_token'))) return { ok: false, reason: 'the signature does not match' };
    const checkoutId = fields.checkoutId;
    const code = fields['result.code'];
    if (!checkoutId || !code) return { ok: false, reason: 'checkoutId or result.code is missing' };
    const merchantReference = fields.merchantTransactionId || null;
    const judged = logged(ctx, merchantReference, judge(checkoutOutcome(fields), { amount: null, merchantReference }));
    const occurredAt = fields.timestamp ? new Date(fields.timestamp) : null;
    return {
      ok: true,
      callback: {
        // A payment's id with its result: a repeat of the same news is absorbed, a newer result is not.
        eventId: `${fields.id || checkoutId}:${code}`,
        kind: 'payment',
        merchantReference,
        providerReference: checkoutId,
        result: judged,
        occurredAt: occurredAt && !Number.isNaN(occurredAt.getTime()) ? occurredAt : null,
      },
    };
  },
};

/** `GET /status`: a signed request, and a signed answer in the redirect's fields. */
async function lookupCheckout(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const checkoutId = input.providerReference;
  if (!checkoutId) return { status: 'unknown', providerReference: null, raw: { reason: 'no checkoutId to ask about' } };
  const secret = peachCredential(ctx.settings, 'secret_token');
  const query = new URLSearchParams(withSignature({ 'authentication.entityId': peachCredential(ctx.settings, 'entity_id'), checkoutId }, secret));
  const sent = await send(ctx, `${base(ctx)}/status?${query}`, { method: 'GET', headers: { accept: 'application/json' } });
  const answer = answerOf(sent, 'ask for a checkout status');
  const fields = stringFields(answer.json);
  if (answer.status !== 200 || !fields) return { status: 'unknown', providerReference: checkoutId, raw: { http_status: answer.status, result: resultOf(answer.json) } };
  if (!signatureMatches(fields, secret) || fields.checkoutId !== checkoutId) {
    ctx.log.error({ provider: PROVIDER, merchantReference: input.merchantReference }, 'Peach Payments: a status answer failed verification; the attempt stays unknown');
    return { status: 'unknown', providerReference: checkoutId, raw: { reason: 'status answer failed verification' } };
  }
  const judged = logged(ctx, input.merchantReference, judge(checkoutOutcome(fields), { amount: input.amount, merchantReference: input.merchantReference }));
  return { ...judged, providerReference: checkoutId };
}

/**
 * `GET /v1/query` by merchantTransactionId. No payment found stays `unknown`: payrail cannot prove the
 * charge never reached Peach (the janitor's policy decides when to give up).
 */
async function lookupPayment(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const query = new URLSearchParams({ entityId: peachCredential(ctx.settings, 'entity_id'), merchantTransactionId: input.merchantReference });
  const headers = { authorization: `Bearer ${peachCredential(ctx.settings, 'access_token')}`, accept: 'application/json' };
  const answer = answerOf(await send(ctx, `${base(ctx)}/v1/query?${query}`, { method: 'GET', headers }), 'look up a payment');
  const body = (isObject(answer.json) ? answer.json : {}) as QueryResponse;
  const payment = Array.isArray(body.payments) ? pickPayment(body.payments.filter(isObject) as PaymentResponse[]) : undefined;
  if (!payment) return { status: 'unknown', providerReference: input.providerReference, raw: { http_status: answer.status, result: body.result ?? null, payments: 0 } };
  return logged(ctx, input.merchantReference, judge(paymentOutcome(payment), { amount: input.amount, merchantReference: input.merchantReference }));
}

type Sent = { kind: 'answer'; status: number; json: unknown } | { kind: 'not_sent'; error: unknown } | { kind: 'no_answer'; error: unknown };

/** Connection errors that happen before a byte of the request leaves: nothing can have been done. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_INVALID_URL']);

function neverSent(error: unknown): boolean {
  type E = { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
  for (let e = error as E | undefined, depth = 0; e && typeof e === 'object' && depth < 5; e = e.cause as E | undefined, depth++) {
    if (typeof e.code === 'string' && NOT_SENT.has(e.code)) return true;
    if (e.message === 'bad port') return true; // fetch refuses some ports before connecting
    if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x: E) => typeof x?.code === 'string' && NOT_SENT.has(x.code))) return true;
  }
  return false;
}

/** One HTTP exchange with the provider's timeout; a timeout or a dropped connection is `no_answer`. */
async function send(ctx: ConnectorContext, url: string, init: RequestInit): Promise<Sent> {
  let res: Response;
  try {
    res = await ctx.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(ctx.timeoutMs) });
  } catch (error) {
    return neverSent(error) ? { kind: 'not_sent', error } : { kind: 'no_answer', error };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (error) {
    return { kind: 'no_answer', error };
  }
  try {
    return { kind: 'answer', status: res.status, json: text === '' ? null : JSON.parse(text) };
  } catch {
    return { kind: 'answer', status: res.status, json: null };
  }
}

/** Look-ups only read: not getting an answer is "try again later", never a result. */
function answerOf(sent: Sent, what: string): { status: number; json: unknown } {
  if (sent.kind !== 'answer' || sent.status >= 500) throw new ConnectorError('unavailable', PROVIDER, `Peach Payments could not ${what}.`, { cause: errorOf(sent) });
  if (sent.status === 401 || sent.status === 403) throw refused(sent.status, resultOf(sent.json), what);
  return sent;
}

function refused(status: number, result: { code?: string; description?: string } | undefined, what: string): ConnectorError {
  const code = result?.code ?? `HTTP ${status}`;
  const kind = status === 401 || status === 403 || code.startsWith('800.900') ? 'misconfigured' : 'protocol';
  return new ConnectorError(kind, PROVIDER, `Peach Payments refused to ${what}: ${code}${result?.description ? ` ${result.description}` : ''}.`);
}

function unknown(ctx: ConnectorContext, merchantReference: string, reason: string): AttemptResult {
  ctx.log.warn({ provider: PROVIDER, merchantReference }, `Peach Payments: ${reason}; the outcome is unknown until looked up`);
  return { status: 'unknown', providerReference: null, raw: { reason } };
}

function logged(ctx: ConnectorContext, merchantReference: string | null, judged: Judged): AttemptResult {
  if (judged.problem) ctx.log.error({ provider: PROVIDER, merchantReference, providerReference: judged.result.providerReference }, `Peach Payments: ${judged.problem}; left unknown`);
  return judged.result;
}

const base = (ctx: ConnectorContext): string => ctx.settings.baseUrl.replace(/\/+$/, '');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const errorOf = (sent: Sent): unknown => (sent.kind === 'answer' ? undefined : sent.error);

function resultOf(json: unknown): { code?: string; description?: string } | undefined {
  return isObject(json) && isObject(json.result) ? (json.result as { code?: string; description?: string }) : undefined;
}

/** A flat object of strings (Checkout's signed answers), or null. */
function stringFields(json: unknown): CheckoutFields | null {
  if (!isObject(json)) return null;
  return Object.values(json).every((v) => typeof v === 'string') ? (json as CheckoutFields) : null;
}

function isWebUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function referer(returnUrl: string): Record<string, string> {
  try {
    return { referer: `${new URL(returnUrl).origin}/` };
  } catch {
    return {};
  }
}
