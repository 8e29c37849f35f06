import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../lib/errors.ts';
import { collectPurchase } from '../payments/collect-purchase.ts';
import { purchases } from '../purchases/schema.ts';
import { purchasePlans, services } from '../services/schema.ts';
import { billingCollections, billingRuns } from './schema.ts';

/** A claimed collection is not claimed again for this long: a worker that died holding it leaves it due again. */
export const DEFAULT_LEASE_MS = 60_000;
/** Collections a process works at once. */
export const DEFAULT_CONCURRENCY = 8;

interface Claimed {
  id: string;
  run_id: string;
  operator_id: string;
  purchase_id: string;
  attempt: number;
}

/**
 * Works the collections billing runs started (SPEC §10): claims a batch with FOR UPDATE SKIP LOCKED (any
 * number of processes share the work), and collects each purchase through the exactly-once collection
 * core, as payrail itself, with the service's active medium. A worker killed mid-batch leaves its claims
 * to expire and be claimed again; collecting again is safe: a purchase already paid, or with an attempt
 * in flight, is refused by the core (and the janitor settles an attempt whose answer was lost).
 */
export async function workBillingCollections(ctx: AppContext, options: { limit?: number; leaseMs?: number } = {}): Promise<number> {
  const now = ctx.clock();
  const leaseUntil = new Date(now.getTime() + (options.leaseMs ?? ctx.config.jobs.billingLeaseMs ?? DEFAULT_LEASE_MS));
  const claimed = await ctx.database.query<Claimed & Record<string, unknown>>(
    `UPDATE billing_collections c SET status = 'running', lease_until = $1
     WHERE c.id IN (
       SELECT id FROM billing_collections
       WHERE status = 'queued' OR (status = 'running' AND lease_until < $2)
       ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
     )
     RETURNING c.id, c.run_id, c.operator_id, c.purchase_id, c.attempt`,
    [leaseUntil, now, options.limit ?? 25],
    // Not named: planned for the table as it is at each claim (db/client.ts openPostgres).
  );
  // Several at a time: a collection mostly waits (for the provider, for the database).
  let next = 0;
  const lane = async () => {
    while (next < claimed.length) await workOne(ctx, claimed[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(ctx.config.jobs.billingConcurrency ?? DEFAULT_CONCURRENCY, claimed.length) }, lane));
  return claimed.length;
}

async function workOne(ctx: AppContext, job: Claimed): Promise<void> {
  const finish = (outcome: string, detail: string | null, paymentId: string | null = null) =>
    ctx.database.db
      .update(billingCollections)
      .set({ status: 'done', outcome, detail, paymentId, finishedAt: ctx.clock(), leaseUntil: null })
      .where(eq(billingCollections.id, job.id));

  const [target] = await ctx.database.db
    .select({ serviceId: purchases.serviceId, statusId: purchases.statusId, mediumId: purchasePlans.activeMediumId, serviceStatus: services.status })
    .from(purchases)
    .innerJoin(services, eq(services.id, purchases.serviceId))
    .leftJoin(purchasePlans, eq(purchasePlans.serviceId, purchases.serviceId))
    .where(eq(purchases.id, job.purchase_id));
  if (!target) return void (await finish('skipped', 'the purchase is gone'));
  if (!target.mediumId) return void (await finish('skipped', 'the service has no active medium'));
  if (target.serviceStatus === 'Cancelled') return void (await finish('skipped', 'the service is cancelled'));

  try {
    const outcome = await collectPurchase(ctx, {
      serviceId: target.serviceId,
      purchaseId: job.purchase_id,
      mediumId: target.mediumId,
      actor: { id: 'billing', role: 'system', operatorId: job.operator_id, customerId: null, requestId: `billing-run:${job.run_id}:${job.attempt}` },
    });
    const status = outcome.payment?.status ?? 'skipped';
    await finish(status, null, outcome.payment?.id ?? null);
    if (status === 'succeeded' && target.serviceStatus === 'Suspended') await countReinstatement(ctx, job, target.serviceId);
  } catch (err) {
    if (err instanceof AppError && err.code === 'purchase.collection_in_flight') {
      // An attempt started earlier (a worker died after starting it) is not settled yet: the janitor asks its
      // provider. Come back after the lease: the purchase is then paid, or payable again and collected.
      await ctx.database.db
        .update(billingCollections)
        .set({ leaseUntil: new Date(ctx.clock().getTime() + (ctx.config.jobs.billingLeaseMs ?? DEFAULT_LEASE_MS)), detail: `${err.code}: ${err.message}`.slice(0, 500) })
        .where(eq(billingCollections.id, job.id));
      return;
    }
    if (err instanceof AppError && err.status < 500) {
      // Paid already, an attempt in flight, a medium no longer usable …: nothing to do here, and why.
      await finish('skipped', `${err.code}: ${err.message}`.slice(0, 500));
      return;
    }
    if (err instanceof AppError) {
      // Refused before anything was sent (the provider is unavailable): the attempt is failed; a retry day comes.
      await finish('failed', `${err.code}: ${err.message}`.slice(0, 500));
      return;
    }
    // Unexpected: leave the claim to expire, so the collection is tried again (the core keeps it exactly once).
    ctx.log.error({ err, collectionId: job.id, purchaseId: job.purchase_id }, 'billing collection failed unexpectedly; it will be tried again');
  }
}

/** The run's figure of services its collections reinstated (the trigger made the service Active). */
async function countReinstatement(ctx: AppContext, job: Claimed, serviceId: string): Promise<void> {
  const [service] = await ctx.database.db.select({ status: services.status }).from(services).where(eq(services.id, serviceId));
  if (service?.status !== 'Active') return;
  await ctx.database.db
    .update(billingRuns)
    .set({ servicesReinstated: sql`${billingRuns.servicesReinstated} + 1` })
    .where(eq(billingRuns.id, job.run_id));
}
