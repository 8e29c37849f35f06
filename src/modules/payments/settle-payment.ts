import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor, type AppContext } from '../../context.ts';
import type { RawTransaction } from '../../db/client.ts';
import { PurchaseStatus, type PaymentStatus } from '../../domain/enums.ts';
import type { IsoDate } from '../../domain/periods.ts';
import { toRand } from '../../domain/money.ts';
import { canMovePayment, isTerminalPayment } from '../../domain/state-machines.ts';
import type { AttemptResult } from '../../providers/contract.ts';
import { auditValues, type AuditEntry } from '../audit/record.ts';
import { insertMedium } from '../mediums/repo.ts';
import { mediums } from '../mediums/schema.ts';
import { fulfilment, scheduleNextAutoRecharge, type Fulfilment } from '../purchases/fulfil-purchase.ts';
import { purchasePlans } from '../services/schema.ts';
import { outboxRow, type OutboxEvent } from '../webhooks/enqueue-event.ts';
import type { payments } from './schema.ts';
import { sqlState } from '../../db/errors.ts';
import { FAIL, LOCK_ATTEMPT, LOCK_SERVICE, PAY, PAY_FAST, PURCHASE_OF_ATTEMPT, RECHECK } from './collection-sql.ts';

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

export interface SettleInput {
  paymentId: string;
  /** The attempt's purchase, when the caller knows it (saves a round trip). */
  purchaseId?: string;
  result: AttemptResult;
  via: SettlementSource;
  actor?: Actor;
}

/** An amount a provider reports may differ from ours by rounding in its own unit; PayFast allows R0.01. */
const AMOUNT_TOLERANCE_CENTS = 1;

/** How soon the janitor asks again about an attempt that is still pending or unknown: doubling per check, at most hourly. */
const recheckAt = (now: Date, payment: PaymentRow, status: 'pending' | 'unknown'): Date =>
  new Date(now.getTime() + Math.min((status === 'unknown' ? 15_000 : 60_000) * 2 ** Math.min(payment.checks, 8), 3_600_000));

type PurchaseOfAttempt = { id: string; statusId: number; serviceId: string; customerId: string; smallKey: number; mediumId: string | null; amountCents: number };

interface Locked {
  payment: PaymentRow;
  purchase: PurchaseOfAttempt;
}

/**
 * An attempt as start-attempt recorded it, with what it read about its purchase and service in the same
 * statement: enough to settle a success without locking first (settleStarted).
 */
export interface StartedAttempt extends Locked {
  service: { version: string; latestPeriodEndDate: IsoDate | null; billingStatus: string; autoRecharge: boolean; owing: boolean; purchasedDays: number };
}

/**
 * Applies what a provider said about a collection attempt (STYLE 4): only an explicit answer is final;
 * `pending` and `unknown` are states the janitor settles later; succeeded and failed never change again.
 * A success pays the purchase and fulfils its service, a failure returns the purchase to payable; both
 * write their audit entries and outbox events in the same transaction.
 *
 * Locks the purchase, then the attempt (the order submit-for-collection uses), then the service, so
 * concurrent answers about one attempt (a redirect, a webhook and the janitor) apply one after the other
 * and only the first explicit one counts. The common path is four prepared statements (collection-sql.ts);
 * an answer to an attempt this request started may take one (settleStarted).
 */
export async function settlePayment(ctx: AppContext, input: SettleInput, outerTx?: RawTransaction): Promise<Settlement> {
  const run = (tx: RawTransaction) => settleInTransaction(ctx, tx, input);
  const settlement = outerTx ? await run(outerTx) : await ctx.database.transaction(run);
  if (settlement.changed) {
    ctx.telemetry.paymentOutcomes.inc({ provider: settlement.payment.provider, kind: settlement.payment.kind, status: settlement.payment.status });
  }
  if (settlement.conflict) {
    ctx.log.error({ paymentId: input.paymentId, provider: settlement.payment.provider, conflict: settlement.conflict }, 'a provider contradicted a settled payment: reconcile it by hand');
  }
  return settlement;
}

/**
 * Settles the answer to an attempt this request has just started (a token charge). A plain success is
 * written in one statement (PAY_FAST) when nothing about the purchase or its service has moved since the
 * attempt started; anything else (a failure, a card to keep, an auto-recharge to schedule, a concurrent
 * change) is settled the locked way by settlePayment. Both write the same rows.
 */
