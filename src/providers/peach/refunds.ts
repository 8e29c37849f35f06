import { ConnectorError } from '../../lib/errors.ts';
import type { ConnectorContext, RefundInput, RefundResult } from '../contract.ts';
import { exchange, isObject, jsonObject } from '../kit/http.ts';
import { peachCredential } from './credentials.ts';
import { judgeRefund, judgeRefundQuery, refundForm, type JudgedRefund, type RefundPayment } from './refund-transformers.ts';
import { signatureMatches, withSignature } from './signature.ts';
import { classifyResult, formatAmount } from './transformers.ts';

/**
 * Refunds through Peach's Payments API on the card host (README.md here, "Refunds"): `POST /v1/payments/{id}`
 * with `paymentType=RF` under our refund reference as merchantTransactionId, and `GET /v1/query` by that
 * reference to find it again. Peach publishes no idempotency on merchantTransactionId, so a refund whose answer
 * is lost is never sent again here: it is `unknown` until `lookupRefund` finds it or says it is not there.
 */

const PROVIDER = 'PeachPayments';
const HEX32 = /^[0-9a-f]{32}$/;

const host = (ctx: ConnectorContext, name: 'base' | 'card'): string => (ctx.settings.hosts[name] ?? ctx.settings.baseUrl).replace(/\/+$/, '');
const bearer = (ctx: ConnectorContext) => ({ authorization: `Bearer ${peachCredential(ctx.settings, 'access_token')}`, accept: 'application/json' });
const resultOf = (json: unknown): { code?: string; description?: string } | undefined => (isObject(json) && isObject(json.result) ? (json.result as { code?: string; description?: string }) : undefined);

function refused(status: number, json: unknown, what: string, kind?: 'misconfigured' | 'protocol'): ConnectorError {
  const result = resultOf(json);
  const code = result?.code ?? `HTTP ${status}`;
  return new ConnectorError(kind ?? (status === 401 || status === 403 || code.startsWith('800.900') ? 'misconfigured' : 'protocol'), PROVIDER, `Peach Payments refused to ${what}: ${code}${result?.description ? ` ${result.description}` : ''}; nothing was refunded.`);
}

function logged(ctx: ConnectorContext, input: RefundInput, judged: JudgedRefund): RefundResult {
  if (judged.problem) ctx.log.error({ provider: PROVIDER, refundReference: input.refundReference }, `Peach Payments: ${judged.problem}; left unknown`);
  return judged.result;
}

const unknown = (ctx: ConnectorContext, input: RefundInput, reason: string): RefundResult => {
  ctx.log.warn({ provider: PROVIDER, refundReference: input.refundReference }, `Peach Payments: ${reason}; the refund's outcome is unknown until looked up`);
  return { status: 'unknown', providerReference: null, raw: { reason } };
};

/**
 * The id of the payment to refund. A token charge's providerReference is it. A hosted attempt's is the checkoutId
 * (connector.ts): its payment id is asked of Checkout's signed `/status`. A string is the id; a result is
 * Peach's explicit "no such payment".
 */
async function paymentOf(input: RefundInput, ctx: ConnectorContext): Promise<string | RefundResult> {
  const reference = input.providerReference;
  if (!reference) throw new ConnectorError('protocol', PROVIDER, `Attempt ${input.merchantReference} has no Peach reference to refund by; nothing was refunded.`);
  if (input.kind === 'token') return reference;
  const secret = peachCredential(ctx.settings, 'secret_token');
  const query = new URLSearchParams(withSignature({ 'authentication.entityId': peachCredential(ctx.settings, 'entity_id'), checkoutId: reference }, secret));
  const sent = await exchange(ctx, `${host(ctx, 'base')}/status?${query}`, { method: 'GET', headers: { accept: 'application/json' } });
  if (sent.kind !== 'answer' || sent.status >= 500 || sent.status === 429) throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments did not say which payment the checkout made; nothing was refunded.');
  const json = jsonObject(sent.text);
  if (sent.status === 401 || sent.status === 403) throw refused(sent.status, json, 'show the checkout');
  const notMade = (why: string): RefundResult => ({ status: 'failed', providerReference: null, failure: { code: 'payment_not_found', message: why }, raw: { checkoutId: reference, result: resultOf(json) ?? null } });
  if (sent.status === 404) return notMade('Peach Payments does not know this checkout.');
  const fields = json && Object.values(json).every((v) => typeof v === 'string') ? (json as Record<string, string>) : null;
  if (sent.status !== 200 || !fields || !signatureMatches(fields, secret) || fields.checkoutId !== reference) {
    throw new ConnectorError('protocol', PROVIDER, `Peach Payments' status of checkout ${reference} could not be read or verified; nothing was refunded.`);
  }
  if (classifyResult(fields['result.code']) !== 'success' || !HEX32.test(fields.id ?? '')) return notMade(`The checkout made no successful payment (${fields['result.code'] ?? 'no result'}).`);
  return fields.id!;
}

