import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR, type AppContext } from '../../context.ts';
import { PurchaseStatus } from '../../domain/enums.ts';
import { toRand } from '../../domain/money.ts';
import { addDays, civilDate } from '../../domain/periods.ts';
import { PurchaseMoves } from '../../domain/state-machines.ts';
import type { PaymentReturn, VerifiedCallback } from '../../providers/contract.ts';
import { recordAudit } from '../audit/record.ts';
import { operators } from '../operators/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { services } from '../services/schema.ts';
import { enqueueEvent } from '../webhooks/enqueue-event.ts';
import type { PaymentRow } from './repo.ts';
import { lateSuccesses, paymentReturns, payments } from './schema.ts';
import { settlePayment } from './settle-payment.ts';

export interface ReturnInput {
  paymentId: string;
  returned: PaymentReturn;
  /** The provider's id of the returned transaction, when it names one: news of another transaction is not this payment's. */
  providerReference: string | null;
  /** When the provider says the money came back. */
  occurredAt: Date | null;
  via: 'callback' | 'feed';
}

export interface ReturnOutcome {
  /** A new return was recorded (false: a duplicate, or nothing to return). */
  recorded: boolean;
  /** Why nothing was recorded. */
  reason: string | null;
  /** The purchase is owed again (it had been paid by this payment). */
  reopened: boolean;
  payment: PaymentRow;
}

/**
 * A payment reported unpaid after it succeeded (SPEC §11: a debit order returned by the bank). The attempt
 * stays succeeded — nothing moves it backwards — and gets one `payment_returns` record; the purchase it
 * paid is owed again (Unpaid), its service goes into arrears (suspension date: today + the operator's grace
 * days, unless one is set), and the operator hears `payment.returned`. Idempotent: a second report of the
 * same return is absorbed by the record's unique payment. A purchase another payment paid (this one's
 * success came late and is listed for a refund) stays paid.
 *
 * Locks the purchase, then the attempt, as settle-payment does, so a return and a settlement of the same
 * attempt apply one after the other.
 */
