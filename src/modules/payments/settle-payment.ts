import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor, type AppContext } from '../../context.ts';
import type { Tx } from '../../db/client.ts';
import { PurchaseStatus, type PaymentStatus } from '../../domain/enums.ts';
import { toRand } from '../../domain/money.ts';
import { canMovePayment, isTerminalPayment } from '../../domain/state-machines.ts';
import type { AttemptResult } from '../../providers/contract.ts';
import { recordAudit } from '../audit/record.ts';
import { insertMedium } from '../mediums/repo.ts';
import { mediums } from '../mediums/schema.ts';
import { fulfilPurchase } from '../purchases/fulfil-purchase.ts';
import { purchaseLines, purchases } from '../purchases/schema.ts';
import { purchasePlans } from '../services/schema.ts';
import { enqueueEvent, enqueueEvents } from '../webhooks/enqueue-event.ts';
import { payments } from './schema.ts';

export type PaymentRow = typeof payments.$inferSelect;

/** How payrail learned an attempt's outcome (kept in the audit trail). */
export type SettlementSource = 'charge' | 'checkout' | 'lookup' | 'callback' | 'redirect' | 'allocation';

export interface Settlement {
  payment: PaymentRow;
  purchaseStatusId: number;
  /** The attempt's status changed. */
  changed: boolean;
  /** The provider contradicted a final state (a success reported for a failed attempt, or the reverse). */
  conflict: string | null;
}

/** An amount a provider reports may differ from ours by rounding in its own unit; PayFast allows R0.01. */
const AMOUNT_TOLERANCE_CENTS = 1;

/** How soon the janitor asks again about an attempt that is still pending or unknown: doubling per check, at most hourly. */
const recheckAt = (now: Date, payment: PaymentRow, status: 'pending' | 'unknown'): Date =>
  new Date(now.getTime() + Math.min((status === 'unknown' ? 15_000 : 60_000) * 2 ** Math.min(payment.checks, 8), 3_600_000));

/**
 * Applies what a provider said about a collection attempt (STYLE 4): only an explicit answer is final;
 * `pending` and `unknown` are states the janitor settles later; succeeded and failed never change again.
 * A success pays the purchase and fulfils it, a failure returns the purchase to payable; both write their
 * outbox events in the same transaction.
 *
 * Locks the purchase, then the attempt (the order submit-for-collection uses), so concurrent answers
 * about one attempt (a redirect, a webhook and the janitor) apply one after the other and only the
 * first explicit one counts.
 */
export interface SettleInput {
  paymentId: string;
  /** The attempt's purchase, when the caller knows it (saves a round trip). */
  purchaseId?: string;
  result: AttemptResult;
  via: SettlementSource;
  actor?: Actor;
}

export async function settlePayment(ctx: AppContext, input: SettleInput, outerTx?: Tx): Promise<Settlement> {
  const run = (tx: Tx) => settleInTransaction(ctx, tx, input);
  const settlement = outerTx ? await run(outerTx) : await ctx.database.db.transaction(run);
  if (settlement.changed) {
    ctx.telemetry.paymentOutcomes.inc({ provider: settlement.payment.provider, kind: settlement.payment.kind, status: settlement.payment.status });
  }
  if (settlement.conflict) {
    ctx.log.error({ paymentId: input.paymentId, provider: settlement.payment.provider, conflict: settlement.conflict }, 'a provider contradicted a settled payment: reconcile it by hand');
  }
  return settlement;
}

