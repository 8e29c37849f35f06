import type { RefundInput, RefundResult } from '../contract.ts';
import { classifyResult, parseAmount, pickPayment, safePayment, type PaymentResponse, type ResultClass } from './transformers.ts';

/**
 * Refunds on Peach's Payments API (card host): a refund is a payment of type RF referencing the one refunded
 * (`referencedId`). Its result codes are Peach's own (transformers.ts), plus the workflow refusals of the
 * platform's 700.* group. Pure: no I/O.
 */

/** A refund as the Payments API describes it (`POST /v1/payments/{id}`, `GET /v1/query`). */
export interface RefundPayment extends PaymentResponse {
  referencedId?: string;
}

/** `POST /v1/payments/{paymentId}`, form-encoded: the refund of that payment, under our reference. */
export const refundForm = (input: RefundInput, entityId: string, amount: string): Record<string, string> => ({
  entityId,
  amount,
  currency: input.amount.currency,
  paymentType: 'RF',
  merchantTransactionId: input.refundReference,
});

export type RefundClass = ResultClass | 'refund_refused' | 'payment_not_found';

/**
 * The platform's workflow refusals, tried before Peach's general classes: 700.400.200 "cannot refund (refund
 * volume exceeded or tx reversed or invalid workflow)" — more than is left, or nothing left — and 700.400.580
 * "cannot find transaction" (no such payment to refund).
 */
const REFUND_PATTERNS: readonly [RefundClass, RegExp][] = [
  ['refund_refused', /^700\.(400\.[0127]00|300\.[56]00)/],
  ['payment_not_found', /^700\.400\.580/],
];

export function classifyRefund(code: string | undefined): RefundClass {
  return (typeof code === 'string' ? REFUND_PATTERNS.find(([, re]) => re.test(code))?.[0] : undefined) ?? classifyResult(code);
}

/** Every class, mapped (STYLE 4). Only a success and an explicit refusal or decline are final. */
export const REFUND_STATUS_OF_CLASS = {
  success: 'succeeded',
  success_needs_review: 'unknown',
  pending: 'pending',
  declined: 'failed',
  registration_invalid: 'failed',
  cancelled: 'unknown',
  communication_error: 'unknown',
  request_invalid: 'unknown',
  unrecognised: 'unknown',
  refund_refused: 'failed',
  payment_not_found: 'failed',
} as const satisfies Record<RefundClass, RefundResult['status']>;

export interface JudgedRefund {
  result: RefundResult;
  /** Why a success was not believed: the caller logs it. */
  problem: string | null;
}

/** One refund answer: a success counts only as an RF of the amount and currency asked, under our reference. */
export function judgeRefund(p: RefundPayment, input: RefundInput): JudgedRefund {
  const code = p.result?.code;
  const status = REFUND_STATUS_OF_CLASS[classifyRefund(code)];
  const base = { providerReference: typeof p.id === 'string' && p.id !== '' ? p.id : null, raw: safePayment(p) };
  if (status === 'failed') return { result: { ...base, status, failure: { code: code ?? '', message: p.result?.description ?? code ?? '' } }, problem: null };
  if (status !== 'succeeded') return { result: { ...base, status }, problem: null };
  let problem: string | null = null;
  const cents = parseAmount(p.amount);
  if (cents !== input.amount.amountCents || p.currency !== input.amount.currency) problem = `refund success for ${String(p.amount)} ${String(p.currency)}, ${input.amount.amountCents} cents asked`;
  else if (p.paymentType !== undefined && p.paymentType !== 'RF') problem = `a success of type ${p.paymentType}, not a refund`;
  else if (p.merchantTransactionId !== undefined && p.merchantTransactionId !== input.refundReference) problem = 'refund success for another merchantTransactionId';
  return problem ? { result: { ...base, status: 'unknown' }, problem } : { result: { ...base, status }, problem: null };
}

/**
 * What `GET /v1/query?merchantTransactionId={refundReference}` says of our refund. Peach answering 200 with no
 * RF under our reference (its "cannot find transaction", 700.400.580, or an empty list) is the explicit "no
 * such refund": `not_found`, so the caller may send it again. Null: the answer is not one to judge.
 */
export function judgeRefundQuery(body: { result?: { code?: string }; payments?: unknown }, input: RefundInput): JudgedRefund | null {
  if (!Array.isArray(body.payments)) return null;
  const refunds = (body.payments.filter((p) => typeof p === 'object' && p !== null) as RefundPayment[]).filter((p) => p.paymentType === 'RF');
  if (refunds.length === 0) {
    const code = body.result?.code;
    const saysNone = body.payments.length > 0 || code === undefined || /^(000\.000\.|700\.400\.580)/.test(code);
    return saysNone ? notFound(body) : null;
  }
  const judged = judgeRefund(pickPayment(refunds) as RefundPayment, input);
  const made = refunds.filter((p) => classifyRefund(p.result?.code) === 'success').length;
  return made > 1 && !judged.problem ? { ...judged, problem: `Peach lists ${made} refunds under ${input.refundReference}` } : judged;
}

const notFound = (body: unknown): JudgedRefund => ({
  result: { status: 'failed', providerReference: null, failure: { code: 'not_found', message: 'Peach Payments has no refund under this reference: it was never made.' }, raw: body },
  problem: null,
});
