import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR, type Actor, type AppContext } from '../../context.ts';
import type { RawTransaction } from '../../db/client.ts';
import { sqlState } from '../../db/errors.ts';
import { run } from '../../db/statement.ts';
import { PurchaseStatus, type PaymentStatus } from '../../domain/enums.ts';
import { toRand } from '../../domain/money.ts';
import type { IsoDate } from '../../domain/periods.ts';
import { canMovePayment, isTerminalPayment, PurchaseMoves } from '../../domain/state-machines.ts';
import type { AttemptResult } from '../../providers/contract.ts';
import { insertMedium } from '../mediums/repo.ts';
import { recordRefund } from '../refunds/request-refund.ts';
import { mediums } from '../mediums/schema.ts';
import { fulfilment, scheduleNextAutoRecharge, type Fulfilment } from '../purchases/fulfil-purchase.ts';
import { purchasePlans } from '../services/schema.ts';
import { toPaymentRow, type PaymentRow } from './repo.ts';
import { auditJson, eventsJson, failedRecords, lateRecords, paidRecords, unknownRecords, type PurchaseOfAttempt } from './settlement-records.ts';
import { FAIL, LATE_OF_ATTEMPT, LATE_REFUND_DUE, LOCK_ATTEMPT, LOCK_SERVICE, PAY, PAY_FAST, PAY_FAST_MANY, PAY_LATE, PURCHASE_OF_ATTEMPT, RECHECK, type PaidParams } from './settlement-sql.ts';
import { uuid7 } from '../../lib/uuid7.ts';

export type { PaymentRow } from './repo.ts';

/** How payrail learned an attempt's outcome (kept in the audit trail). */
export type SettlementSource = 'charge' | 'checkout' | 'lookup' | 'callback' | 'feed' | 'redirect' | 'allocation' | 'deadline' | 'superseded';

