import { randomUUID } from 'node:crypto';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { run } from '../../db/statement.ts';
import { PurchaseStatus } from '../../domain/enums.ts';
import type { IsoDate } from '../../domain/periods.ts';
import { LIVE_PAYMENT_STATUSES, PurchaseMoves } from '../../domain/state-machines.ts';
import { ConflictError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../mediums/repo.ts';
import type { CollectInput, Plan } from './collection-types.ts';
import { connectorContext } from './connector-context.ts';
import { newMerchantReference } from './merchant-reference.ts';
import { toPaymentRow } from './repo.ts';
import { payments } from './schema.ts';
import { settlePayment, type Settlement, type StartedAttempt } from './settle-payment.ts';
import { START_ATTEMPT, START_ATTEMPTS } from './settlement-sql.ts';

/** A hosted page or link opened this recently is still in use (a double click, a slow page): not superseded. */
const SUPERSEDE_AFTER_MS = 10_000;

/**
 * Step 1: the attempt is recorded, and the purchase marked Submitted, before any provider is asked. A
 * hosted page or payment link the customer left unpaid does not block the purchase: a new attempt
 * supersedes it (once), and money that still arrives on it is a late success.
 */
export async function startAttempt(ctx: AppContext, input: CollectInput, plan: Plan): Promise<{ attempt: StartedAttempt; allocation: Settlement | null }> {
  try {
    return await startOnce(ctx, input, plan);
  } catch (err) {
    const live = err instanceof Superseding ? err.live : null;
    if (!live) throw err;
    await supersede(ctx, input, live);
    return startOnce(ctx, input, plan, false);
  }
}

async function startOnce(ctx: AppContext, input: CollectInput, plan: Plan, mayTakeOver = true): Promise<{ attempt: StartedAttempt; allocation: Settlement | null }> {
  const { actor, purchaseId } = input;
  const now = ctx.clock();
  const startedRow = (row: Record<string, unknown> | undefined) => {
    if (mayTakeOver && row && !row.id && row.live_id && row.live_status === 'pending' && (row.live_kind === 'hosted' || row.live_kind === 'link')) {
      const age = now.getTime() - new Date(row.live_created_at as string | Date).getTime();
      if (age >= SUPERSEDE_AFTER_MS) throw new Superseding(row.live_id as string);
    }
    return started(ctx, purchaseId, row);
  };
  const values = {
    purchaseId,
    paymentId: randomUUID(),
    mediumId: plan.medium.id,
    provider: plan.provider,
    kind: plan.kind,
    merchantReference: newMerchantReference(),
    successUrl: plan.successUrl,
    failureUrl: plan.failureUrl,
    tokenise: plan.tokenise,
    purchaseSourceId: plan.purchaseSourceId,
    comment: plan.kind === 'allocation' ? (input.comment ?? null) : null,
    createdBy: actor.id,
    nextCheckAt: new Date(now.getTime() + (ctx.config.jobs.firstCheckAfterMs ?? plan.connector.timing.firstCheckAfterMs)),
    now,
    purchaseMediumId: plan.medium.id === GLOBAL_OPAQUE_MEDIUM_ID ? null : plan.medium.id,
    actorId: actor.id,
    actorRole: actor.role,
    requestId: actor.requestId,
    auditData: JSON.stringify({ purchase_id: purchaseId, provider: plan.provider, kind: plan.kind, medium_id: plan.medium.id }),
  };
  try {
    if (plan.kind !== 'allocation') {
      const rows = await run(ctx.database.query, START_ATTEMPT, values);
      return { attempt: await startedRow(rows[0]), allocation: null };
    }
    // Off-system money was collected elsewhere: recording it is the whole collection, in one transaction.
    return await ctx.database.transaction(async (tx) => {
      const rows = await run(tx.query, START_ATTEMPT, values);
      const attempt = await startedRow(rows[0]);
      const { payment } = attempt;
      const result = await plan.connector.allocate!(
        { merchantReference: payment.merchantReference, amount: { amountCents: payment.amountCents, currency: 'ZAR' }, purchaseSourceId: plan.purchaseSourceId!, comment: input.comment ?? null },
        connectorContext(ctx, plan.connector),
      );
      const allocation = await settlePayment(ctx, { paymentId: payment.id, purchaseId, via: 'allocation', actor, result }, tx);
      return { attempt: { ...attempt, payment: allocation.payment }, allocation };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw await inFlightConflict(ctx, purchaseId);
    throw err;
  }
}

/**
 * Step 1 for several stored-token charges at once (a billing worker's chunk), in one statement
 * (START_ATTEMPTS): each item gets what startAttempt would have given it, its attempt or the error
 * refusing it. Each purchase at most once, and each service: the statement bumps a service's version once
 * however many of its purchases it starts, which a settlement of one of them would take for its own.
 * Should the statement fail, each is started on its own.
 */
export async function startAttempts(ctx: AppContext, items: readonly { input: CollectInput; plan: Plan }[]): Promise<(StartedAttempt | Error)[]> {
  if (items.length === 0) return [];
  const now = ctx.clock();
  const roles = new Set(items.map((i) => i.input.actor.role));
  if (roles.size > 1 || items.some((i) => i.plan.kind !== 'token') || new Set(items.map((i) => i.input.serviceId.toLowerCase())).size < items.length) {
    throw new Error('startAttempts: token charges of distinct services by one kind of actor only');
  }
  const attempts = items.map(({ input, plan }) => ({
    purchase_id: input.purchaseId,
    payment_id: randomUUID(),
    medium_id: plan.medium.id,
    provider: plan.provider,
    kind: plan.kind,
    merchant_reference: newMerchantReference(),
    tokenise: plan.tokenise,
    created_by: input.actor.id,
    next_check_at: new Date(now.getTime() + (ctx.config.jobs.firstCheckAfterMs ?? plan.connector.timing.firstCheckAfterMs)).toISOString(),
    purchase_medium_id: plan.medium.id === GLOBAL_OPAQUE_MEDIUM_ID ? null : plan.medium.id,
    actor_id: input.actor.id,
    request_id: input.actor.requestId,
    audit_data: { purchase_id: input.purchaseId, provider: plan.provider, kind: plan.kind, medium_id: plan.medium.id },
  }));
  let rows: Record<string, unknown>[];
  try {
    rows = await run(ctx.database.query, START_ATTEMPTS, { attempts: JSON.stringify(attempts), now, actorRole: items[0]!.input.actor.role });
  } catch {
    // The statement is all or nothing: whatever stopped it (an attempt started elsewhere meanwhile, a
    // deadlock with another chunk, one bad row), each is started on its own, which decides it alone and
    // names an attempt in flight (one this statement recorded before the connection was lost, say).
    return Promise.all(items.map(({ input, plan }) => startAttempt(ctx, input, plan).then((s) => s.attempt, (e: unknown) => e as Error)));
  }
  const byPurchase = new Map(rows.map((row) => [String(row.input_purchase_id).toLowerCase(), row]));
  return Promise.all(
    items.map(async ({ input, plan }) => {
      const row = byPurchase.get(input.purchaseId.toLowerCase());
      try {
        // A payment page or link left open on it: startAttempt decides whether it is abandoned (superseded) or still in use.
        if (row && !row.id && row.live_id && row.live_status === 'pending' && (row.live_kind === 'hosted' || row.live_kind === 'link')) return (await startAttempt(ctx, input, plan)).attempt;
        return await started(ctx, input.purchaseId, row?.target_id ? row : undefined);
      } catch (err) {
        return err as Error;
      }
    }),
  );
}

/** START_ATTEMPT met a page or link nobody paid: it is superseded, then the attempt starts again. */
class Superseding extends Error {
  constructor(readonly live: string) {
    super('superseding an abandoned payment page');
  }
}

/**
 * Fails an abandoned page or link (`superseded`), which makes its purchase payable, and closes it at the
 * provider where the protocol allows. A payment made on it afterwards is a late success.
 */
async function supersede(ctx: AppContext, input: CollectInput, paymentId: string): Promise<void> {
  const settled = await settlePayment(ctx, {
    paymentId,
    via: 'superseded',
    actor: input.actor,
    result: { status: 'failed', providerReference: null, failure: { code: 'superseded', message: 'Replaced by a new attempt on the same purchase', kind: 'cancelled' }, raw: null },
  });
  const old = settled.payment;
  const connector = ctx.connectors.find(old.provider);
  if (!settled.changed || !connector?.cancelSession || old.kind === 'allocation' || old.kind === 'token') return;
  await connector.cancelSession({ merchantReference: old.merchantReference, providerReference: old.providerReference, kind: old.kind }, connectorContext(ctx, connector)).catch((err: unknown) => {
    ctx.log.warn({ paymentId: old.id, provider: old.provider, err: (err as Error).message }, 'could not close a superseded payment page at the provider; a payment on it will be a late success');
  });
}

/** Columns START_ATTEMPT returns beside the attempt's own. */
const CONTEXT_COLUMNS = new Set([
  'input_purchase_id',
  'target_id',
  'purchase_status_id',
  'purchase_amount_cents',
  'live_id',
  'live_status',
  'purchase_service_id',
  'purchase_customer_id',
  'purchase_small_key',
  'purchase_medium_id',
  'svc_version',
  'svc_latest_period_end_date',
  'svc_billing_status',
  'svc_auto_recharge',
  'svc_owing',
  'svc_purchased_days',
  'svc_covered_until',
]);

/** The attempt START_ATTEMPT recorded, with what it read about its purchase and service; or why it recorded none. */
async function started(ctx: AppContext, purchaseId: string, row: Record<string, unknown> | undefined): Promise<StartedAttempt> {
  if (!row) throw new NotFoundError('purchase', purchaseId);
  if (row.id) {
    const payment = toPaymentRow(Object.fromEntries(Object.entries(row).filter(([k]) => !CONTEXT_COLUMNS.has(k))));
    return {
      payment,
      // As the attempt left it: Submitted.
      purchase: {
        id: purchaseId,
        statusId: PurchaseMoves.submit.to,
        serviceId: row.purchase_service_id as string,
        customerId: row.purchase_customer_id as string,
        smallKey: row.purchase_small_key as number,
        mediumId: row.purchase_medium_id as string | null,
        amountCents: row.purchase_amount_cents as number,
      },
      // The version its own purchase update moved the service to.
      service: {
        version: String(BigInt(row.svc_version as string) + 1n),
        latestPeriodEndDate: row.svc_latest_period_end_date as IsoDate | null,
        billingStatus: row.svc_billing_status as string,
        autoRecharge: row.svc_auto_recharge === true,
        owing: row.svc_owing === true,
        purchasedDays: row.svc_purchased_days as number,
        coveredUntil: (row.svc_covered_until as IsoDate | null) ?? null,
      },
    };
  }
  const statusId = row.purchase_status_id as number;
  if (statusId === PurchaseStatus.Paid) throw alreadyPaid(purchaseId);
  if (statusId === PurchaseStatus.Submitted || row.live_id) {
    // A concurrent submit may have committed its attempt after this statement's snapshot: look again.
    throw row.live_id ? inFlight(purchaseId, { id: row.live_id as string, status: row.live_status as string }) : await inFlightConflict(ctx, purchaseId);
  }
  if ((PurchaseMoves.submit.from as readonly number[]).includes(statusId)) {
    throw new UnprocessableError('purchase.nothing_to_pay', `Purchase ${purchaseId} is for R0.00: there is nothing to collect.`);
  }
  throw new UnprocessableError('purchase.not_payable', `Purchase ${purchaseId} cannot be paid (status ${statusId}).`);
}

const alreadyPaid = (purchaseId: string) =>
  new ConflictError('purchase.already_paid', `Purchase ${purchaseId} is already paid; it is never charged again.`, { extensions: { purchase_id: purchaseId } });

async function inFlightConflict(ctx: AppContext, purchaseId: string): Promise<ConflictError> {
  const [live] = await ctx.database.db
    .select({ id: payments.id, status: payments.status })
    .from(payments)
    .where(and(eq(payments.purchaseId, purchaseId), inArray(payments.status, [...LIVE_PAYMENT_STATUSES]), isNull(payments.returnedAt)));
  if (live?.status === 'succeeded') return alreadyPaid(purchaseId);
  return inFlight(purchaseId, live ?? null);
}

function inFlight(purchaseId: string, live: { id: string; status: string } | null): ConflictError {
  return new ConflictError(
    'purchase.collection_in_flight',
    live ? `Purchase ${purchaseId} already has a collection attempt in flight: payment ${live.id} (${live.status}).` : `Purchase ${purchaseId} already has a collection attempt in flight.`,
    { extensions: { purchase_id: purchaseId, ...(live ? { payment_id: live.id, payment_status: live.status } : {}) } },
  );
}
