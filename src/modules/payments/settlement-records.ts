import type { Actor } from '../../context.ts';
import { PurchaseStatus } from '../../domain/enums.ts';
import { toRand } from '../../domain/money.ts';
import type { Fulfilment } from '../purchases/fulfil-purchase.ts';
import { auditValues, type AuditEntry } from '../audit/record.ts';
import { outboxRow, type OutboxEvent } from '../webhooks/enqueue-event.ts';
import type { PaymentRow } from './repo.ts';

/**
 * What a settlement tells the audit trail and the operator (outbox events): the payloads only. The
 * statements that write them are in settlement-sql.ts; settle-payment.ts decides which are written.
 */

export type PurchaseOfAttempt = { id: string; statusId: number; serviceId: string; customerId: string; smallKey: number; mediumId: string | null; amountCents: number };

type Entries = Omit<AuditEntry, 'operatorId'>[];
type Events = Omit<OutboxEvent, 'operatorId'>[];

/** Audit entries as the JSON array a settlement statement takes (:audit). */
export const auditJson = (actor: Actor, payment: PaymentRow, entries: Entries): string => JSON.stringify(entries.map((e) => auditValues(actor, { ...e, operatorId: payment.operatorId })));

/** Outbox events as the JSON array a settlement statement takes (:events). */
export const eventsJson = (payment: PaymentRow, now: Date, list: Events): string => JSON.stringify(list.map((e) => outboxRow({ ...e, operatorId: payment.operatorId }, now)));

export function purchaseData(p: PurchaseOfAttempt, statusId: number) {
  return {
    purchase_id: p.id,
    service_id: p.serviceId,
    customer_id: p.customerId,
    small_key: p.smallKey,
    amount: toRand(p.amountCents),
    currency: 'ZAR',
    purchase_status_id: statusId,
  };
}

export function paymentData(p: Pick<PaymentRow, 'id' | 'purchaseId' | 'status' | 'provider' | 'providerReference' | 'merchantReference' | 'amountCents' | 'currency' | 'failureCode' | 'failureMessage'>, serviceId: string) {
  return {
    payment_id: p.id,
    purchase_id: p.purchaseId,
    service_id: serviceId,
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

/** An attempt the provider has not settled: now unknown. */
export const unknownRecords = (payment: PaymentRow, purchase: PurchaseOfAttempt, via: string, providerReference: string | null): { audit: Entries; events: Events } => ({
  audit: [{ entityType: 'payment', entityId: payment.id, action: `payment.unknown.${via}`, fromState: payment.status, toState: 'unknown' }],
  events: [{ type: 'payment.unknown', data: paymentData({ ...payment, status: 'unknown', providerReference }, purchase.serviceId) }],
});

/** An attempt failed; the purchase returns to `purchaseStatusId`. */
export function failedRecords(payment: PaymentRow, purchase: PurchaseOfAttempt, via: string, failed: PaymentRow, purchaseStatusId: number): { audit: Entries; events: Events } {
  return {
    audit: [
      { entityType: 'payment', entityId: payment.id, action: `payment.failed.${via}`, fromState: payment.status, toState: 'failed', data: { code: failed.failureCode } },
      { entityType: 'purchase', entityId: purchase.id, action: 'purchase.payment_failed', fromState: String(purchase.statusId), toState: String(purchaseStatusId) },
    ],
    events: [
      { type: 'payment.failed', data: paymentData(failed, purchase.serviceId) },
      { type: 'purchase.payment_failed', data: { ...purchaseData(purchase, purchaseStatusId), payment_id: payment.id, failure_code: failed.failureCode, failure_message: failed.failureMessage } },
    ],
  };
}

/** An attempt succeeded: the purchase is paid, its service fulfilled, perhaps a card kept and an auto-recharge scheduled. */
export function paidRecords(
  payment: PaymentRow,
  purchase: PurchaseOfAttempt,
  via: string,
  paid: { providerReference: string | null; paidStatusId: number; done: Fulfilment; createdMedium: { id: string; mediumType: string } | null; scheduledPurchaseId: string | null; now: Date },
): { audit: Entries; events: Events } {
  const succeeded = { ...payment, status: 'succeeded' as const, providerReference: paid.providerReference };
  const { done } = paid;
  return {
    audit: [
      { entityType: 'payment', entityId: payment.id, action: `payment.succeeded.${via}`, fromState: payment.status, toState: 'succeeded' },
      {
        entityType: 'purchase',
        entityId: purchase.id,
        action: 'purchase.paid',
        fromState: String(purchase.statusId),
        toState: String(paid.paidStatusId),
        data: { payment_id: payment.id, period_end_before: done.periodEndBefore, period_end_after: done.periodEndAfter, scheduled_purchase_id: paid.scheduledPurchaseId },
      },
    ],
    events: [
      { type: 'payment.succeeded', data: paymentData(succeeded, purchase.serviceId) },
      {
        type: 'purchase.paid',
        data: {
          ...purchaseData(purchase, paid.paidStatusId),
          payment_id: payment.id,
          provider: payment.provider,
          provider_reference: paid.providerReference,
          paid_at: paid.now.toISOString(),
          latest_period_end_date: done.periodEndAfter,
          billing_status: done.billingStatus,
        },
      },
      ...(paid.createdMedium ? [{ type: 'medium.created' as const, data: { medium_id: paid.createdMedium.id, customer_id: purchase.customerId, medium_type: paid.createdMedium.mediumType, provider: payment.provider } }] : []),
    ],
  };
}

/**
 * A success for an attempt already failed, or for a purchase already paid: `paid_purchase` when it paid the
 * purchase (its purchase.paid too), `refund_due` when the money is to go back.
 */
export function lateRecords(
  payment: PaymentRow,
  purchase: PurchaseOfAttempt,
  late: { lateId: string; disposition: 'paid_purchase' | 'refund_due'; reason: string; providerReference: string | null; done: Fulfilment | null; now: Date },
): { audit: Entries; events: Events } {
  const data = {
    late_success_id: late.lateId,
    payment_id: payment.id,
    purchase_id: purchase.id,
    service_id: purchase.serviceId,
    provider: payment.provider,
    provider_reference: late.providerReference,
    amount: toRand(payment.amountCents),
    currency: payment.currency,
    disposition: late.disposition,
    reason: late.reason,
  };
  const paid = late.disposition === 'paid_purchase' && late.done;
  return {
    audit: [
      { entityType: 'payment', entityId: payment.id, action: 'payment.late_success', fromState: payment.status, toState: payment.status, data: { disposition: late.disposition, reason: late.reason } },
      ...(paid ? [{ entityType: 'purchase' as const, entityId: purchase.id, action: 'purchase.paid', fromState: String(purchase.statusId), toState: String(PurchaseStatus.Paid), data: { payment_id: payment.id, late_success_id: late.lateId, period_end_before: late.done!.periodEndBefore, period_end_after: late.done!.periodEndAfter } }] : []),
    ],
    events: [
      { type: 'payment.late_success', data },
      ...(paid
        ? [
            {
              type: 'purchase.paid' as const,
              data: { ...purchaseData(purchase, PurchaseStatus.Paid), payment_id: payment.id, provider: payment.provider, provider_reference: late.providerReference, paid_at: late.now.toISOString(), latest_period_end_date: late.done!.periodEndAfter, billing_status: late.done!.billingStatus },
            },
          ]
        : []),
    ],
  };
}