async function settleInTransaction(ctx: AppContext, tx: Tx, input: SettleInput): Promise<Settlement> {
  const now = ctx.clock();
  const actor = input.actor ?? SYSTEM_ACTOR;
  let purchaseId = input.purchaseId;
  if (!purchaseId) {
    const [first] = await tx.select({ purchaseId: payments.purchaseId }).from(payments).where(eq(payments.id, input.paymentId));
    if (!first) throw new Error(`no payment ${input.paymentId}`);
    purchaseId = first.purchaseId;
  }
  const [purchase] = await tx.select().from(purchases).where(eq(purchases.id, purchaseId)).for('update');
  const [payment] = await tx.select().from(payments).where(eq(payments.id, input.paymentId)).for('update');
  if (!purchase || !payment || payment.purchaseId !== purchase.id) throw new Error(`no payment ${input.paymentId} of purchase ${purchaseId}`);

  const result = input.result;
  const unchanged = (conflict: string | null = null): Settlement => ({ payment, purchaseStatusId: purchase.statusId, changed: false, conflict });

  if (isTerminalPayment(payment.status)) {
    const contradicts = (result.status === 'succeeded' || result.status === 'failed') && result.status !== payment.status;
    return unchanged(contradicts ? `payment is ${payment.status}, ${input.via} says ${result.status}` : null);
  }

  let next: PaymentStatus = result.status;
  let checkError: string | null = null;
  if (next === 'succeeded' && result.amount) {
    const differs = result.amount.currency !== payment.currency || Math.abs(result.amount.amountCents - payment.amountCents) > AMOUNT_TOLERANCE_CENTS;
    if (differs) {
      // Never guess: a success for another amount is not our success. Someone must look at it.
      next = 'unknown';
      checkError = `provider reported ${result.amount.currency} ${toRand(result.amount.amountCents)} for an attempt of ${payment.currency} ${toRand(payment.amountCents)}`;
      ctx.log.error({ paymentId: payment.id, provider: payment.provider }, 'provider reported another amount: the payment stays unknown');
    }
  }

  const common = {
    providerReference: result.providerReference ?? payment.providerReference,
    raw: (result.raw ?? payment.raw) as never,
    updatedAt: now,
  };

  if (next === 'pending' || (next === 'unknown' && payment.status === 'unknown')) {
    await tx
      .update(payments)
      .set({ ...common, lastCheckError: checkError, nextCheckAt: recheckAt(now, payment, payment.status === 'unknown' ? 'unknown' : 'pending') })
      .where(eq(payments.id, payment.id));
    return unchanged();
  }
  if (!canMovePayment(payment.status, next)) return unchanged();

  if (next === 'unknown') {
    const [updated] = await tx
      .update(payments)
      .set({ ...common, status: 'unknown', lastCheckError: checkError, nextCheckAt: recheckAt(now, payment, 'unknown') })
      .where(eq(payments.id, payment.id))
      .returning();
    await recordAudit(tx, actor, { operatorId: payment.operatorId, entityType: 'payment', entityId: payment.id, action: `payment.unknown.${input.via}`, fromState: payment.status, toState: 'unknown' });
    await enqueueEvent(tx, { operatorId: payment.operatorId, type: 'payment.unknown', data: paymentData(updated!, purchase) }, now);
    return { payment: updated!, purchaseStatusId: purchase.statusId, changed: true, conflict: null };
  }

  if (next === 'failed') {
    const [updated] = await tx
      .update(payments)
      .set({
        ...common,
        status: 'failed',
        settledAt: now,
        nextCheckAt: null,
        // The kind is what callers act on (declined, insufficient_funds …); the provider's own code stays in the message.
        failureCode: result.failure?.kind ?? 'other',
        failureMessage: result.failure ? `${result.failure.message} (${result.failure.code})` : 'The provider reported the payment as failed.',
      })
      .where(eq(payments.id, payment.id))
      .returning();
    let purchaseStatusId = purchase.statusId;
    if (purchase.statusId === PurchaseStatus.Submitted) {
      purchaseStatusId = payment.payableStatusId;
      await tx.update(purchases).set({ statusId: purchaseStatusId, updatedAt: now }).where(eq(purchases.id, purchase.id));
    }
    await recordAudit(tx, actor, [
      { operatorId: payment.operatorId, entityType: 'payment', entityId: payment.id, action: `payment.failed.${input.via}`, fromState: payment.status, toState: 'failed', data: { code: updated!.failureCode } },
      { operatorId: payment.operatorId, entityType: 'purchase', entityId: purchase.id, action: 'purchase.payment_failed', fromState: String(purchase.statusId), toState: String(purchaseStatusId) },
    ]);
    await enqueueEvents(
      tx,
      [
        { operatorId: payment.operatorId, type: 'payment.failed', data: paymentData(updated!, purchase) },
        { operatorId: payment.operatorId, type: 'purchase.payment_failed', data: { ...purchaseData(purchase, purchaseStatusId), payment_id: payment.id, failure_code: updated!.failureCode, failure_message: updated!.failureMessage } },
      ],
      now,
    );
    return { payment: updated!, purchaseStatusId, changed: true, conflict: null };
  }

  // Succeeded: the money is taken. Pay the purchase, fulfil it, keep a tokenised card.
  let createdMediumId: string | null = payment.createdMediumId;
  if (result.token && payment.tokenise && !createdMediumId) {
    createdMediumId = randomUUID();
    await insertMedium(
      tx,
      ctx.vault,
      {
        id: createdMediumId,
        operatorId: payment.operatorId,
        customerId: purchase.customerId,
        mediumType: result.token.mediumType,
        status: 'Valid',
        provider: payment.provider,
        externalReference: result.providerReference ?? payment.merchantReference,
        accountName: result.token.accountName.slice(0, 100) || 'Card',
        accountNumber: result.token.accountNumber,
        expiryMonth: result.token.expiryMonth ?? null,
        expiryYear: result.token.expiryYear ?? null,
      },
      { provider: payment.provider, value: result.token.value },
    );
    // A service without a usable active medium gets the new card, so recurring and auto-recharge charges can use it.
    const [plan] = await tx
      .select({ id: purchasePlans.id, activeStatus: mediums.status })
      .from(purchasePlans)
      .leftJoin(mediums, eq(mediums.id, purchasePlans.activeMediumId))
      .where(eq(purchasePlans.serviceId, purchase.serviceId));
    if (plan && plan.activeStatus !== 'Valid') {
      await tx.update(purchasePlans).set({ activeMediumId: createdMediumId, updatedAt: now }).where(eq(purchasePlans.id, plan.id));
    }
  }
  const [updated] = await tx
    .update(payments)
    .set({ ...common, status: 'succeeded', settledAt: now, nextCheckAt: null, failureCode: null, failureMessage: null, lastCheckError: null, createdMediumId })
    .where(eq(payments.id, payment.id))
    .returning();
  const [paid] = await tx
    .update(purchases)
    .set({
      statusId: PurchaseStatus.Paid,
      paidAt: now,
      paymentReference: updated!.providerReference ?? updated!.merchantReference,
      mediumId: createdMediumId ?? payment.mediumId ?? purchase.mediumId,
      ...(payment.purchaseSourceId ? { purchaseSourceId: payment.purchaseSourceId } : {}),
      ...(payment.comment ? { comment: payment.comment } : {}),
      // Fulfilment (below, same transaction) applies the purchased period.
      periodApplied: true,
      updatedAt: now,
    })
    .where(eq(purchases.id, purchase.id))
    .returning();
  const lines = await tx.select().from(purchaseLines).where(eq(purchaseLines.purchaseId, purchase.id));
  const fulfilment = await fulfilPurchase(tx, { ...paid!, lines }, now);
  await recordAudit(tx, actor, [
    { operatorId: payment.operatorId, entityType: 'payment', entityId: payment.id, action: `payment.succeeded.${input.via}`, fromState: payment.status, toState: 'succeeded' },
    {
      operatorId: payment.operatorId,
      entityType: 'purchase',
      entityId: purchase.id,
      action: 'purchase.paid',
      fromState: String(purchase.statusId),
      toState: String(PurchaseStatus.Paid),
      data: { payment_id: payment.id, period_end_before: fulfilment.periodEndBefore, period_end_after: fulfilment.periodEndAfter, scheduled_purchase_id: fulfilment.scheduledPurchaseId },
    },
  ]);
  await enqueueEvents(
    tx,
    [
      { operatorId: payment.operatorId, type: 'payment.succeeded', data: paymentData(updated!, paid!) },
      {
        operatorId: payment.operatorId,
        type: 'purchase.paid',
        data: { ...purchaseData(paid!, PurchaseStatus.Paid), payment_id: payment.id, provider: payment.provider, provider_reference: updated!.providerReference, paid_at: now.toISOString(), latest_period_end_date: fulfilment.periodEndAfter, billing_status: fulfilment.billingStatus },
      },
      ...(createdMediumId && createdMediumId !== payment.createdMediumId
        ? [{ operatorId: payment.operatorId, type: 'medium.created' as const, data: { medium_id: createdMediumId, customer_id: purchase.customerId, medium_type: result.token!.mediumType, provider: payment.provider } }]
        : []),
    ],
    now,
  );
  return { payment: updated!, purchaseStatusId: PurchaseStatus.Paid, changed: true, conflict: null };
}

function purchaseData(p: typeof purchases.$inferSelect, statusId: number) {
  return {
    purchase_id: p.id,
    service_id: p.serviceId,
    customer_id: p.customerId,
    small_key: p.smallKey,
    amount: toRand(p.amountCents),
    currency: p.currency,
    purchase_status_id: statusId,
  };
}

function paymentData(p: PaymentRow, purchase: typeof purchases.$inferSelect) {
  return {
    payment_id: p.id,
    purchase_id: p.purchaseId,
    service_id: purchase.serviceId,
    status: p.status,
    provider: p.provider,
    provider_reference: p.providerReference,
    merchant_reference: p.merchantReference,
    amount: toRand(p.amountCents),
    currency: p.currency,
    failure_code: p.failureCode,
    failure_message: p.failureMessage,
  };
}
