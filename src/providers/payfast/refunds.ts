import { ConnectorError } from '../../lib/errors.ts';
import type { ConnectorContext, RefundInput, RefundResult } from '../contract.ts';
import { errorName } from '../kit/http.ts';
import { apiCall } from './api.ts';
import { payfastCredentials } from './credentials.ts';
import { refundLookupVerdict, refundRequest, refundVerdict, type RefundVerdict } from './refund-transformers.ts';
import { isPfPaymentId } from './transformers.ts';

/**
 * Refunds through PayFast's Refunds API (README.md here, "Refunds"): a payment is refunded, in full or in part,
 * by its pf_payment_id. PayFast takes no reference or idempotency key for a refund, so a refund whose answer is
 * lost is never sent again by the connector: it is `unknown` until `lookupRefund` finds it (or says it is not
 * there, and only then may payrail send it again).
 */

/** The payment a refund is of: PayFast knows it only by its pf_payment_id. Nothing is sent without one. */
function paymentId(input: RefundInput): string {
  if (!isPfPaymentId(input.providerReference)) {
    throw new ConnectorError('protocol', 'PayFast', `PayFast refunds a payment by its pf_payment_id; attempt ${input.merchantReference} has none, so nothing was refunded.`);
  }
  return input.providerReference;
}

function settle(verdict: RefundVerdict, ctx: ConnectorContext, what: string): RefundResult {
  if (verdict.kind !== 'result') throw new ConnectorError(verdict.kind, 'PayFast', verdict.message);
  if (verdict.problem) ctx.log.error({ what }, `PayFast: ${verdict.problem}; left unknown`);
  return verdict.result;
}

const lost = (ctx: ConnectorContext, what: string, error: unknown): RefundResult => {
  ctx.log.warn({ what, error: errorName(error) }, 'PayFast refund request sent but no answer: outcome unknown');
  return { status: 'unknown', providerReference: null, raw: { error: errorName(error) } };
};

/** `POST /refunds/{pf_payment_id}` with `{amount (cents), reason, notify_buyer}`. Sent once. */
export async function refund(input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> {
  const id = paymentId(input);
  if (!Number.isSafeInteger(input.amount.amountCents) || input.amount.amountCents <= 0 || input.amount.amountCents > input.original.amountCents) {
    throw new ConnectorError('protocol', 'PayFast', `A refund of ${input.amount.amountCents} cents of a payment of ${input.original.amountCents} is not one to send; nothing was refunded.`);
  }
  const sent = await apiCall(ctx, payfastCredentials(ctx.settings), 'POST', `/refunds/${encodeURIComponent(id)}`, { ...refundRequest(input) });
  if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', 'PayFast', `PayFast could not be reached (${errorName(sent.error)}); nothing was refunded.`);
  if (sent.kind === 'lost') return lost(ctx, `refund ${input.refundReference}`, sent.error);
  return settle(refundVerdict(sent.status, sent.text, input), ctx, `refund ${input.refundReference}`);
}

/** `GET /refunds/{pf_payment_id}`: the payment's refunds; ours carries its reference in its reason. */
export async function lookupRefund(input: RefundInput, ctx: ConnectorContext): Promise<RefundResult> {
  const id = paymentId(input);
  const sent = await apiCall(ctx, payfastCredentials(ctx.settings), 'GET', `/refunds/${encodeURIComponent(id)}`);
  if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', 'PayFast', `PayFast could not be reached (${errorName(sent.error)}).`);
  if (sent.kind === 'lost') return lost(ctx, `refund lookup ${input.refundReference}`, sent.error);
  return settle(refundLookupVerdict(sent.status, sent.text, input), ctx, `refund lookup ${input.refundReference}`);
}
