import type { RefundInput, RefundResult } from '../contract.ts';
import { formatAmount, parseAmount, parseAnswer, type ApiAnswer } from './transformers.ts';

/**
 * PayFast's Refunds API (api.payfast.co.za, README.md here): its wire types and the pure mappings of its answers
 * to ours. No I/O here.
 */

type Failure = NonNullable<RefundResult['failure']>;

export type RefundVerdict =
  | { kind: 'result'; result: RefundResult; problem?: string }
  | { kind: 'misconfigured' | 'unavailable'; message: string };

/** A refund's status as PayFast writes it, mapped (STYLE 4). Anything else is `unknown`. */
export type RefundStatus = 'COMPLETE' | 'PENDING' | 'FAILED';
export const REFUND_STATUS = { COMPLETE: 'succeeded', PENDING: 'pending', FAILED: 'failed' } as const satisfies Record<RefundStatus, RefundResult['status']>;
const isRefundStatus = (s: unknown): s is RefundStatus => typeof s === 'string' && Object.hasOwn(REFUND_STATUS, s);

/** `POST /refunds/{pf_payment_id}`'s JSON body: amount in cents, as the ad hoc charge. */
export interface RefundRequest {
  amount: number;
  reason: string;
  /** PayFast e-mails the buyer about the refund (its SDK's default, 1). */
  notify_buyer: 1;
}

/**
 * PayFast's refund takes no merchant reference, so ours rides in the reason (at most 255 characters), where the
 * refund's record shows it: `Vend declined (R1a2b3c)`. **Connector choice**: lookupRefund finds the refund by it.
 */
export function refundReason(input: Pick<RefundInput, 'reason' | 'refundReference'>): string {
  const tag = ` (${input.refundReference})`;
  const text = input.reason.trim().replace(/\s+/g, ' ') || 'Refund';
  return `${text.slice(0, Math.max(0, 255 - tag.length))}${tag}`;
}

export const refundRequest = (input: RefundInput): RefundRequest => ({ amount: input.amount.amountCents, reason: refundReason(input), notify_buyer: 1 });

const messageOf = (a: ApiAnswer | null): string => (typeof a?.data?.message === 'string' ? a.data.message : '');
const textOf = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : null);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const unknown = (raw: unknown, providerReference: string | null, problem?: string): RefundVerdict => ({ kind: 'result', result: { status: 'unknown', providerReference, raw }, ...(problem ? { problem } : {}) });

/** A rand amount PayFast writes as a JSON number (50, 12.5) or a string ("12.50") → cents; null otherwise. */
export const randCents = (v: unknown): number | null => parseAmount(typeof v === 'number' && Number.isFinite(v) && v >= 0 ? String(v) : v);

/** What a refusal is about, from PayFast's words (it publishes no refund error codes). */
const REFUSALS: [RegExp, string][] = [
  [/fully refunded|already (been )?refunded|nothing (left )?to refund/i, 'already_refunded'],
  [/exceed|available for refund|more than/i, 'amount_exceeds_available'],
  [/not refundable|not available/i, 'not_refundable'],
];
const refusal = (status: number, message: string): Failure =>
  status === 404
    ? { code: 'payment_not_found', message: message || 'PayFast does not know this payment.' }
    : { code: REFUSALS.find(([re]) => re.test(message))?.[1] ?? `http_${status}`, message: message || `PayFast refused the refund (${status}).` };

/**
 * Credentials (401/403) and "not processed" (408, 429, 503) are the caller's errors; another 5xx, or a 2xx that
 * is not PayFast's JSON, leaves the outcome open. Null: a readable answer to judge.
 */
function transport(status: number, answer: ApiAnswer | null, text: string): RefundVerdict | null {
  if (status === 401 || status === 403) return { kind: 'misconfigured', message: `PayFast refused our credentials or signature (${status}${messageOf(answer) ? `: ${messageOf(answer)}` : ''}).` };
  if (status === 408 || status === 429 || status === 503) return { kind: 'unavailable', message: `PayFast answered ${status}; it did not process the refund.` };
  if (status >= 500 || (answer === null && status < 400)) return unknown(answer ?? { http_status: status, body: text.slice(0, 200) }, null);
  return null;
}

/**
 * The answer to `POST /refunds/{pf_payment_id}`. A refund record (`data.response` an object with `status`
 * COMPLETE | PENDING | FAILED, `id`, `refund_amount` in rand) is judged by its status, a success only for the
 * amount asked; `data.response` true / "true" is an approval, false a refusal; a 4xx in PayFast's envelope is a
 * refusal (404: PayFast does not know the payment). Anything else is `unknown`.
 */
