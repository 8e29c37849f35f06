import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../lib/errors.ts';
import { run, statement } from '../../db/statement.ts';
import { collectPurchases, type CollectInput, type CollectionOutcome } from '../payments/collect-purchase.ts';
import type { TargetRow } from '../payments/plan-collection.ts';
import { TARGET_COLUMNS } from '../payments/settlement-sql.ts';
import { services } from '../services/schema.ts';
import { RECHARGES_OWED, SUSPEND_AFTER_COLLECTIONS } from './billing-sql.ts';
import { billingRuns } from './schema.ts';

/** A claimed collection is not claimed again for this long: a worker that died holding it leaves it due again. */
export const DEFAULT_LEASE_MS = 60_000;
/** Collections a process works as one chunk (PAYRAIL_BILLING_CONCURRENCY): started together, their providers asked at once, settled together. */
export const DEFAULT_CONCURRENCY = 100;
/** Chunks a process has in flight at once: one waits on its providers while the other is at the database. */
const CHUNKS_AT_ONCE = 2;

/** The collections a process claims at once: the chunks it works at once, so none waits its turn while its lease runs. */
export const claimSize = (ctx: AppContext): number => CHUNKS_AT_ONCE * (ctx.config.jobs.billingConcurrency ?? DEFAULT_CONCURRENCY);
/** Who collects: payrail itself, recorded on each attempt (`payments.created_by`), by which a re-claim knows its own. */
const BILLING_ACTOR_ID = 'billing';

/** A claimed collection, with its collection target read in the same statement (TARGET_COLUMNS). */
interface Claimed extends TargetRow {
  collection_id: string;
  run_id: string;
  operator_id: string;
  job_purchase_id: string;
  attempt: number;
  collection_created_at: Date | string;
  active_medium_id: string | null;
  service_status: string | null;
}

/** What a worked collection leaves on its row: done with an outcome, or still claimed until a later lease. */
interface Finish {
  id: string;
  done: boolean;
  outcome: string | null;
  detail: string | null;
  payment_id: string | null;
  lease_until: string | null;
}

/**
 * Claims a batch and reads what collecting each needs (the purchase, its service and customer, the plan's
 * active medium and its sealed token), in one statement: nothing is read again per collection before the
 * core starts its attempt. Not named: planned for the table as it is at each claim (db/client.ts).
 */
const CLAIM = `WITH due AS (
  SELECT id FROM billing_collections
  WHERE status = 'queued' OR (status = 'running' AND lease_until < $2)
  ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE billing_collections c SET status = 'running', lease_until = $1
  FROM due WHERE c.id = due.id
  RETURNING c.id, c.run_id, c.operator_id, c.purchase_id, c.attempt, c.created_at
)
SELECT k.id AS collection_id, k.run_id, k.operator_id, k.purchase_id AS job_purchase_id, k.attempt, k.created_at AS collection_created_at,
  pp.active_medium_id, s.status AS service_status, ${TARGET_COLUMNS}
FROM claimed k
LEFT JOIN purchases pu ON pu.id = k.purchase_id AND pu.operator_id = k.operator_id
LEFT JOIN services s ON s.id = pu.service_id
LEFT JOIN customers c ON c.id = s.customer_id
LEFT JOIN products pr ON pr.id = s.product_id
LEFT JOIN operators op ON op.id = s.operator_id
LEFT JOIN purchase_plans pp ON pp.service_id = s.id
LEFT JOIN mediums m ON m.id = pp.active_medium_id AND (m.operator_id = k.operator_id OR m.operator_id IS NULL)
LEFT JOIN medium_credentials mc ON mc.medium_id = m.id`;

/** Outcomes of several collections in one statement (a row another worker finished stays as it is). */
const FINISH = statement<'finishes' | 'now'>(
  'payrail_billing_finish_v1',
  `UPDATE billing_collections c SET
  status = CASE WHEN f.done THEN 'done' ELSE c.status END,
  outcome = CASE WHEN f.done THEN f.outcome ELSE c.outcome END,
  payment_id = CASE WHEN f.done THEN f.payment_id ELSE c.payment_id END,
  finished_at = CASE WHEN f.done THEN :now::timestamptz ELSE c.finished_at END,
  detail = f.detail,
  lease_until = f.lease_until
FROM jsonb_to_recordset(:finishes::jsonb) AS f(id uuid, done boolean, outcome text, detail text, payment_id uuid, lease_until timestamptz)
WHERE c.id = f.id AND c.status = 'running'`,
);