export async function settleStarted(ctx: AppContext, input: SettleInput, started: StartedAttempt): Promise<Settlement> {
  const { payment, purchase, service } = started;
  const result = input.result;
  const plain = result.status === 'succeeded' && payment.status === 'pending' && !service.autoRecharge && !(result.token && payment.tokenise) && outcome(payment, result).next === 'succeeded';
  if (plain) {
    const now = ctx.clock();
    const done = fulfilment(service, now);
    const params = [...paidParams(input, payment, purchase, done, payment.createdMediumId, null, now), service.version];
    try {
      const [row] = await ctx.database.query<Record<string, unknown>>(PAY_FAST.text, params, PAY_FAST.name);
      if (row?.id) {
        ctx.telemetry.paymentOutcomes.inc({ provider: payment.provider, kind: payment.kind, status: 'succeeded' });
        return { payment: toPaymentRow(row), purchaseStatusId: PurchaseStatus.Paid, changed: true, conflict: null };
      }
    } catch (err) {
      // Half matched (payrail_assert), or a deadlock with a concurrent settlement: nothing was written.
      if (!['P0004', '40P01', '40001'].includes(sqlState(err) ?? '')) throw err;
      ctx.log.warn({ err, paymentId: payment.id }, 'settling in one statement met a concurrent change: settling with locks');
    }
  }
  return settlePayment(ctx, { ...input, purchaseId: purchase.id });
}

/** What a provider's answer means for an attempt: a success for another amount is not ours (unknown). */
function outcome(payment: PaymentRow, result: AttemptResult): { next: PaymentStatus; checkError: string | null } {
  if (result.status === 'succeeded' && result.amount) {
    const differs = result.amount.currency !== payment.currency || Math.abs(result.amount.amountCents - payment.amountCents) > AMOUNT_TOLERANCE_CENTS;
    if (differs) {
      return { next: 'unknown', checkError: `provider reported ${result.amount.currency} ${toRand(result.amount.amountCents)} for an attempt of ${payment.currency} ${toRand(payment.amountCents)}` };
    }
  }
  return { next: result.status, checkError: null };
}

