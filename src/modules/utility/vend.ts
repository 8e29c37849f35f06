import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { PurchaseMoves } from '../../domain/state-machines.ts';
import { ConnectorError } from '../../lib/errors.ts';
import type { VendPurchaseResult, VendToken } from '../../providers/vendor-contract.ts';
import { payments } from '../payments/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { recordRefund } from '../refunds/request-refund.ts';
import { processRefund } from '../refunds/work-refunds.ts';
import { enqueueEvents, type OutboxEvent } from '../webhooks/enqueue-event.ts';
import { vendAdvices, vends } from './schema.ts';
import { currentVendor, vendorContext } from './vendor.ts';

export type VendRow = typeof vends.$inferSelect;

/** A claimed vend is not claimed again until the vendor's answer can no longer come (the timeout, and then some). */
const leaseMs = (ctx: AppContext): number => ctx.config.collections.providerTimeoutMs + 10_000;
/** An unknown vend is retried soon, then less often: at most every 10 minutes. */
const retryDelayMs = (sends: number): number => Math.min(600_000, 5_000 * 2 ** Math.min(sends - 1, 7));

/**
 * The vends job (SPEC §12): every paid utility purchase has one vend row (a trigger made it with the payment).
 * A vend is claimed, its send counted and committed, then the vendor asked: the first send is the purchase,
 * every later one a retry of the same request id — so a process that dies after sending can only ever
 * retry, which the vendor answers with the tokens it already issued (or issues them, or declines), never a
 * second token. Issued tokens are sealed and confirmed to the vendor (an advice, store-and-forward); a
 * declined vend cancels the purchase and refunds its payment; an unknown one is retried until it is final.
 * Returns how many vends it claimed.
 */