export function refundVerdict(status: number, text: string, input: RefundInput): RefundVerdict {
  const answer = parseAnswer(text);
  const t = transport(status, answer, text);
  if (t) return t;
  const raw = answer ?? { http_status: status, body: text.slice(0, 200) };
  const bodyCode = Number(answer?.code);
  if (status >= 400 || (answer?.status === 'failed' && bodyCode >= 400 && bodyCode < 500)) {
    return { kind: 'result', result: { status: 'failed', providerReference: null, failure: refusal(status >= 400 ? status : bodyCode, messageOf(answer)), raw } };
  }
  const response = answer?.data?.response;
  if (response === true || response === 'true') return { kind: 'result', result: { status: 'succeeded', providerReference: null, raw } };
  if (response === false) return { kind: 'result', result: { status: 'failed', providerReference: null, failure: refusal(400, messageOf(answer)), raw } };
  if (!isRecord(response)) return unknown(raw, null, `a refund answer payrail does not recognise (${JSON.stringify(response ?? null).slice(0, 40)})`);
  return judgeRecord(response, input, raw);
}

/** One refund record (the POST's answer, or an entry of the payment's refunds): its status, amount and id. */
function judgeRecord(record: Record<string, unknown>, input: RefundInput, raw: unknown): RefundVerdict {
  const reference = textOf(record.id);
  if (!isRefundStatus(record.status)) return unknown(raw, reference, `a refund status payrail does not recognise (${JSON.stringify(record.status ?? null).slice(0, 40)})`);
  const status = REFUND_STATUS[record.status];
  if (status === 'failed') {
    const message = textOf(record.reason_failed) ?? textOf(record.message) ?? 'PayFast reports the refund as failed.';
    return { kind: 'result', result: { status, providerReference: reference, failure: { code: 'FAILED', message }, raw } };
  }
  const amount = 'refund_amount' in record ? randCents(record.refund_amount) : 'amount' in record ? (Number.isSafeInteger(record.amount) ? (record.amount as number) : null) : undefined;
  if (status === 'succeeded' && amount !== undefined && amount !== input.amount.amountCents) {
    return unknown(raw, reference, `PayFast reports a refund of ${amount === null ? 'no readable amount' : formatAmount(amount)} for one of ${formatAmount(input.amount.amountCents)}`);
  }
  return { kind: 'result', result: { status, providerReference: reference, raw } };
}

/**
 * The answer to `GET /refunds/{pf_payment_id}`: the payment's refunds (`data.response.transactions`). Ours is the
 * one whose reason carries our reference. **Only an explicit "none" is `not_found`**: a 404 (PayFast has no
 * refund of this payment), or a list in which every refund shows its reason and none is ours. A refund whose
 * reason is not shown could be ours: `unknown`, never "not found" (the caller would send it again).
 */
export function refundLookupVerdict(status: number, text: string, input: RefundInput): RefundVerdict {
  const answer = parseAnswer(text);
  const notFound = (raw: unknown): RefundVerdict => ({
    kind: 'result',
    result: { status: 'failed', providerReference: null, failure: { code: 'not_found', message: 'PayFast has no refund with this reference: it was never made.' }, raw },
  });
  if (status === 404 && answer !== null) return notFound(answer);
  const t = transport(status, answer, text);
  if (t) return t;
  const response = answer?.data?.response;
  const transactions = isRecord(response) ? response.transactions : undefined;
  if (status !== 200 || !Array.isArray(transactions)) return unknown(answer ?? { http_status: status }, null, status === 200 ? 'a refund list payrail does not recognise' : undefined);
  const tag = `(${input.refundReference})`;
  const ours = transactions.filter((t): t is Record<string, unknown> => isRecord(t) && typeof t.reason === 'string' && t.reason.includes(tag));
  if (ours.length === 0) return transactions.every((t) => isRecord(t) && typeof t.reason === 'string') ? notFound(answer) : unknown(answer, null, 'PayFast lists refunds without their reason');
  // Sent twice (it never should be): the first is the refund; the log says there is another.
  const verdict = judgeRecord(ours[0]!, input, { ...answer, data: { response: { ...(response as object), transactions: ours } } });
  return ours.length > 1 && verdict.kind === 'result' ? { ...verdict, problem: `PayFast lists ${ours.length} refunds with reference ${input.refundReference}` } : verdict;
}