export interface Settlement {
  payment: PaymentRow;
  purchaseStatusId: number;
  /** The attempt's status changed. */
  changed: boolean;
  /** The provider contradicted a final state (a failure reported for a succeeded attempt). */
  conflict: string | null;
  /** A success that came late (for a failed attempt, or a purchase already paid): what payrail did with it. */
  late?: { id: string; disposition: 'paid_purchase' | 'refund_due' } | null;
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

/**
 * How soon the janitor asks again about an attempt that is still pending or unknown: doubling per check, at
 * most hourly — or, for a pending result that says its own pace (a debit order), no sooner than that.
 */
function recheckAt(now: Date, payment: PaymentRow, status: 'pending' | 'unknown', result: AttemptResult): Date {
  const backoff = Math.min((status === 'unknown' ? 15_000 : 60_000) * 2 ** Math.min(payment.checks, 8), 3_600_000);
  const pace = status === 'pending' && result.status === 'pending' ? (result.recheckAfterMs ?? 0) : 0;
  return new Date(now.getTime() + Math.max(backoff, pace));
}

interface Locked {
  payment: PaymentRow;
  purchase: PurchaseOfAttempt;
}

/**
 * An attempt as start-attempt recorded it, with what it read about its purchase and service in the same
 * statement: enough to settle a success without locking first (settleStarted).
 */
export interface StartedAttempt extends Locked {
  service: { version: string; latestPeriodEndDate: IsoDate | null; billingStatus: string; autoRecharge: boolean; owing: boolean; purchasedDays: number; coveredUntil: IsoDate | null };
}

/**
 * Applies what a provider said about a collection attempt (STYLE 4): only an explicit answer is final;
 * `pending` and `unknown` are states the janitor settles later; succeeded and failed never change again.
 * A success pays the purchase and fulfils its service, a failure returns the purchase to payable; both
 * write their audit entries and outbox events in the same transaction.
 *
 * Locks the purchase, then the attempt (the order a collection uses), then the service, so concurrent
 * answers about one attempt (a redirect, a webhook and the janitor) apply one after the other and only the
 * first explicit one counts. The common path is four prepared statements (settlement-sql.ts); an answer
 * to an attempt this request started may take one (settleStarted).
 */
export async function settlePayment(ctx: AppContext, input: SettleInput, outerTx?: RawTransaction): Promise<Settlement> {
  const settle = (tx: RawTransaction) => settleInTransaction(ctx, tx, input);
  const settlement = outerTx ? await settle(outerTx) : await ctx.database.transaction(settle);
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
  if (isPlain(input, started)) {
    const now = ctx.clock();
    const done = fulfilment(service, now);
    try {
      const [row] = await run(ctx.database.query, PAY_FAST, { ...paidValues(input, payment, purchase, done, null, null, now), serviceVersion: service.version });
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

/** A plain success of an attempt just started: written in one statement (PAY_FAST, PAY_FAST_MANY) if nothing moved meanwhile. */
function isPlain(input: SettleInput, { payment, service }: StartedAttempt): boolean {
  const result = input.result;
  return result.status === 'succeeded' && payment.status === 'pending' && !service.autoRecharge && !(result.token && payment.tokenise) && outcome(payment, result).next === 'succeeded';
}

/**
 * settleStarted for several answers at once (a billing worker's chunk): the plain successes of attempts on
 * distinct services in one statement (PAY_FAST_MANY), everything else — and any success that statement did
 * not write — one by one, as settleStarted settles it. Each item's settlement, or the error settling it met.
 */
export async function settleStartedMany(ctx: AppContext, items: readonly { input: SettleInput; started: StartedAttempt }[]): Promise<(Settlement | Error)[]> {
  const now = ctx.clock();
  const services = new Set<string>();
  const fast: { k: number; values: Record<string, unknown> }[] = [];
  items.forEach(({ input, started }, k) => {
    const { payment, purchase, service } = started;
    if (!isPlain(input, started) || services.has(purchase.serviceId)) return;
    services.add(purchase.serviceId);
    const v = paidValues(input, payment, purchase, fulfilment(service, now), null, null, now);
    // PAY_FAST's values under PAY_FAST_MANY's input names (its comment is "purchaseComment"; raw stays JSON text, as PAY_FAST takes it).
    const { comment, ...rest } = v;
    fast.push({ k, values: { ...rest, purchaseComment: comment, audit: JSON.parse(v.audit as string), events: JSON.parse(v.events as string), serviceVersion: service.version } });
  });
  const paid = new Map<number, Settlement>();
  if (fast.length > 1) {
    try {
      const rows = await run(ctx.database.query, PAY_FAST_MANY, { payments: JSON.stringify(fast.map((f) => f.values)), now });
      const byId = new Map(rows.filter((r) => r.id).map((r) => [String(r.id), r]));
      for (const { k } of fast) {
        const row = byId.get(items[k]!.started.payment.id);
        if (!row) continue;
        const payment = toPaymentRow(row);
        ctx.telemetry.paymentOutcomes.inc({ provider: payment.provider, kind: payment.kind, status: 'succeeded' });
        paid.set(k, { payment, purchaseStatusId: PurchaseStatus.Paid, changed: true, conflict: null });
      }
    } catch (err) {
      // Half matched (payrail_assert), or a deadlock with a concurrent settlement: nothing was written.
      if (!['P0004', '40P01', '40001'].includes(sqlState(err) ?? '')) throw err;
      ctx.log.warn({ err }, 'settling a chunk in one statement met a concurrent change: settling each on its own');
    }
  }
  return Promise.all(
    items.map(async ({ input, started }, k) => {
      try {
        return paid.get(k) ?? (await settleStarted(ctx, input, started));
      } catch (err) {
        return err as Error;
      }
    }),
  );
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

  const { next, checkError } = outcome(payment, result);
  if (isTerminalPayment(payment.status)) {
    // Money taken for an attempt payrail had given up on: never dropped (a late success).
    if (payment.status === 'failed' && next === 'succeeded') return lateSuccess(ctx, tx, input, payment, purchase, `the attempt had failed (${payment.failureCode ?? 'failed'})`, now);
    const contradicts = (result.status === 'succeeded' || result.status === 'failed') && result.status !== payment.status;
    return unchanged(contradicts ? `payment is ${payment.status}, ${input.via} says ${result.status}` : null);
  }
  // A live attempt whose purchase a late success paid meanwhile: it succeeded too, so it goes back.
  if (next === 'succeeded' && purchase.statusId === PurchaseStatus.Paid) return lateSuccess(ctx, tx, input, payment, purchase, 'the purchase was paid by another payment', now);

  // Never guess: a success for another amount is not our success. Someone must look at it.
  if (checkError) ctx.log.error({ paymentId: payment.id, provider: payment.provider }, 'provider reported another amount: the payment stays unknown');
  const providerReference = result.providerReference ?? payment.providerReference;
  const raw = JSON.stringify(result.raw ?? payment.raw ?? null);
  const written = (rows: Record<string, unknown>[], purchaseStatusId: number, changed: boolean): Settlement => ({ payment: toPaymentRow(rows[0]!), purchaseStatusId, changed, conflict: null });

  if (next === 'pending' || (next === 'unknown' && payment.status === 'unknown') || !canMovePayment(payment.status, next)) {
    if (next !== 'pending' && next !== 'unknown') return unchanged();
    // Still waiting: only when to ask again, and what the provider said last.
    const status = payment.status === 'unknown' ? 'unknown' : 'pending';
    const rows = await run(tx.query, RECHECK, { paymentId: payment.id, now, audit: '[]', events: '[]', status: payment.status, nextCheckAt: recheckAt(now, payment, status, result), checkError, providerReference, raw });
    return written(rows, purchase.statusId, false);
  }

  if (next === 'unknown') {
    const r = unknownRecords(payment, purchase, input.via, providerReference);
    const rows = await run(tx.query, RECHECK, {
      paymentId: payment.id,
      now,
      audit: auditJson(actor, payment, r.audit),
      events: eventsJson(payment, now, r.events),
      status: 'unknown',
      nextCheckAt: recheckAt(now, payment, 'unknown', result),
      checkError,
      providerReference,
      raw,
    });
    return written(rows, purchase.statusId, true);
  }

  if (next === 'failed') {
    // The kind is what callers act on (declined, insufficient_funds …); the provider's own code stays in the message.
    const failureCode = result.failure?.kind ?? 'other';
    const failureMessage = result.failure ? `${result.failure.message} (${result.failure.code})` : 'The provider reported the payment as failed.';
    const purchaseStatusId = purchase.statusId === PurchaseStatus.Submitted ? payment.payableStatusId : purchase.statusId;
    const r = failedRecords(payment, purchase, input.via, { ...payment, status: 'failed', providerReference, failureCode, failureMessage }, purchaseStatusId);
    const rows = await run(tx.query, FAIL, { paymentId: payment.id, now, audit: auditJson(actor, payment, r.audit), events: eventsJson(payment, now, r.events), failureCode, failureMessage, providerReference, raw });
    return written(rows, purchaseStatusId, true);
  }

  // Succeeded: the money is taken. Pay the purchase, fulfil its service, keep a tokenised card.
  const [service] = await run<{ latest_period_end_date: IsoDate | null; billing_status: string; auto_recharge: boolean; owing: boolean; purchased_days: number; covered_until: IsoDate | null }, 'serviceId' | 'purchaseId'>(
    tx.query,
    LOCK_SERVICE,
    { serviceId: purchase.serviceId, purchaseId: purchase.id },
  );
  if (!service) throw new Error(`purchase ${purchase.id} has no service`);
  const done = fulfilment({ latestPeriodEndDate: service.latest_period_end_date, billingStatus: service.billing_status, owing: service.owing, purchasedDays: service.purchased_days, coveredUntil: service.covered_until }, now);
  const keptCard = result.token && payment.tokenise && !payment.createdMediumId ? await keepCard(ctx, tx, payment, purchase, result, now) : null;
  const scheduledPurchaseId = service.auto_recharge && done.periodEndAfter ? await scheduleNextAutoRecharge(tx.db, purchase.id, purchase.serviceId, done.periodEndAfter, now) : null;
  const rows = await run(tx.query, PAY, paidValues(input, payment, purchase, done, keptCard, scheduledPurchaseId, now));
  return written(rows, PurchaseStatus.Paid, true);
}

/** The values PAY and PAY_FAST take: the attempt, the purchase, the service, and their audit entries and events. */
function paidValues(input: SettleInput, payment: PaymentRow, purchase: PurchaseOfAttempt, done: Fulfilment, keptCard: string | null, scheduledPurchaseId: string | null, now: Date): Record<PaidParams, unknown> {
  const actor = input.actor ?? SYSTEM_ACTOR;
  const result = input.result;
  const providerReference = result.providerReference ?? payment.providerReference;
  const createdMediumId = keptCard ?? payment.createdMediumId;
  const r = paidRecords(payment, purchase, input.via, {
    providerReference,
    paidStatusId: PurchaseStatus.Paid,
    done,
    createdMedium: keptCard ? { id: keptCard, mediumType: result.token!.mediumType } : null,
    scheduledPurchaseId,
    now,
  });
  return {
    paymentId: payment.id,
    now,
    audit: auditJson(actor, payment, r.audit),
    events: eventsJson(payment, now, r.events),
    providerReference,
    raw: JSON.stringify(result.raw ?? payment.raw ?? null),
    createdMediumId,
    ...purchasePaidValues(payment, purchase, providerReference, createdMediumId, done),
  };
}

/** The purchase and service half of a payment: what PAY, PAY_FAST and PAY_LATE write to them. */
function purchasePaidValues(payment: PaymentRow, purchase: PurchaseOfAttempt, providerReference: string | null, createdMediumId: string | null, done: Fulfilment) {
  return {
    paymentReference: providerReference ?? payment.merchantReference,
    purchaseMediumId: createdMediumId ?? payment.mediumId ?? purchase.mediumId,
    purchaseSourceId: payment.purchaseSourceId,
    comment: payment.comment,
    purchaseId: purchase.id,
    periodEnd: done.periodEndAfter,
    billingStatus: done.billingStatus,
    clearSuspension: done.clearSuspension,
    serviceId: purchase.serviceId,
  };
}

async function lock(tx: RawTransaction, input: SettleInput): Promise<Locked> {
  let purchaseId = input.purchaseId;
  if (!purchaseId) {
    const [row] = await run<{ purchase_id: string }, 'paymentId'>(tx.query, PURCHASE_OF_ATTEMPT, { paymentId: input.paymentId });
    if (!row) throw new Error(`no payment ${input.paymentId}`);
    purchaseId = row.purchase_id;
  }
  const [row] = await run(tx.query, LOCK_ATTEMPT, { purchaseId, paymentId: input.paymentId });
  if (!row) throw new Error(`no payment ${input.paymentId} of purchase ${purchaseId}`);
  return {
    payment: toPaymentRow(row),
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
  const id = uuid7();
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
      // What the customer agreed to on the page, as payrail sent it (never the provider's echo).
      mandate: payment.mandate,
      createdAt: now,
      updatedAt: now,
    },
    { provider: payment.provider, value: token.value, agreementReference: token.agreementReference ?? null },
  );
  const [plan] = await tx.db
    .select({ id: purchasePlans.id, activeStatus: mediums.status })
    .from(purchasePlans)
    .leftJoin(mediums, eq(mediums.id, purchasePlans.activeMediumId))
    .where(eq(purchasePlans.serviceId, purchase.serviceId));
  if (plan && plan.activeStatus !== 'Valid') await tx.db.update(purchasePlans).set({ activeMediumId: id, updatedAt: now }).where(eq(purchasePlans.id, plan.id));
  return id;
}

/**
 * A success that came late (SPEC §7, issue "nothing stuck"): recorded once per attempt, it pays the purchase
 * if the purchase is still owed, and is otherwise listed for a refund; outbox `payment.late_success`. A failed
 * attempt stays failed (nothing leaves a final state); a live one whose purchase is already paid is marked
 * succeeded, since its money was taken.
 */
async function lateSuccess(ctx: AppContext, tx: RawTransaction, input: SettleInput, payment: PaymentRow, purchase: PurchaseOfAttempt, reason: string, now: Date): Promise<Settlement> {
  const actor = input.actor ?? SYSTEM_ACTOR;
  const [seen] = await run<{ id: string; disposition: 'paid_purchase' | 'refund_due' }, 'paymentId'>(tx.query, LATE_OF_ATTEMPT, { paymentId: payment.id });
  if (seen) return { payment, purchaseStatusId: purchase.statusId, changed: false, conflict: null, late: seen };
  const lateId = randomUUID();
  const providerReference = input.result.providerReference ?? payment.providerReference;
  const owed = payment.status === 'failed' && (PurchaseMoves.payLate.from as readonly number[]).includes(purchase.statusId);
  ctx.log.warn({ paymentId: payment.id, purchaseId: purchase.id, provider: payment.provider, owed, reason }, owed ? 'a late success pays its purchase' : 'a late success is listed for a refund');
  if (owed) {
    const [service] = await run<{ latest_period_end_date: IsoDate | null; billing_status: string; owing: boolean; purchased_days: number; covered_until: IsoDate | null }, 'serviceId' | 'purchaseId'>(tx.query, LOCK_SERVICE, { serviceId: purchase.serviceId, purchaseId: purchase.id });
    if (!service) throw new Error(`purchase ${purchase.id} has no service`);
    const done = fulfilment({ latestPeriodEndDate: service.latest_period_end_date, billingStatus: service.billing_status, owing: service.owing, purchasedDays: service.purchased_days, coveredUntil: service.covered_until }, now);
    const r = lateRecords(payment, purchase, { lateId, disposition: 'paid_purchase', reason, providerReference, done, now });
    await run(tx.query, PAY_LATE, {
      paymentId: payment.id,
      now,
      audit: auditJson(actor, payment, r.audit),
      events: eventsJson(payment, now, r.events),
      providerReference,
      ...purchasePaidValues(payment, purchase, providerReference, null, done),
      lateId,
      reason,
    });
    ctx.telemetry.paymentOutcomes.inc({ provider: payment.provider, kind: payment.kind, status: 'late_success' });
    return { payment, purchaseStatusId: PurchaseStatus.Paid, changed: true, conflict: null, late: { id: lateId, disposition: 'paid_purchase' } };
  }
  const r = lateRecords(payment, purchase, { lateId, disposition: 'refund_due', reason, providerReference, done: null, now });
  const markSucceeded = payment.status !== 'failed';
  await run(tx.query, LATE_REFUND_DUE, {
    paymentId: payment.id,
    now,
    audit: auditJson(actor, payment, r.audit),
    events: eventsJson(payment, now, r.events),
    lateId,
    reason,
    markSucceeded,
    providerReference,
    raw: JSON.stringify(input.result.raw ?? payment.raw ?? null),
    createdMediumId: payment.createdMediumId,
  });
  // The money goes back through the provider that took it (the refunds job sends it), or by hand if it came
  // from outside payrail.
  await recordRefund(ctx, tx.db, { paymentId: payment.id, reason: 'late_success', requestedBy: actor.id, now });
  const [row] = markSucceeded ? await run(tx.query, LOCK_ATTEMPT, { purchaseId: purchase.id, paymentId: payment.id }) : [];
  ctx.telemetry.paymentOutcomes.inc({ provider: payment.provider, kind: payment.kind, status: 'late_success' });
  return { payment: row ? toPaymentRow(row) : payment, purchaseStatusId: purchase.statusId, changed: true, conflict: null, late: { id: lateId, disposition: 'refund_due' } };
}