/** `POST {card}/v1/payments/{paymentId}`, `paymentType=RF`. Sent once. */
export async function refund(input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> {
  if (input.kind === 'link') throw new ConnectorError('misconfigured', PROVIDER, 'Peach Payments makes no payment links.');
  if (!Number.isSafeInteger(input.amount.amountCents) || input.amount.amountCents <= 0 || input.amount.amountCents > input.original.amountCents) {
    throw new ConnectorError('protocol', PROVIDER, `A refund of ${input.amount.amountCents} cents of a payment of ${input.original.amountCents} is not one to send; nothing was refunded.`);
  }
  const payment = await paymentOf(input, ctx);
  if (typeof payment !== 'string') return payment;
  const form = new URLSearchParams(refundForm(input, peachCredential(ctx.settings, 'entity_id'), formatAmount(input.amount.amountCents))).toString();
  const sent = await exchange(ctx, `${host(ctx, 'card')}/v1/payments/${encodeURIComponent(payment)}`, { method: 'POST', headers: { ...bearer(ctx), 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments could not be reached; nothing was refunded.', { cause: sent.error });
  if (sent.kind === 'lost') return unknown(ctx, input, 'the refund was sent but no answer came back');
  // 503: Peach did not take the request (900.100.400 at the acquirer): nothing was refunded.
  if (sent.status === 503) throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments answered 503; nothing was refunded.');
  const json = jsonObject(sent.text);
  if (sent.status === 401 || sent.status === 403) throw refused(sent.status, json, 'refund');
  const code = resultOf(json)?.code;
  // A 4xx that is not Peach's answer (no result): refused unread — a wrong host or path.
  if (sent.status >= 400 && sent.status < 500 && typeof code !== 'string') throw refused(sent.status, json, 'refund', sent.status === 404 || sent.status === 405 ? 'misconfigured' : 'protocol');
  if (sent.status >= 500 || typeof code !== 'string') return unknown(ctx, input, `HTTP ${sent.status} without a readable result`);
  // Peach refused the request itself (a format or authentication error): nothing was processed.
  if (sent.status >= 400 && classifyResult(code) === 'request_invalid') throw refused(sent.status, json, 'refund');
  return logged(ctx, input, judgeRefund(json as RefundPayment, input));
}

/** `GET {card}/v1/query?entityId=…&merchantTransactionId={refundReference}`: our refund, or Peach's "none". */
export async function lookupRefund(input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> {
  const query = new URLSearchParams({ entityId: peachCredential(ctx.settings, 'entity_id'), merchantTransactionId: input.refundReference });
  const sent = await exchange(ctx, `${host(ctx, 'card')}/v1/query?${query}`, { method: 'GET', headers: bearer(ctx) });
  if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, 'Peach Payments could not be reached to look up a refund.', { cause: sent.error });
  if (sent.kind === 'lost') return unknown(ctx, input, 'the refund look-up got no answer');
  const json = jsonObject(sent.text);
  // Throttled (two look-ups a minute) or down: ask again later.
  if (sent.status >= 500 || sent.status === 429) throw new ConnectorError('unavailable', PROVIDER, `Peach Payments could not look up a refund (${sent.status}).`);
  if (sent.status === 401 || sent.status === 403) throw refused(sent.status, json, 'look up a refund');
  const judged = sent.status === 200 && json ? judgeRefundQuery(json, input) : null;
  if (!judged) return { status: 'unknown', providerReference: null, raw: { http_status: sent.status, result: resultOf(json) ?? null } };
  return logged(ctx, input, judged);
}