async function settleInTransaction(ctx: AppContext, tx: RawTransaction, input: SettleInput): Promise<Settlement> {
  const now = ctx.clock();
  const actor = input.actor ?? SYSTEM_ACTOR;
  const { payment, purchase } = await lock(tx, input);
  const result = input.result;
  const unchanged = (conflict: string | null = null): Settlement => ({ payment, purchaseStatusId: purchase.statusId, changed: false, conflict });

  if (isTerminalPayment(payment.status)) {
    const contradicts = (result.status === 'succeeded' || result.status === 'failed') && result.status !== payment.status;
    return unchanged(contradicts ? `payment is ${payment.status}, ${input.via} says ${result.status}` : null);
  }

  const { next, checkError } = outcome(payment, result);
  // Never guess: a success for another amount is not our success. Someone must look at it.
  if (checkError) ctx.log.error({ paymentId: payment.id, provider: payment.provider }, 'provider reported another amount: the payment stays unknown');
  const providerReference = result.providerReference ?? payment.providerReference;
  const raw = JSON.stringify(result.raw ?? payment.raw ?? null);
  const audit = (entries: Omit<AuditEntry, 'operatorId'>[]) => auditJson(actor, payment, entries);
  const events = (list: Omit<OutboxEvent, 'operatorId'>[]) => eventsJson(payment, now, list);

  if (next === 'pending' || (next === 'unknown' && payment.status === 'unknown') || !canMovePayment(payment.status, next)) {
    if (next !== 'pending' && next !== 'unknown') return unchanged();
    // Still waiting: only when to ask again, and what the provider said last.
    const rows = await tx.query(RECHECK.text, [payment.id, now, '[]', '[]', payment.status, recheckAt(now, payment, payment.status === 'unknown' ? 'unknown' : 'pending'), checkError, providerReference, raw], RECHECK.name);
    return { payment: toPaymentRow(rows[0]!), purchaseStatusId: purchase.statusId, changed: false, conflict: null };
  }

  if (next === 'unknown') {
    const rows = await tx.query(
      RECHECK.text,
      [
        payment.id,
        now,
        audit([{ entityType: 'payment', entityId: payment.id, action: `payment.unknown.${input.via}`, fromState: payment.status, toState: 'unknown' }]),
        events([{ type: 'payment.unknown', data: paymentData({ ...payment, status: 'unknown', providerReference }, purchase.serviceId) }]),
        'unknown',
        recheckAt(now, payment, 'unknown'),
        checkError,
        providerReference,
        raw,
      ],
      RECHECK.name,
    );
    return { payment: toPaymentRow(rows[0]!), purchaseStatusId: purchase.statusId, changed: true, conflict: null };
  }

  if (next === 'failed') {
    // The kind is what callers act on (declined, insufficient_funds …); the provider's own code stays in the message.
    const failureCode = result.failure?.kind ?? 'other';
    const failureMessage = result.failure ? `${result.failure.message} (${result.failure.code})` : 'The provider reported the payment as failed.';
    const purchaseStatusId = purchase.statusId === PurchaseStatus.Submitted ? payment.payableStatusId : purchase.statusId;
    const failed = { ...payment, status: 'failed' as const, providerReference, failureCode, failureMessage };
    const rows = await tx.query(
      FAIL.text,
      [
        payment.id,
        now,
        audit([
          { entityType: 'payment', entityId: payment.id, action: `payment.failed.${input.via}`, fromState: payment.status, toState: 'failed', data: { code: failureCode } },
          { entityType: 'purchase', entityId: purchase.id, action: 'purchase.payment_failed', fromState: String(purchase.statusId), toState: String(purchaseStatusId) },
        ]),
        events([
          { type: 'payment.failed', data: paymentData(failed, purchase.serviceId) },
          { type: 'purchase.payment_failed', data: { ...purchaseData(purchase, purchaseStatusId), payment_id: payment.id, failure_code: failureCode, failure_message: failureMessage } },
        ]),
        failureCode,
        failureMessage,
        providerReference,
        raw,
      ],
      FAIL.name,
    );
    return { payment: toPaymentRow(rows[0]!), purchaseStatusId, changed: true, conflict: null };
  }

  // Succeeded: the money is taken. Pay the purchase, fulfil its service, keep a tokenised card.
  const [service] = await tx.query<{ latest_period_end_date: IsoDate | null; billing_status: string; auto_recharge: boolean; owing: boolean; purchased_days: number }>(
    LOCK_SERVICE.text,
    [purchase.serviceId, purchase.id],
    LOCK_SERVICE.name,
  );
  if (!service) throw new Error(`purchase ${purchase.id} has no service`);
  const done = fulfilment({ latestPeriodEndDate: service.latest_period_end_date, billingStatus: service.billing_status, owing: service.owing, purchasedDays: service.purchased_days }, now);
  const createdMediumId = result.token && payment.tokenise && !payment.createdMediumId ? await keepCard(ctx, tx, payment, purchase, result, now) : payment.createdMediumId;
  const scheduledPurchaseId = service.auto_recharge && done.periodEndAfter ? await scheduleNextAutoRecharge(tx.db, purchase.id, purchase.serviceId, done.periodEndAfter, now) : null;
  const rows = await tx.query(PAY.text, paidParams(input, payment, purchase, done, createdMediumId, scheduledPurchaseId, now), PAY.name);
  return { payment: toPaymentRow(rows[0]!), purchaseStatusId: PurchaseStatus.Paid, changed: true, conflict: null };
}

/** PAY's and PAY_FAST's parameters $1–$16: the attempt, the purchase, the service, and their audit entries and events. */
function paidParams(input: SettleInput, payment: PaymentRow, purchase: PurchaseOfAttempt, done: Fulfilment, createdMediumId: string | null, scheduledPurchaseId: string | null, now: Date): unknown[] {
  const actor = input.actor ?? SYSTEM_ACTOR;
  const result = input.result;
  const providerReference = result.providerReference ?? payment.providerReference;
  const raw = JSON.stringify(result.raw ?? payment.raw ?? null);
  const succeeded = { ...payment, status: 'succeeded' as const, providerReference };
  const paidStatus = PurchaseStatus.Paid;
  return [
    payment.id,
    now,
    auditJson(actor, payment, [
      { entityType: 'payment', entityId: payment.id, action: `payment.succeeded.${input.via}`, fromState: payment.status, toState: 'succeeded' },
      {
        entityType: 'purchase',
        entityId: purchase.id,
        action: 'purchase.paid',
        fromState: String(purchase.statusId),
        toState: String(paidStatus),
        data: { payment_id: payment.id, period_end_before: done.periodEndBefore, period_end_after: done.periodEndAfter, scheduled_purchase_id: scheduledPurchaseId },
      },
    ]),
    eventsJson(payment, now, [
      { type: 'payment.succeeded', data: paymentData(succeeded, purchase.serviceId) },
      {
        type: 'purchase.paid',
        data: { ...purchaseData(purchase, paidStatus), payment_id: payment.id, provider: payment.provider, provider_reference: providerReference, paid_at: now.toISOString(), latest_period_end_date: done.periodEndAfter, billing_status: done.billingStatus },
      },
      ...(createdMediumId && createdMediumId !== payment.createdMediumId
        ? [{ type: 'medium.created' as const, data: { medium_id: createdMediumId, customer_id: purchase.customerId, medium_type: result.token!.mediumType, provider: payment.provider } }]
        : []),
    ]),
    providerReference,
    raw,
    createdMediumId,
    providerReference ?? payment.merchantReference,
    createdMediumId ?? payment.mediumId ?? purchase.mediumId,
    payment.purchaseSourceId,
    payment.comment,
    purchase.id,
    done.periodEndAfter,
    done.billingStatus,
    done.clearSuspension,
    purchase.serviceId,
  ];
}

