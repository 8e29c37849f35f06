import { and, asc, eq, gte, inArray, isNull, lte, min, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { AttemptResult, Connector } from '../../providers/contract.ts';
import { revealMediumToken } from '../mediums/repo.ts';
import { claimLookupSlot } from './call-slots.ts';
import { connectorContext, partiesOfPayment, lookupInputOf } from './connector-context.ts';
import type { PaymentRow } from './repo.ts';
import { payments, providerEvents } from './schema.ts';
import { settlePayment, type SettlementSource } from './settle-payment.ts';

/** A claimed attempt is not claimed again for this long: a crashed janitor's claim simply becomes due again. */
const LEASE_MS = 120_000;

export interface JanitorRun {
  checked: number;
  settled: number;
  failedChecks: number;
}

/**
 * The janitor (SPEC §7, Kill Bill's lesson): attempts still `pending` or `unknown` past their provider's
 * delay are looked up at the provider and settled with what it says. Only the provider's explicit answer
 * settles one — with the exceptions its own rules make: past the attempt's deadline, the provider having
 * no such transaction (or a page never handed out) means the request never arrived (`not_sent`); a hosted
 * page or link that closed, with no payment reported within the provider's settle window, failed
 * (`expired`). Should money still arrive for either, it is a late success (settle-payment). A look-up that fails is
 * tried again later with backoff, and a provider's look-up allowance (Peach: two a minute) is kept. Several
 * janitors (processes) can run at once: attempts are claimed with `FOR UPDATE SKIP LOCKED` and leased,
 * and no transaction is held while the provider is asked.
 */
export async function settleUnsettledPayments(ctx: AppContext, options: { now?: Date; limit?: number } = {}): Promise<JanitorRun> {
  const now = options.now ?? ctx.clock();
  const claimed = await claim(ctx, now, options.limit ?? 25);
  let settled = 0;
  let failedChecks = 0;
  for (const payment of claimed) {
    const connector = ctx.connectors.find(payment.provider);
    if (!connector?.lookup || payment.kind === 'allocation') continue;
    const pastDeadline = deadlinePassed(ctx, connector, payment, now);
    // A page or link that never reached anyone (payrail stopped before handing it out): nobody can pay it.
    if (pastDeadline && (payment.kind === 'hosted' || payment.kind === 'link') && !payment.redirectUrl) {
      const outcome = await settlePayment(ctx, { paymentId: payment.id, result: notSent('the payment page was never handed to the customer'), via: 'deadline' });
      if (outcome.changed) settled++;
      continue;
    }
    const input = lookupInputOf(payment, payment.kind === 'token' ? await tokenOf(ctx, payment) : null, await partiesOfPayment(ctx, payment));
    const slot = await claimLookupSlot(ctx, connector, input.kind, now);
    if (!slot.ok) {
      await ctx.database.db.update(payments).set({ nextCheckAt: slot.nextAt }).where(eq(payments.id, payment.id));
      continue;
    }
    let result: AttemptResult;
    try {
      result = await connector.lookup(input, connectorContext(ctx, connector));
    } catch (err) {
      failedChecks++;
      ctx.log.warn({ paymentId: payment.id, provider: payment.provider, err: (err as Error).message }, 'could not look up a payment; will try again');
      // Asked again a backoff later, but by the deadline if that comes first: a provider that did not answer
      // now must not keep a request that never reached it from being judged (and its purchase payable) on time.
      const deadline = deadlineOf(ctx, connector, payment);
      const later = new Date(now.getTime() + backoffMs(payment.checks));
      const nextCheckAt = deadline && deadline > now && deadline < later ? deadline : later;
      await ctx.database.db.update(payments).set({ lastCheckError: (err as Error).message.slice(0, 500), nextCheckAt }).where(eq(payments.id, payment.id));
      continue;
    }
    // A notice from the provider that payrail holds but has not processed yet (its process died with it
    // claimed) may be this attempt's success: nothing is judged not sent while one waits.
    const noticeWaiting = result.absent && pastDeadline && (await unprocessedNotice(ctx, payment));
    const { result: final, via } =
      result.absent && pastDeadline && !noticeWaiting ? { result: notSent('the provider has no such transaction, past the attempt’s deadline'), via: 'deadline' as const } : pastWindow(connector, payment, result, now);
    const outcome = await settlePayment(ctx, { paymentId: payment.id, result: final, via });
    if (outcome.changed && (outcome.payment.status === 'succeeded' || outcome.payment.status === 'failed')) settled++;
    // Not at the provider yet, and not yet past the deadline: ask again when the deadline comes, not a
    // backoff later, so a request that never arrived makes its purchase payable again on time.
    const deadline = deadlineOf(ctx, connector, payment);
    if (result.absent && !pastDeadline && deadline && (outcome.payment.status === 'pending' || outcome.payment.status === 'unknown')) {
      await ctx.database.db
        .update(payments)
        .set({ nextCheckAt: sql`least(${payments.nextCheckAt}, ${deadline.toISOString()}::timestamptz)` })
        .where(and(eq(payments.id, payment.id), inArray(payments.status, ['pending', 'unknown'])));
    }
  }
  await reportLag(ctx, now);
  return { checked: claimed.length, settled, failedChecks };
}

/** 15 s, 30 s, 1 min … capped at an hour. */
export const backoffMs = (checks: number): number => Math.min(15_000 * 2 ** Math.max(0, Math.min(checks - 1, 12)), 3_600_000);

/**
 * A hosted page or link the provider still reports unpaid (pending, cancelled-not-final, nothing to ask by)
 * once its session has closed and the provider's settle window has passed: failed, `expired`.
 */
function pastWindow(connector: Connector, payment: PaymentRow, result: AttemptResult, now: Date): { result: AttemptResult; via: SettlementSource } {
  const window = connector.timing.settleWindowMs;
  const open = result.status === 'pending' || result.status === 'unknown';
  if (!open || !payment.expiresAt || window === undefined || now.getTime() < payment.expiresAt.getTime() + window) return { result, via: 'lookup' };
  return {
    via: 'deadline',
    result: {
      ...result,
      status: 'failed',
      failure: { code: 'expired', message: 'The payment page closed and the provider reported no payment within its window', kind: 'cancelled' },
    },
  };
}

/** An unprocessed callback of the attempt's provider, received since it started, that names it (verified or not). */
async function unprocessedNotice(ctx: AppContext, payment: PaymentRow): Promise<boolean> {
  const [row] = await ctx.database.db
    .select({ id: providerEvents.id })
    .from(providerEvents)
    .where(
      and(
        eq(providerEvents.provider, payment.provider),
        isNull(providerEvents.processedAt),
        gte(providerEvents.receivedAt, payment.createdAt),
        eq(providerEvents.merchantReference, payment.merchantReference),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** When the provider must know an attempt by (ConnectorTiming.deadlineMs after it started), if it has a deadline. */
function deadlineOf(ctx: AppContext, connector: Connector, payment: PaymentRow): Date | null {
  const deadline = ctx.config.jobs.attemptDeadlineMs ?? connector.timing.deadlineMs;
  return deadline === undefined ? null : new Date(payment.createdAt.getTime() + deadline);
}

/** Whether an attempt is older than the deadline by which its provider must know it. */
function deadlinePassed(ctx: AppContext, connector: Connector, payment: PaymentRow, now: Date): boolean {
  const deadline = deadlineOf(ctx, connector, payment);
  return deadline !== null && now.getTime() >= deadline.getTime();
}

/** The request never reached the provider: the attempt failed, nothing was charged, the purchase is payable again. */
const notSent = (why: string): AttemptResult => ({ status: 'failed', providerReference: null, failure: { code: 'not_sent', message: `Never reached the provider: ${why}`, kind: 'not_sent' }, raw: { reason: why } });

/** The stored token a token charge used, for a provider that finds payments by token. */
async function tokenOf(ctx: AppContext, payment: PaymentRow): Promise<string | null> {
  if (!payment.mediumId) return null;
  const stored = await revealMediumToken(ctx.database.db, ctx.vault, payment.mediumId);
  return stored?.provider === payment.provider ? stored.token : null;
}

async function claim(ctx: AppContext, now: Date, limit: number): Promise<PaymentRow[]> {
  return ctx.database.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: payments.id })
      .from(payments)
      .where(and(inArray(payments.status, ['pending', 'unknown']), lte(payments.nextCheckAt, now)))
      .orderBy(asc(payments.nextCheckAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (due.length === 0) return [];
    return tx
      .update(payments)
      .set({ nextCheckAt: new Date(now.getTime() + LEASE_MS), checks: sql`${payments.checks} + 1` })
      .where(inArray(payments.id, due.map((d) => d.id)))
      .returning();
  });
}

async function reportLag(ctx: AppContext, now: Date): Promise<void> {
  const [row] = await ctx.database.db
    .select({ oldest: min(payments.nextCheckAt) })
    .from(payments)
    .where(and(inArray(payments.status, ['pending', 'unknown']), lte(payments.nextCheckAt, now)));
  const oldest = row?.oldest ? new Date(row.oldest) : null;
  ctx.telemetry.jobLag.set({ job: 'janitor' }, oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0);
}
