import { randomBytes } from 'node:crypto';
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
  RefundInput,
  RefundResult,
} from '../contract.ts';
import { exchange, isObject, jsonObject, type Exchange } from '../kit/http.ts';
import { peachCredential } from './credentials.ts';
import { lookupRefund, refund } from './refunds.ts';
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
import { authentic, parseCallbackBody } from './webhooks.ts';

const PROVIDER = 'PeachPayments';
const SESSION_TTL_MS = 30 * 60_000;

/**
 * Peach Payments: Hosted Checkout for "Add new payment method" (seed 000), optionally tokenising the card
 * (a registration), and the Payments API on Peach's card host to charge such a registration later. See
 * README.md here for the protocol choices where Peach publishes nothing.
 */
export const peachConnector: Connector = {
  id: PROVIDER,
  // Checkout and the card API are different hosts (testsecure/secure vs sandbox-card/card.peachpayments.com).
  settings: { key: 'peach', credentials: ['entity_id', 'secret_token', 'access_token'], hosts: { base: '/sandbox/peach', card: '/sandbox/peach-card' } },
  capabilities: { tokenCharges: ['CreditCard'], tokenisation: true, defaultFor: ['CreditCard'] },
  callbacks: [
    // Seed 000 gives the browser's return its own path, with the collector in it. Neither settles anything by
    // itself: a signed post (the secret token is the merchant's, and the published sandbox one is public) is
    // only a prompt to ask Peach.
    { channel: 'redirect', path: '/peach-redirect/:collectorId', answer: 'after-verify', settles: 'lookup' },
    { channel: 'webhook', path: '/callbacks/peach/webhook', legacyPaths: ['/peach-payments/webhook'], answer: 'after-verify', notification: true, settles: 'lookup' },
  ],
  timing: {
    firstCheckAfterMs: 60_000,
    sessionTtlMs: SESSION_TTL_MS,
    // Peach calls a checkout "uncertain" when it has not finished 30 minutes after its session: by then it says.
    settleWindowMs: 30 * 60_000,
    // /status and /v1/query are throttled to two requests a minute (Peach's API reference).
    lookupsPerMinute: { hosted: 2, token: 2 },
    // Peach knows a request within its timeout; five minutes is well past it.
    deadlineMs: 5 * 60_000,
  },

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
      ...(input.notificationUrl ? { notificationUrl: input.notificationUrl } : {}),
      defaultPaymentMethod: 'CARD',
      ...(input.tokenise ? { createRegistration: 'true' as const } : {}),
    };
    // Peach takes Redirect-based Checkout as JSON and checks the Referer against the merchant's allowlist.
    const sent = await exchange(ctx, `${host(ctx, 'base')}/checkout/initiate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...referer(input.returnUrl) },
      body: JSON.stringify(withSignature(request, secret)),
    });
    // Initiating a checkout charges nothing, so any failure to get an answer is simply "unavailable".
    if (sent.kind !== 'answer' || sent.status >= 500) {
      throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments could not start a checkout; nothing was charged.', { cause: sent.kind === 'answer' ? undefined : sent.error });
    }
    const answer = (jsonObject(sent.text) ?? {}) as CheckoutInitiateResponse;
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

  /**
   * A merchant-initiated charge of a stored card: `POST /v1/registrations/{id}/payments` on the card host, with
   * the standing instruction Peach wants for card-on-file charges. Sent once: Peach publishes no idempotency on
   * merchantTransactionId, so a request whose answer is lost is `unknown` and looked up, never re-sent.
   */
  async chargeToken(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult> {
    const form = new URLSearchParams({
      entityId: peachCredential(ctx.settings, 'entity_id'),
      amount: formatAmount(input.amount.amountCents),
      currency: input.amount.currency,
      paymentType: 'DB',
      merchantTransactionId: input.merchantReference,
      'standingInstruction.mode': 'REPEATED',
      'standingInstruction.type': 'UNSCHEDULED',
      'standingInstruction.source': 'MIT',
      ...(input.agreementReference ? { 'standingInstruction.initialTransactionId': input.agreementReference } : {}),
    }).toString();
    const headers = { authorization: `Bearer ${peachCredential(ctx.settings, 'access_token')}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const sent = await exchange(ctx, `${host(ctx, 'card')}/v1/registrations/${encodeURIComponent(input.token)}/payments`, { method: 'POST', headers, body: form });
    if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments could not be reached; nothing was charged.', { cause: sent.error });
    if (sent.kind === 'lost') return unknown(ctx, input.merchantReference, 'the charge was sent but no answer came back');
    // 503: Peach did not take the request (its timeout at the acquirer, 900.100.400): nothing was charged.
    if (sent.status === 503) throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments answered 503; nothing was charged.');
    if (sent.status === 401 || sent.status === 403) throw refused(sent.status, resultOf(jsonObject(sent.text)), 'charge a card');
    const json = jsonObject(sent.text);
    const payment = (json ?? {}) as PaymentResponse;
    const code = payment.result?.code;
    // A 4xx that is not Peach's answer (no result): the request was refused unread — a wrong host or path.
    if (sent.status >= 400 && sent.status < 500 && typeof code !== 'string') throw refused(sent.status, undefined, 'charge a card', sent.status === 404 || sent.status === 405 ? 'misconfigured' : 'protocol');
    if (sent.status >= 500 || typeof code !== 'string') return unknown(ctx, input.merchantReference, `HTTP ${sent.status} without a readable result`);
    // Peach refused the request itself (a format or authentication error): nothing was processed.
    if (sent.status >= 400 && classifyResult(code) === 'request_invalid') throw refused(sent.status, payment.result, 'charge a card');
    return logged(ctx, input.merchantReference, judge(paymentOutcome(payment), { amount: input.amount, merchantReference: input.merchantReference }));
  },

  async lookup(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
    if (input.kind === 'hosted') return lookupCheckout(input, ctx);
    if (input.kind === 'token') return lookupPayment(input, ctx);
    throw new ConnectorError('misconfigured', PROVIDER, 'Peach Payments makes no payment links.');
  },

  /**
   * The shopper's redirect and Peach's webhooks: a form or JSON body, signed in the body or by a header HMAC
   * (webhooks.ts). A checkout's result may arrive more than once as it moves on (pending, cancelled, then
   * successful): each distinct result is its own event.
   */
  async verifyCallback(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict> {
    if (request.channel !== 'redirect' && request.channel !== 'webhook') return { ok: false, reason: `Peach Payments sends no ${request.channel} callbacks` };
    const parsed = parseCallbackBody(request);
    if (!parsed.ok) return parsed;
    const fields = parsed.fields;
    const signed = authentic(request, fields, peachCredential(ctx.settings, 'secret_token'));
    if (!signed.ok) return signed;
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

  /** `POST /v1/payments/{paymentId}` on the card host, `paymentType=RF`, under our refund reference (refunds.ts). */
  refund: (input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> => refund(input, ctx),

  /** `GET /v1/query` on the card host by our refund reference (merchantTransactionId) (refunds.ts). */
  lookupRefund: (input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> => lookupRefund(input, ctx),
};

/** `GET /status` on the Checkout host: a signed request, and a signed answer in the redirect's fields. */
async function lookupCheckout(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const checkoutId = input.providerReference;
  // No checkoutId was kept: the checkout was never created, or its page never reached anyone.
  if (!checkoutId) return { status: 'unknown', providerReference: null, absent: true, raw: { reason: 'no checkoutId to ask about' } };
  const secret = peachCredential(ctx.settings, 'secret_token');
  const query = new URLSearchParams(withSignature({ 'authentication.entityId': peachCredential(ctx.settings, 'entity_id'), checkoutId }, secret));
  const answer = answerOf(await exchange(ctx, `${host(ctx, 'base')}/status?${query}`, { method: 'GET', headers: { accept: 'application/json' } }), 'ask for a checkout status');
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
 * `GET /v1/query` by merchantTransactionId on the card host. No payment found stays `unknown`: payrail cannot
 * prove the charge never reached Peach (the janitor's policy decides when to give up).
 */
async function lookupPayment(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const query = new URLSearchParams({ entityId: peachCredential(ctx.settings, 'entity_id'), merchantTransactionId: input.merchantReference });
  const headers = { authorization: `Bearer ${peachCredential(ctx.settings, 'access_token')}`, accept: 'application/json' };
  const answer = answerOf(await exchange(ctx, `${host(ctx, 'card')}/v1/query?${query}`, { method: 'GET', headers }), 'look up a payment');
  const body = (isObject(answer.json) ? answer.json : {}) as QueryResponse;
  const payment = Array.isArray(body.payments) ? pickPayment(body.payments.filter(isObject) as PaymentResponse[]) : undefined;
  // Peach's "cannot find transaction": no payment under our merchantTransactionId.
  if (!payment) return { status: 'unknown', providerReference: input.providerReference, absent: answer.status === 200, raw: { http_status: answer.status, result: body.result ?? null, payments: 0 } };
  return logged(ctx, input.merchantReference, judge(paymentOutcome(payment), { amount: input.amount, merchantReference: input.merchantReference }));
}

/** Look-ups only read: not getting an answer (or being throttled, 429) is "try again later", never a result. */
function answerOf(sent: Exchange, what: string): { status: number; json: unknown } {
  if (sent.kind !== 'answer') throw new ConnectorError('unavailable', PROVIDER, `Peach Payments could not ${what}.`, { cause: sent.error });
  const json = sent.text === '' ? null : (jsonObject(sent.text) ?? null);
  if (sent.status >= 500 || sent.status === 429) throw new ConnectorError('unavailable', PROVIDER, `Peach Payments could not ${what} (${sent.status}).`);
  if (sent.status === 401 || sent.status === 403) throw refused(sent.status, resultOf(json), what);
  return { status: sent.status, json };
}

function refused(status: number, result: { code?: string; description?: string } | undefined, what: string, as?: 'misconfigured' | 'protocol'): ConnectorError {
  const code = result?.code ?? `HTTP ${status}`;
  const kind = as ?? (status === 401 || status === 403 || code.startsWith('800.900') ? 'misconfigured' : 'protocol');
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

/** One of Peach's hosts: `base` (Checkout) or `card` (registrations and their payments). */
const host = (ctx: ConnectorContext, name: 'base' | 'card'): string => (ctx.settings.hosts[name] ?? ctx.settings.baseUrl).replace(/\/+$/, '');

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