async function lock(tx: RawTransaction, input: SettleInput): Promise<Locked> {
  let purchaseId = input.purchaseId;
  if (!purchaseId) {
    const [row] = await tx.query<{ purchase_id: string }>(PURCHASE_OF_ATTEMPT.text, [input.paymentId], PURCHASE_OF_ATTEMPT.name);
    if (!row) throw new Error(`no payment ${input.paymentId}`);
    purchaseId = row.purchase_id;
  }
  const [row] = await tx.query<Record<string, unknown>>(LOCK_ATTEMPT.text, [purchaseId, input.paymentId], LOCK_ATTEMPT.name);
  if (!row) throw new Error(`no payment ${input.paymentId} of purchase ${purchaseId}`);
  const payment = toPaymentRow(row);
  return {
    payment,
    purchase: {
      id: purchaseId,
      statusId: row.purchase_status_id as number,
      serviceId: row.service_id as string,
      customerId: row.customer_id as string,
      smallKey: row.small_key as number,
      mediumId: row.purchase_medium_id as string | null,
      amountCents: row.purchase_amount_cents as number,
    },
  };
}

/** A hosted payment's tokenised card becomes a Valid medium of the customer (and the service's active one if it has none usable). */
async function keepCard(ctx: AppContext, tx: RawTransaction, payment: PaymentRow, purchase: PurchaseOfAttempt, result: AttemptResult, now: Date): Promise<string> {
  const token = result.token!;
  const id = randomUUID();
  await insertMedium(
    tx.db,
    ctx.vault,
    {
      id,
      operatorId: payment.operatorId,
      customerId: purchase.customerId,
      mediumType: token.mediumType,
      status: 'Valid',
      provider: payment.provider,
      externalReference: result.providerReference ?? payment.merchantReference,
      accountName: token.accountName.slice(0, 100) || 'Card',
      accountNumber: token.accountNumber,
      expiryMonth: token.expiryMonth ?? null,
      expiryYear: token.expiryYear ?? null,
      createdAt: now,
      updatedAt: now,
    },
    { provider: payment.provider, value: token.value },
  );
  const [plan] = await tx.db
    .select({ id: purchasePlans.id, activeStatus: mediums.status })
    .from(purchasePlans)
    .leftJoin(mediums, eq(mediums.id, purchasePlans.activeMediumId))
    .where(eq(purchasePlans.serviceId, purchase.serviceId));
  if (plan && plan.activeStatus !== 'Valid') await tx.db.update(purchasePlans).set({ activeMediumId: id, updatedAt: now }).where(eq(purchasePlans.id, plan.id));
  return id;
}

/** Audit entries and outbox events of a settlement, as the JSON arrays its statement takes. */
const auditJson = (actor: Actor, payment: PaymentRow, entries: Omit<AuditEntry, 'operatorId'>[]): string =>
  JSON.stringify(entries.map((e) => auditValues(actor, { ...e, operatorId: payment.operatorId })));
const eventsJson = (payment: PaymentRow, now: Date, list: Omit<OutboxEvent, 'operatorId'>[]): string =>
  JSON.stringify(list.map((e) => outboxRow({ ...e, operatorId: payment.operatorId }, now)));

const camelKeys = new Map<string, string>();
const camel = (key: string): string => {
  let out = camelKeys.get(key);
  if (out === undefined) camelKeys.set(key, (out = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())));
  return out;
};

/** A `payments` row as a raw statement returns it (snake_case), as Drizzle would (camelCase). */
export function toPaymentRow(row: Record<string, unknown>): PaymentRow {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = v;
  return out as PaymentRow;
}

function purchaseData(p: PurchaseOfAttempt, statusId: number) {
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

function paymentData(p: Pick<PaymentRow, 'id' | 'purchaseId' | 'status' | 'provider' | 'providerReference' | 'merchantReference' | 'amountCents' | 'currency' | 'failureCode' | 'failureMessage'>, serviceId: string) {
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
