import { and, eq, inArray, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { ConnectorError } from '../../lib/errors.ts';
import type { RefundInput, RefundResult } from '../../providers/contract.ts';
import { connectorContext } from '../payments/connector-context.ts';
import { lateSuccesses, payments } from '../payments/schema.ts';
import { enqueueEvents } from '../webhooks/enqueue-event.ts';
import { refundEventData, type RefundRow } from './request-refund.ts';
import { refunds } from './schema.ts';

/** A claimed refund is not claimed again for this long: a crashed worker's claim simply becomes due again. */
const LEASE_MS = 120_000;
/** A refund the provider says it has no record of is sent again only after this many checks (some minutes after it was sent). */
const RESEND_AFTER_CHECKS = 4;
const backoffMs = (checks: number): number => Math.min(3_600_000, 30_000 * 2 ** Math.min(checks, 7));

/**
 * The refunds job: refunds not yet sent are sent once; refunds whose outcome is pending or unknown are asked
 * about (lookupRefund) — and sent again with the same reference only when the provider says it has no such
 * refund, well after it was sent. Only the provider's explicit answer settles a refund. Claimed with
 * FOR UPDATE SKIP LOCKED and leased; no transaction is held while the provider is asked.
 */
export async function workRefunds(ctx: AppContext, options: { now?: Date; limit?: number } = {}): Promise<number> {
  const now = options.now ?? ctx.clock();
  const claimed = await ctx.database.query<{ id: string }>(
    `UPDATE refunds SET next_check_at = $1, checks = checks + 1, updated_at = $2
      WHERE id IN (SELECT id FROM refunds WHERE status IN ('pending', 'unknown') AND (next_check_at IS NULL OR next_check_at <= $2)
                   ORDER BY next_check_at NULLS FIRST LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    [new Date(now.getTime() + LEASE_MS), now, options.limit ?? 25],
    // Not named: planned for the table as it is at each claim (db/client.ts openPostgres).
  );
  let settled = 0;
  for (const { id } of claimed) if (await processRefund(ctx, id, now)) settled++;
  return settled;
}

/** Sends or asks about one refund, and applies what the provider says. True when it is now final. */
export async function processRefund(ctx: AppContext, refundId: string, now: Date = ctx.clock()): Promise<boolean> {
  const [refund] = await ctx.database.db.select().from(refunds).where(eq(refunds.id, refundId));
  if (!refund || (refund.status !== 'pending' && refund.status !== 'unknown')) return false;
  const [payment] = await ctx.database.db.select().from(payments).where(eq(payments.id, refund.paymentId));
  const connector = ctx.connectors.find(refund.provider);
  if (!payment || !connector?.refund || payment.kind === 'allocation') return false;
  // A late success on an attempt payrail had failed keeps the provider's id of the money on its record.
  const late = payment.providerReference ? null : (await ctx.database.db.select({ providerReference: lateSuccesses.providerReference }).from(lateSuccesses).where(eq(lateSuccesses.paymentId, payment.id)))[0];
  const input: RefundInput = {
    refundReference: refund.refundReference,
    merchantReference: payment.merchantReference,
    providerReference: payment.providerReference ?? late?.providerReference ?? null,
    kind: payment.kind,
    amount: { amountCents: refund.amountCents, currency: 'ZAR' },
    original: { amountCents: payment.amountCents, currency: 'ZAR' },
    reason: refund.reason === 'vend_declined' ? 'Electricity could not be delivered' : refund.reason === 'late_success' ? 'Paid twice' : 'Refund',
  };
  const cctx = connectorContext(ctx, connector);
  let result: RefundResult;
  try {
    if (refund.sends === 0) {
      result = await send(ctx, refund, () => connector.refund!(input, cctx), now);
    } else {
      const asked = connector.lookupRefund ? await connector.lookupRefund(input, cctx) : { status: 'unknown' as const, providerReference: null, raw: { reason: 'the provider cannot be asked about a refund' } };
      const notThere = asked.status === 'failed' && asked.failure?.code === 'not_found';
      const sentLongAgo = refund.checks > RESEND_AFTER_CHECKS;
      result = notThere && sentLongAgo ? await send(ctx, refund, () => connector.refund!(input, cctx), now) : notThere ? { status: 'unknown', providerReference: null, raw: asked.raw } : asked;
    }
  } catch (err) {
    const nothingSent = err instanceof ConnectorError && err.kind !== 'timeout';
    ctx.log.warn({ refundId, provider: refund.provider, err: (err as Error).message }, nothingSent ? 'a refund could not be sent; it will be tried again' : 'asking about a refund failed; will ask again');
    await ctx.database.db
      .update(refunds)
      .set({ ...(nothingSent && refund.sends <= 1 ? { sends: 0 } : {}), failureMessage: (err as Error).message.slice(0, 500), nextCheckAt: new Date(now.getTime() + backoffMs(refund.checks)), updatedAt: now })
      .where(eq(refunds.id, refundId));
    return false;
  }
  return applyRefundResult(ctx, refund, result, now);
}

/** Marks the refund sent (committed) before the provider is asked: a crash after this asks, never resends blindly. */
async function send(ctx: AppContext, refund: RefundRow, call: () => Promise<RefundResult>, now: Date): Promise<RefundResult> {
  await ctx.database.db.update(refunds).set({ sends: sql`${refunds.sends} + 1`, updatedAt: now }).where(eq(refunds.id, refund.id));
  return call();
}

async function applyRefundResult(ctx: AppContext, refund: RefundRow, result: RefundResult, now: Date): Promise<boolean> {
  return ctx.database.db.transaction(async (tx) => {
    const open = and(eq(refunds.id, refund.id), inArray(refunds.status, ['pending', 'unknown']));
    if (result.status === 'succeeded' || result.status === 'failed') {
      const [done] = await tx
        .update(refunds)
        .set({
          status: result.status,
          providerReference: result.providerReference ?? refund.providerReference,
          failureCode: result.failure?.code ?? null,
          failureMessage: result.failure?.message ?? null,
          raw: result.raw as never,
          settledAt: now,
          nextCheckAt: null,
          updatedAt: now,
        })
        .where(open)
        .returning();
      if (!done) return false;
      if (result.status === 'succeeded') await tx.update(payments).set({ refundedAt: now, updatedAt: now }).where(eq(payments.id, refund.paymentId));
      else ctx.log.error({ refundId: refund.id, provider: refund.provider, code: result.failure?.code }, 'the provider refused a refund: someone must give the money back');
      await enqueueEvents(tx, [{ operatorId: refund.operatorId, type: result.status === 'succeeded' ? 'payment.refunded' : 'payment.refund_failed', data: refundEventData(done) }], now);
      return true;
    }
    await tx
      .update(refunds)
      .set({ status: result.status === 'unknown' ? 'unknown' : 'pending', providerReference: result.providerReference ?? refund.providerReference, raw: result.raw as never, nextCheckAt: new Date(now.getTime() + backoffMs(refund.checks)), updatedAt: now })
      .where(open);
    return false;
  });
}