/**
 * The attempt of this collection that paid its purchase: a billing attempt made since the collection was
 * queued, which succeeded or whose late success paid the purchase (a worker that died after charging,
 * before writing the outcome, leaves it to the next claim).
 */
const PAID_BY_BILLING = statement<'purchaseId' | 'since' | 'actorId'>(
  'payrail_billing_paid_by_v2',
  `SELECT py.id FROM payments py
WHERE py.purchase_id = :purchaseId AND py.created_by = :actorId AND py.created_at >= :since::timestamptz
  AND (py.status = 'succeeded' OR EXISTS (SELECT 1 FROM late_successes l WHERE l.payment_id = py.id AND l.disposition = 'paid_purchase'))
ORDER BY py.created_at DESC LIMIT 1`,
);

/**
 * Works the collections billing runs started (SPEC §10): claims a batch with FOR UPDATE SKIP LOCKED (any
 * number of processes share the work), and collects each purchase through the exactly-once collection
 * core, as payrail itself, with the service's active medium. A worker killed mid-batch leaves its claims
 * to expire and be claimed again; collecting again is safe: a purchase already paid, or with an attempt
 * in flight, is refused by the core (and the janitor settles an attempt whose answer was lost), and a
 * purchase this collection paid before the worker died is recorded as its success.
 */
export async function workBillingCollections(ctx: AppContext, options: { limit?: number; leaseMs?: number } = {}): Promise<number> {
  const now = ctx.clock();
  const leaseUntil = new Date(now.getTime() + (options.leaseMs ?? ctx.config.jobs.billingLeaseMs ?? DEFAULT_LEASE_MS));
  const claimed = await ctx.database.query<Claimed>(CLAIM, [leaseUntil, now, options.limit ?? 25]);
  if (claimed.length === 0) return 0;
  const width = Math.min(ctx.config.jobs.billingConcurrency ?? DEFAULT_CONCURRENCY, claimed.length);
  // Outcomes are written a chunk at a time: one statement for several collections, and none waits long
  // (a slow provider makes a batch slow, not its figures late).
  const pending: Finish[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const finishes = pending.splice(0);
    const done = finishes.filter((f) => f.done).map((f) => f.id);
    const failed = finishes.filter((f) => f.done && f.outcome === 'failed').map((f) => f.id);
    const now = ctx.clock();
    // The outcomes and what they decide for their services, together: a process that dies here leaves
    // the collections running (claimed again after their lease), never done with their services undecided.
    await ctx.database.transaction(async (tx) => {
      await run(tx.query, FINISH, { finishes: JSON.stringify(finishes), now });
      // A declined auto-recharge is owed; a run leaves a service with an open collection to its outcome,
      // and the last one done decides whether it is suspended.
      if (failed.length > 0) await run(tx.query, RECHARGES_OWED, { collectionIds: JSON.stringify(failed), now });
      if (done.length > 0) await run(tx.query, SUSPEND_AFTER_COLLECTIONS, { collectionIds: JSON.stringify(done), now });
    });
  };
  // A chunk of `width` collections at a time: their attempts are started in one statement, their providers
  // asked at once, and their outcomes written together (collectPurchases); two chunks are in flight, so one
  // waits on its providers while the other is at the database.
  const chunks: Claimed[][] = [];
  for (let i = 0; i < claimed.length; i += width) chunks.push(claimed.slice(i, i + width));
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const finishes = await workChunk(ctx, chunks[next++]!);
      pending.push(...finishes.filter((f): f is Finish => f !== null));
      if (pending.length >= width) await flush();
    }
  };
  // Every lane ends before the last outcomes are written (a lane that failed leaves its claims to expire).
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(CHUNKS_AT_ONCE, chunks.length) }, lane));
  await flush();
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
  return claimed.length;
}

const inputOf = (job: Claimed): CollectInput => ({
  serviceId: job.service_id as string,
  purchaseId: job.job_purchase_id,
  mediumId: job.active_medium_id as string,
  actor: { id: BILLING_ACTOR_ID, role: 'system', operatorId: job.operator_id, customerId: null, requestId: `billing-run:${job.run_id}:${job.attempt}` },
});

