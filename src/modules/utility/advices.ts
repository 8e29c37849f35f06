import { and, eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { VendAdviceResult } from '../../providers/vendor-contract.ts';
import { vendAdvices, vends } from './schema.ts';
import { currentVendor, vendorContext } from './vendor.ts';

const LEASE_MS = 150_000;
const retryDelayMs = (attempts: number): number => Math.min(1_800_000, 10_000 * 2 ** Math.min(attempts - 1, 8));

/**
 * Advices to the vendor, store-and-forward (PROVIDERS.md): each was written with what it advises; it is sent
 * with its own id (the same on every resend) until the vendor gives a final answer — 2xx (delivered), 4xx or
 * 501 (refused: stop, and log it) — and resent after 500, 504 or no answer.
 */
export async function workVendAdvices(ctx: AppContext, options: { now?: Date; limit?: number } = {}): Promise<number> {
  const now = options.now ?? ctx.clock();
  const claimed = await ctx.database.query<{ id: string }>(
    `UPDATE vend_advices SET attempts = attempts + 1, next_attempt_at = $1, updated_at = $2
      WHERE id IN (SELECT id FROM vend_advices WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
                   ORDER BY next_attempt_at NULLS FIRST LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    [new Date(now.getTime() + LEASE_MS), now, options.limit ?? 25],
    // Not named: planned for the table as it is at each claim (db/client.ts openPostgres).
  );
  let delivered = 0;
  const vendor = currentVendor();
  for (const { id } of claimed) {
    const [row] = await ctx.database.db.select({ advice: vendAdvices, vend: vends }).from(vendAdvices).innerJoin(vends, eq(vends.id, vendAdvices.vendId)).where(eq(vendAdvices.id, id));
    if (!row) continue;
    const input = { adviceId: row.advice.id, requestId: row.vend.requestId, sentAt: row.advice.createdAt, ...(row.advice.reason ? { reason: row.advice.reason as 'TIMEOUT' | 'CANCELLED' | 'RESPONSE_NOT_FINAL' } : {}) };
    let result: VendAdviceResult;
    try {
      result = row.advice.kind === 'confirmation' ? await vendor.confirm(input, vendorContext(ctx, vendor)) : await vendor.reverse(input, vendorContext(ctx, vendor));
    } catch (err) {
      result = { status: 'unknown', raw: { error: (err as Error).message.slice(0, 200) } };
    }
    const open = and(eq(vendAdvices.id, id), eq(vendAdvices.status, 'pending'));
    if (result.status === 'succeeded') {
      await ctx.database.db.update(vendAdvices).set({ status: 'delivered', deliveredAt: now, nextAttemptAt: null, lastError: null, updatedAt: now }).where(open);
      delivered++;
    } else if (result.status === 'failed') {
      ctx.log.error({ adviceId: id, vendId: row.vend.id, kind: row.advice.kind }, 'the vendor refused an advice: it is not sent again');
      await ctx.database.db.update(vendAdvices).set({ status: 'refused', nextAttemptAt: null, lastError: JSON.stringify(result.raw).slice(0, 500), updatedAt: now }).where(open);
    } else {
      await ctx.database.db.update(vendAdvices).set({ nextAttemptAt: new Date(now.getTime() + retryDelayMs(row.advice.attempts)), lastError: JSON.stringify(result.raw).slice(0, 500), updatedAt: now }).where(open);
    }
  }
  return delivered;
}
