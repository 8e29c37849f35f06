import { and, eq, inArray, lte, min, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { Connector, VerifiedCallback } from '../../providers/contract.ts';
import { connectorContext } from './connector-context.ts';
import { findPayment } from './provider-callbacks.ts';
import { applyReturnNotice } from './record-return.ts';
import { payments, providerFeeds } from './schema.ts';
import { settlePayment } from './settle-payment.ts';

/**
 * A feed's reader holds it for one read — a connector reads a few dozen pages at most, each within the
 * provider timeout — and a margin, renewed after each read: a crashed reader's claim simply lapses.
 */
const leaseUntil = (ctx: AppContext, from: Date): Date => new Date(from.getTime() + 25 * ctx.config.collections.providerTimeoutMs + 60_000);
/** Pages read in one claim before the feed is left to the next run (a full read runs again at once). */
const READS_PER_CLAIM = 10;
/** After a failed read: 30 s, then a minute while reads keep failing (the feed is all that settles some results). */
const retryDelayMs = (failedBefore: boolean): number => (failedBefore ? 60_000 : 30_000);

export interface FeedRun {
  /** Feeds read. */
  read: number;
  /** Entries about payrail's attempts that changed something (a settlement, a return). */
  applied: number;
  /** A feed has more waiting: read again now. */
  more: boolean;
}

/**
 * Provider feeds of payment results (SPEC §11: Debitsuccess's payment statuses), read on each connector's
 * schedule (`timing.feedEveryMs`). They bring what no notice brought — a webhook the provider disabled after
 * failed deliveries loses nothing — and returns of payments that succeeded. Each entry is applied as a
 * verified notice would be (settle-payment, record-return), so an entry read twice, or also delivered by
 * webhook, changes nothing the second time. One process reads a feed at a time (its row is claimed with
 * FOR UPDATE SKIP LOCKED and leased a read at a time); the bookmark is saved after each read, so a crash re-reads at most one.
 */
export async function readPaymentFeeds(ctx: AppContext, options: { now?: Date } = {}): Promise<FeedRun> {
  const run: FeedRun = { read: 0, applied: 0, more: false };
  for (const connector of ctx.connectors.all()) {
    if (!connector.readPaymentFeed) continue;
    const now = options.now ?? ctx.clock();
    // Read only while something may still come: attempts in flight, or settled ones still watched (returns).
    const inFlight = await attemptsInFlight(ctx, connector);
    const watched = await watchedUntil(ctx, connector);
    if (!inFlight && !(watched && watched > now)) continue;
    const claimed = await claim(ctx, connector, now);
    if (!claimed) continue;
    run.read++;
    // A watch that had lapsed left nothing to learn between then and now: start afresh from what is in flight.
    let position = claimed.watchUntil && claimed.watchUntil > now ? claimed.position : null;
    try {
      const startAt = position ? now : await firstStart(ctx, connector, now);
      let more = false;
      for (let read = 0; read < READS_PER_CLAIM; read++) {
        const page = await connector.readPaymentFeed({ position, startAt }, connectorContext(ctx, connector));
        let applied = 0;
        for (const entry of page.entries) if (await applyEntry(ctx, connector, entry)) applied++;
        position = page.position;
        run.applied += applied;
        await ctx.database.db
          .update(providerFeeds)
          .set({ position, nextReadAt: leaseUntil(ctx, new Date(Math.max(now.getTime(), ctx.clock().getTime()))), lastReadAt: ctx.clock(), lastError: null, entriesApplied: sql`${providerFeeds.entriesApplied} + ${applied}`, updatedAt: ctx.clock() })
          .where(eq(providerFeeds.provider, connector.id));
        more = page.more;
        if (!more) break;
      }
      run.more ||= more;
      const next = more ? now : new Date(now.getTime() + (connector.timing.feedEveryMs ?? 60_000));
      const watch = inFlight ? { watchUntil: new Date(now.getTime() + (connector.timing.feedWatchMs ?? 0)) } : {};
      await ctx.database.db.update(providerFeeds).set({ nextReadAt: next, ...watch, updatedAt: ctx.clock() }).where(eq(providerFeeds.provider, connector.id));
    } catch (err) {
      const message = (err as Error).message.slice(0, 500);
      ctx.log.warn({ provider: connector.id, err: message }, 'could not read the provider’s payment feed; will try again');
      await ctx.database.db
        .update(providerFeeds)
        .set({ lastError: message, nextReadAt: new Date(now.getTime() + retryDelayMs(claimed.lastError !== null)), updatedAt: ctx.clock() })
        .where(eq(providerFeeds.provider, connector.id));
    }
  }
  return run;
}

/** Whether the provider has token charges in flight (pending or unknown): its feed has news of them to bring. */
async function attemptsInFlight(ctx: AppContext, connector: Connector): Promise<boolean> {
  const [row] = await ctx.database.db
    .select({ id: payments.id })
    .from(payments)
    .where(and(inArray(payments.status, ['pending', 'unknown']), eq(payments.provider, connector.id), eq(payments.kind, 'token')))
    .limit(1);
  return row !== undefined;
}

/** Until when the provider's feed is watched after its last attempt in flight (null: never read, or not watched). */
async function watchedUntil(ctx: AppContext, connector: Connector): Promise<Date | null> {
  const [row] = await ctx.database.db.select({ watchUntil: providerFeeds.watchUntil }).from(providerFeeds).where(eq(providerFeeds.provider, connector.id));
  return row?.watchUntil ?? null;
}

/** The feed's row, claimed when its time has come (created the first time). */
async function claim(ctx: AppContext, connector: Connector, now: Date): Promise<typeof providerFeeds.$inferSelect | null> {
  const lease = leaseUntil(ctx, now);
  return ctx.database.db.transaction(async (tx) => {
    await tx.insert(providerFeeds).values({ provider: connector.id, nextReadAt: now, createdAt: now, updatedAt: now }).onConflictDoNothing();
    const [row] = await tx
      .select()
      .from(providerFeeds)
      .where(and(eq(providerFeeds.provider, connector.id), lte(providerFeeds.nextReadAt, now)))
      .for('update', { skipLocked: true });
    if (!row) return null;
    await tx.update(providerFeeds).set({ nextReadAt: lease, updatedAt: now }).where(eq(providerFeeds.provider, connector.id));
    return row;
  });
}

/** The first read starts at the oldest attempt of this provider still in flight (or now: nothing earlier matters). */
async function firstStart(ctx: AppContext, connector: Connector, now: Date): Promise<Date> {
  const [row] = await ctx.database.db
    .select({ oldest: min(payments.createdAt) })
    .from(payments)
    .where(and(eq(payments.provider, connector.id), inArray(payments.status, ['pending', 'unknown'])));
  const oldest = row?.oldest ? new Date(row.oldest) : null;
  return oldest && oldest < now ? new Date(oldest.getTime() - 60_000) : now;
}

/** One entry, applied as its verified notice would be. True when it changed something. */
async function applyEntry(ctx: AppContext, connector: Connector, entry: VerifiedCallback): Promise<boolean> {
  // Nothing to learn from a payment still waiting; and entries that name no reference are not payrail's.
  if (!entry.merchantReference || (entry.kind === 'payment' && (entry.result.status === 'pending' || entry.result.status === 'unknown'))) return false;
  const payment = await findPayment(ctx, connector.id, entry.merchantReference);
  if (!payment) return false;
  if (entry.kind === 'payment_return') {
    if (payment.returnedAt) return false;
    return (await applyReturnNotice(ctx, payment, entry, 'feed')).recorded;
  }
  if (entry.kind !== 'payment' || payment.status === entry.result.status) return false;
  if ((payment.status === 'succeeded' || payment.status === 'failed') && payment.providerReference && entry.providerReference && payment.providerReference !== entry.providerReference) return false;
  const settled = await settlePayment(ctx, { paymentId: payment.id, purchaseId: payment.purchaseId, result: entry.result, via: 'feed' });
  return settled.changed;
}