/** The collections of a chunk, each to its outcome (null: left to its lease, to be tried again). */
async function workChunk(ctx: AppContext, jobs: Claimed[]): Promise<(Finish | null)[]> {
  const finishes: (Finish | null)[] = jobs.map(skipped);
  const collectable = jobs.filter((_, i) => finishes[i] === null);
  const outcomes = await collectPurchases(ctx, collectable.map((job) => ({ input: inputOf(job), read: job })));
  await Promise.all(
    collectable.map(async (job, k) => {
      try {
        finishes[jobs.indexOf(job)] = await finishOf(ctx, job, outcomes[k]!);
      } catch (err) {
        // Its outcome could not be looked into (the database went away a moment): this one is left to its lease, not the chunk.
        ctx.log.error({ err, collectionId: job.collection_id }, 'could not record a billing collection’s outcome; it will be claimed again');
      }
    }),
  );
  return finishes;
}

const doneWith = (job: Claimed, outcome: string, detail: string | null, paymentId: string | null = null): Finish => ({
  id: job.collection_id,
  done: true,
  outcome,
  detail: detail?.slice(0, 500) ?? null,
  payment_id: paymentId,
  lease_until: null,
});

/** A collection with nothing to collect, and why; null when there is something. */
function skipped(job: Claimed): Finish | null {
  if (!job.purchase_id) return doneWith(job, 'skipped', 'the purchase is gone');
  if (!job.active_medium_id) return doneWith(job, 'skipped', 'the service has no active medium');
  if (job.service_status === 'Cancelled') return doneWith(job, 'skipped', 'the service is cancelled');
  return null;
}

/** What a collection's outcome leaves on its row. */
async function finishOf(ctx: AppContext, job: Claimed, settled: PromiseSettledResult<CollectionOutcome>): Promise<Finish | null> {
  const done = (outcome: string, detail: string | null, paymentId: string | null = null) => doneWith(job, outcome, detail, paymentId);
  if (settled.status === 'fulfilled') {
    const outcome = settled.value;
    const status = outcome.payment?.status ?? 'skipped';
    if (status === 'succeeded' && job.service_status === 'Suspended') await countReinstatement(ctx, job, job.service_id as string);
    return done(status, null, outcome.payment?.id ?? null);
  }
  const err = settled.reason as unknown;
  if (err instanceof AppError && err.code === 'purchase.collection_in_flight') {
    // An attempt started earlier (a worker died after starting it) is not settled yet: the janitor asks its
    // provider. Come back after the lease: the purchase is then paid, or payable again and collected.
    const later = new Date(ctx.clock().getTime() + (ctx.config.jobs.billingLeaseMs ?? DEFAULT_LEASE_MS));
    return { id: job.collection_id, done: false, outcome: null, detail: `${err.code}: ${err.message}`.slice(0, 500), payment_id: null, lease_until: later.toISOString() };
  }
  if (err instanceof AppError && err.code === 'purchase.already_paid') {
    // Paid by this collection before its worker died, or by the customer (Pay Now, off-system) meanwhile.
    const [mine] = await run<{ id: string }, 'purchaseId' | 'since' | 'actorId'>(ctx.database.query, PAID_BY_BILLING, { purchaseId: job.job_purchase_id, since: job.collection_created_at, actorId: BILLING_ACTOR_ID });
    return mine ? done('succeeded', null, mine.id) : done('skipped', `${err.code}: ${err.message}`);
  }
  if (err instanceof AppError && err.status < 500) {
    // An attempt in flight, a medium no longer usable …: nothing to do here, and why.
    return done('skipped', `${err.code}: ${err.message}`);
  }
  if (err instanceof AppError) {
    // Refused before anything was sent (the provider is unavailable): the attempt is failed; a retry day comes.
    return done('failed', `${err.code}: ${err.message}`);
  }
  // Unexpected: leave the claim to expire, so the collection is tried again (the core keeps it exactly once).
  ctx.log.error({ err, collectionId: job.collection_id, purchaseId: job.job_purchase_id }, 'billing collection failed unexpectedly; it will be tried again');
  return null;
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