export async function recordReturn(ctx: AppContext, input: ReturnInput): Promise<ReturnOutcome> {
  return ctx.database.db.transaction(async (tx) => {
    const now = ctx.clock();
    const [of] = await tx.select({ purchaseId: payments.purchaseId }).from(payments).where(eq(payments.id, input.paymentId));
    if (!of) throw new Error(`no payment ${input.paymentId}`);
    const [purchase] = await tx.select().from(purchases).where(eq(purchases.id, of.purchaseId)).for('update');
    const [payment] = await tx.select().from(payments).where(eq(payments.id, input.paymentId)).for('update');
    if (!purchase || !payment) throw new Error(`no payment ${input.paymentId}`);
    const nothing = (reason: string): ReturnOutcome => ({ recorded: false, reason, reopened: false, payment });
    if (payment.status !== 'succeeded') return nothing(`payment is ${payment.status}: only a succeeded payment can be returned`);
    if (payment.providerReference && input.providerReference && payment.providerReference !== input.providerReference) {
      return nothing(`names transaction ${input.providerReference}, but payment ${payment.id} succeeded as ${payment.providerReference}`);
    }
    const returnId = randomUUID();
    const [recorded] = await tx
      .insert(paymentReturns)
      .values({
        id: returnId,
        operatorId: payment.operatorId,
        paymentId: payment.id,
        purchaseId: purchase.id,
        provider: payment.provider,
        providerReference: input.providerReference ?? payment.providerReference,
        amountCents: payment.amountCents,
        currency: payment.currency,
        reasonCode: input.returned.code.slice(0, 100),
        reason: input.returned.message.slice(0, 500),
        returnedAt: input.occurredAt,
        via: input.via,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: paymentReturns.paymentId })
      .returning({ id: paymentReturns.id });
    if (!recorded) return nothing('the return was recorded before');

    const [returned] = await tx.update(payments).set({ returnedAt: now, updatedAt: now }).where(eq(payments.id, payment.id)).returning();
    // Money of a late success listed for a refund came back: the purchase was paid by another payment, and stays paid.
    const [refundDue] = await tx.select({ id: lateSuccesses.id }).from(lateSuccesses).where(and(eq(lateSuccesses.paymentId, payment.id), eq(lateSuccesses.disposition, 'refund_due')));
    const reopened = !refundDue && (PurchaseMoves.returned.from as readonly number[]).includes(purchase.statusId);
    let suspensionDate: string | null = null;
    if (reopened) {
      await tx.update(purchases).set({ statusId: PurchaseMoves.returned.to, paidAt: null, paymentReference: null, updatedAt: now }).where(eq(purchases.id, purchase.id));
      const [operator] = await tx.select({ graceDays: operators.graceDays }).from(operators).where(eq(operators.id, payment.operatorId));
      const [service] = await tx
        .update(services)
        .set({
          billingStatus: sql`CASE WHEN ${services.billingStatus} = 'PaidUp' THEN 'InArrears' ELSE ${services.billingStatus} END`,
          suspensionDate: sql`coalesce(${services.suspensionDate}, ${addDays(civilDate(now), operator?.graceDays ?? 0)}::date)`,
          updatedAt: now,
        })
        .where(eq(services.id, purchase.serviceId))
        .returning({ suspensionDate: services.suspensionDate, billingStatus: services.billingStatus });
      suspensionDate = service?.suspensionDate ?? null;
    }
    const data = {
      return_id: returnId,
      payment_id: payment.id,
      purchase_id: purchase.id,
      service_id: purchase.serviceId,
      customer_id: purchase.customerId,
      small_key: purchase.smallKey,
      provider: payment.provider,
      provider_reference: input.providerReference ?? payment.providerReference,
      merchant_reference: payment.merchantReference,
      amount: toRand(payment.amountCents),
      currency: payment.currency,
      reason_code: input.returned.code,
      reason: input.returned.message,
      returned_at: (input.occurredAt ?? now).toISOString(),
      purchase_status_id: reopened ? PurchaseMoves.returned.to : purchase.statusId,
      suspension_date: suspensionDate,
    };
    await recordAudit(tx, SYSTEM_ACTOR, [
      { operatorId: payment.operatorId, entityType: 'payment', entityId: payment.id, action: `payment.returned.${input.via}`, fromState: 'succeeded', toState: 'succeeded', data: { return_id: returnId, reason_code: input.returned.code, reason: input.returned.message } },
      ...(reopened ? [{ operatorId: payment.operatorId, entityType: 'purchase' as const, entityId: purchase.id, action: 'purchase.payment_returned', fromState: String(PurchaseStatus.Paid), toState: String(PurchaseMoves.returned.to), data: { payment_id: payment.id } }] : []),
    ]);
    await enqueueEvent(tx, { operatorId: payment.operatorId, type: 'payment.returned', data }, now);
    ctx.log.warn({ paymentId: payment.id, purchaseId: purchase.id, provider: payment.provider, reopened }, 'a payment was returned after it succeeded: its purchase is owed again');
    ctx.telemetry.paymentOutcomes.inc({ provider: payment.provider, kind: payment.kind, status: 'returned' });
    return { recorded: true, reason: null, reopened, payment: returned ?? payment };
  });
}

/**
 * A verified notice (or feed entry) of a return. A return of an attempt payrail still has in flight says
 * that it cleared first: the success is settled, then the return recorded.
 */
export async function applyReturnNotice(ctx: AppContext, payment: PaymentRow, notice: VerifiedCallback, via: 'callback' | 'feed'): Promise<ReturnOutcome> {
  if (!notice.returned) return { recorded: false, reason: 'a return without what came back', reopened: false, payment };
  if (payment.status === 'pending' || payment.status === 'unknown') {
    const settled = await settlePayment(ctx, { paymentId: payment.id, purchaseId: payment.purchaseId, result: notice.result, via });
    if (settled.payment.status !== 'succeeded') return { recorded: false, reason: `the return's success could not be settled (payment is ${settled.payment.status})`, reopened: false, payment: settled.payment };
  }
  return recordReturn(ctx, { paymentId: payment.id, returned: notice.returned, providerReference: notice.providerReference, occurredAt: notice.occurredAt, via });
}