export async function workVends(ctx: AppContext, options: { now?: Date; limit?: number } = {}): Promise<number> {
  const now = options.now ?? ctx.clock();
  const vendor = currentVendor();
  const claimed = await ctx.database.query<{ id: string }>(
    `UPDATE vends SET sends = sends + 1, status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END,
            vendor = coalesce(vendor, $4), next_attempt_at = $1, updated_at = $2
      WHERE id IN (SELECT id FROM vends WHERE status IN ('pending', 'sent', 'unknown') AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
                   ORDER BY next_attempt_at NULLS FIRST LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    [new Date(now.getTime() + leaseMs(ctx)), now, options.limit ?? 25, vendor.id],
    // Not named: planned for the table as it is at each claim (db/client.ts openPostgres).
  );
  for (const { id } of claimed) await sendVend(ctx, id, now);
  return claimed.length;
}

/**
 * A purchase was just paid: if it is a utility purchase, its vend is sent now rather than at the job's next
 * tick (the customer is waiting for the token). Only where this process runs the jobs; in the background;
 * the same claim as the job's, so the two never both send it.
 */
export function vendSoon(ctx: AppContext, purchaseId: string): void {
  if (!ctx.config.jobs.inProcess) return;
  const now = ctx.clock();
  void (async () => {
    const vendor = currentVendor();
    const claimed = await ctx.database.query<{ id: string }>(
      `UPDATE vends SET sends = sends + 1, status = 'sent', vendor = coalesce(vendor, $3), next_attempt_at = $1, updated_at = $2
        WHERE purchase_id = $4 AND status = 'pending' RETURNING id`,
      [new Date(now.getTime() + leaseMs(ctx)), now, vendor.id, purchaseId],
      'payrail_claim_vend_now_v1',
    );
    for (const { id } of claimed) await sendVend(ctx, id, now);
  })().catch((err: unknown) => ctx.log.warn({ purchaseId, err: (err as Error).message }, 'vending at once failed; the vends job takes it'));
}

/** Sends one claimed vend (a purchase, or a retry of it) and stores the answer. True when it is now final. */
async function sendVend(ctx: AppContext, vendId: string, now: Date): Promise<boolean> {
  const [vend] = await ctx.database.db.select().from(vends).where(eq(vends.id, vendId));
  if (!vend || (vend.status !== 'sent' && vend.status !== 'unknown')) return false;
  const vendor = currentVendor();
  // Every send is the same message, time included: a retry repeats the original.
  const input = { requestId: vend.requestId, meterId: vend.meterId, amount: { amountCents: vend.amountCents, currency: 'ZAR' as const }, sentAt: vend.createdAt };
  let result: VendPurchaseResult;
  try {
    result = vend.sends <= 1 ? await vendor.purchase(input, vendorContext(ctx, vendor)) : await vendor.retryPurchase(input, vendorContext(ctx, vendor));
  } catch (err) {
    // Nothing reached the vendor: still not final. The next send is a retry all the same (a retry of a
    // purchase the vendor never saw is processed as a new one).
    ctx.log.warn({ vendId, err: (err as Error).message }, err instanceof ConnectorError ? 'the vendor could not be reached; the vend is retried' : 'sending a vend failed; it is retried');
    result = { status: 'unknown', tokens: [], raw: { error: (err as Error).message.slice(0, 200) } };
  }
  return storeVendResult(ctx, vend, result, now);
}

async function storeVendResult(ctx: AppContext, vend: VendRow, result: VendPurchaseResult, now: Date): Promise<boolean> {
  const open = and(eq(vends.id, vend.id), inArray(vends.status, ['sent', 'unknown']));
  if (result.status === 'succeeded' && result.tokens.length === 0) {
    // A success without a token is not one the customer can use: ask again.
    ctx.log.error({ vendId: vend.id }, 'the vendor answered a vend with success but no token; it is retried');
    result = { ...result, status: 'unknown' };
  }
  if (result.status === 'unknown') {
    await ctx.database.db.update(vends).set({ status: 'unknown', raw: result.raw as never, nextAttemptAt: new Date(now.getTime() + retryDelayMs(vend.sends)), updatedAt: now }).where(open);
    return false;
  }
  let refundId: string | null = null;
  const final = await ctx.database.transaction(async ({ db: tx }) => {
    const events: OutboxEvent[] = [];
    if (result.status === 'succeeded') {
      const summary = summaryOf(result.tokens);
      const [done] = await tx
        .update(vends)
        .set({ status: 'succeeded', sealedTokens: ctx.vault.seal(JSON.stringify(result.tokens), tokenContext(vend.id)), summary: summary as never, raw: result.raw as never, settledAt: now, nextAttemptAt: null, updatedAt: now })
        .where(open)
        .returning();
      if (!done) return false;
      await tx.insert(vendAdvices).values({ id: randomUUID(), vendId: vend.id, kind: 'confirmation', createdAt: now, updatedAt: now }).onConflictDoNothing();
      events.push({ operatorId: vend.operatorId, type: 'utility.tokens_issued', data: { purchase_id: vend.purchaseId, service_id: vend.serviceId, vend_id: vend.id, meter_id: vend.meterId, amount: vend.amountCents / 100, tokens: summary } });
    } else {
      const [done] = await tx
        .update(vends)
        .set({ status: 'failed', failureCode: result.failure?.code ?? 'declined', failureMessage: result.failure?.message ?? 'The vendor declined the purchase', raw: result.raw as never, settledAt: now, nextAttemptAt: null, updatedAt: now })
        .where(open)
        .returning();
      if (!done) return false;
      // Nothing was delivered: the purchase is cancelled and the money that paid it goes back.
      await tx
        .update(purchases)
        .set({ statusId: PurchaseMoves.undelivered.to, updatedAt: now })
        .where(and(eq(purchases.id, vend.purchaseId), inArray(purchases.statusId, [...PurchaseMoves.undelivered.from])));
      const [paid] = await tx
        .select({ id: payments.id })
        .from(payments)
        .where(and(eq(payments.purchaseId, vend.purchaseId), eq(payments.status, 'succeeded'), isNull(payments.returnedAt)))
        .orderBy(asc(payments.settledAt))
        .limit(1);
      if (paid) {
        const recorded = await recordRefund(ctx, tx, { paymentId: paid.id, reason: 'vend_declined', requestedBy: 'system', now });
        if (recorded.refund.status === 'pending') refundId = recorded.refund.id;
      } else {
        ctx.log.error({ vendId: vend.id, purchaseId: vend.purchaseId }, 'a declined vend has no succeeded payment to refund');
      }
      events.push({ operatorId: vend.operatorId, type: 'utility.vend_failed', data: { purchase_id: vend.purchaseId, service_id: vend.serviceId, vend_id: vend.id, meter_id: vend.meterId, code: result.failure?.code ?? 'declined', refund: paid ? true : false } });
    }
    await enqueueEvents(tx, events, now);
    return true;
  });
  // The refund is asked for at once; the refunds job takes it if this process stops first.
  if (refundId) await processRefund(ctx, refundId).catch((err: unknown) => ctx.log.warn({ refundId, err: (err as Error).message }, 'refunding a declined vend failed for now; the refunds job retries it'));
  return final;
}

/** What may be shown of tokens without their digits. */
export function summaryOf(tokens: readonly VendToken[]) {
  return tokens.map((t) => ({ token_type: t.tokenType, units: t.units, receipt_number: t.receiptNumber, amount: t.amount ? t.amount.amountCents / 100 : null }));
}

/** The vault context tokens are sealed under: bound to their vend. */
export const tokenContext = (vendId: string): string => `vend:${vendId}`;

/** Opens a vend's sealed tokens. */
export function openTokens(ctx: Pick<AppContext, 'vault'>, vend: Pick<VendRow, 'id' | 'sealedTokens'>): VendToken[] {
  return vend.sealedTokens ? (JSON.parse(ctx.vault.open(vend.sealedTokens, tokenContext(vend.id))) as VendToken[]) : [];
}
