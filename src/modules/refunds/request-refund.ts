import { randomUUID } from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import type { Executor } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { ConflictError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { recordAudit } from '../audit/record.ts';
import { payments } from '../payments/schema.ts';
import { enqueueEvents } from '../webhooks/enqueue-event.ts';
import { refunds } from './schema.ts';

export type RefundRow = typeof refunds.$inferSelect;
export type RefundReason = 'vend_declined' | 'late_success' | 'requested';

/**
 * Records that a succeeded payment's money is to be given back — in the caller's transaction, so the reason
 * and the refund are written together — and nothing else: the refunds job (or the caller, after commit) asks
 * the provider. A payment whose provider cannot refund (off-system money) gets a `manual` refund: someone
 * gives it back by hand, outbox `payment.refund_manual`. Never twice for one payment (`refunds_one_per_payment`):
 * a second request finds the first and returns it.
 */
export async function recordRefund(
  ctx: Pick<AppContext, 'connectors'>,
  tx: Executor,
  input: { paymentId: string; reason: RefundReason; comment?: string | null; requestedBy: string; now: Date },
): Promise<{ refund: RefundRow; created: boolean }> {
  const [payment] = await tx.select().from(payments).where(eq(payments.id, input.paymentId));
  if (!payment) throw new NotFoundError('payment', input.paymentId);
  const existing = await liveRefund(tx, payment.id);
  if (existing) return { refund: existing, created: false };
  const connector = ctx.connectors.find(payment.provider);
  const automatic = Boolean(connector?.refund) && payment.kind !== 'allocation';
  const id = randomUUID();
  const [refund] = await tx
    .insert(refunds)
    .values({
      id,
      operatorId: payment.operatorId,
      paymentId: payment.id,
      purchaseId: payment.purchaseId,
      provider: payment.provider,
      amountCents: payment.amountCents,
      reason: input.reason,
      comment: input.comment ?? null,
      refundReference: refundReference(),
      status: automatic ? 'pending' : 'manual',
      requestedBy: input.requestedBy,
      createdAt: input.now,
      updatedAt: input.now,
    })
    .onConflictDoNothing()
    .returning();
  if (!refund) return { refund: (await liveRefund(tx, payment.id))!, created: false };
  if (!automatic) {
    await enqueueEvents(tx, [{ operatorId: payment.operatorId, type: 'payment.refund_manual', data: refundEventData(refund) }], input.now);
  }
  return { refund, created: true };
}

const liveRefund = async (db: Executor, paymentId: string): Promise<RefundRow | null> =>
  (await db.select().from(refunds).where(and(eq(refunds.paymentId, paymentId))).orderBy(desc(refunds.createdAt)).limit(5)).find((r) => r.status !== 'failed') ?? null;

/** Our reference of a refund at the provider: `R` and 15 characters, within every provider's limits. */
export const refundReference = (): string => `R${randomUUID().replaceAll('-', '').slice(0, 15).toUpperCase()}`;

export function refundEventData(r: RefundRow) {
  return {
    refund_id: r.id,
    payment_id: r.paymentId,
    purchase_id: r.purchaseId,
    provider: r.provider,
    amount: r.amountCents / 100,
    reason: r.reason,
    status: r.status,
  };
}

/**
 * `POST /payments/{id}/refunds` (staff): gives a succeeded payment's money back, all of it. Refused (422) for
 * a payment that did not succeed or was returned; a payment already refunded (or being refunded) answers its
 * refund (200, `created: false`).
 */
export async function requestRefund(ctx: AppContext, operatorId: string, actor: Actor, paymentId: string, comment: string | null): Promise<{ refund: RefundRow; created: boolean }> {
  const now = ctx.clock();
  try {
    return await ctx.database.db.transaction(async (tx) => {
      const [payment] = await tx.select().from(payments).where(and(eq(payments.id, paymentId), eq(payments.operatorId, operatorId))).for('update');
      if (!payment) throw new NotFoundError('payment', paymentId);
      if (payment.status !== 'succeeded') throw new UnprocessableError('refund.not_refundable', `Payment ${paymentId} is ${payment.status}: only a succeeded payment's money can be given back.`);
      const done = await liveRefund(tx, payment.id);
      if (done) return { refund: done, created: false };
      if (payment.returnedAt) throw new UnprocessableError('refund.not_refundable', `Payment ${paymentId} was returned by the bank: there is no money to give back.`);
      const recorded = await recordRefund(ctx, tx, { paymentId, reason: 'requested', comment, requestedBy: actor.id, now });
      await recordAudit(tx, actor, { operatorId, entityType: 'payment', entityId: paymentId, action: 'refund.requested', toState: recorded.refund.status, data: { refund_id: recorded.refund.id, amount_cents: recorded.refund.amountCents } });
      return recorded;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError('refund.in_progress', `A refund of payment ${paymentId} is being recorded; ask again.`);
    throw err;
  }
}

