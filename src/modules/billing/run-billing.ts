import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import { addDays, civilDate, isIsoDate, type IsoDate } from '../../domain/periods.ts';
import type { RawTransaction } from '../../db/client.ts';
import { sqlState } from '../../db/errors.ts';
import { run } from '../../db/statement.ts';
import { NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { recordAudit } from '../audit/record.ts';
import { findOperator } from '../operators/repo.ts';
import { BILL_MONTH, COLLECT_RECHARGES, FAIL_RECHARGES, FIND_RUN, FINISH_RUN, HOLD_RUN, LOCK_RUN, NEXT_SLICE, OPEN_RUN, RECORD_SLICE, RETRY_MONTHS, RUN_STATUS, SLICE_FIGURES, SUSPEND } from './billing-sql.ts';
import { billingCollections, billingRuns } from './schema.ts';

export type BillingRunRow = typeof billingRuns.$inferSelect;

/**
 * A run with how its collections are going (they are worked after the run, by the jobs). A run still
 * `running` shows what its committed slices have made so far.
 */
export interface BillingRunView extends BillingRunRow {
  collections: { queued: number; succeeded: number; failed: number; unsettled: number; skipped: number };
}

/** A service more periods behind than this is billed the rest on the next run (a guard, not a rule). */
const MAX_PERIODS_PER_RUN = 36;
/** Services billed per transaction. */
export const DEFAULT_SLICE_SIZE = 10_000;
/** Slices billed at once on PostgreSQL (PAYRAIL_BILLING_RUN_LANES). */
export const DEFAULT_RUN_LANES = 2;
/** How often a process waiting for another to finish the same run looks again. */
const WAIT_FOR_HOLDER_MS = 250;
const BEFORE_EVERY_ID = '00000000-0000-0000-0000-000000000000';

export interface RunOptions {
  /** Services billed per transaction (default 10,000). */
  sliceSize?: number;
  /** Slices billed at once (PostgreSQL; PGlite has one session and bills one at a time). */
  lanes?: number;
}

type RunContext = Pick<AppContext, 'database' | 'clock' | 'log'> & { config?: Partial<Pick<AppContext['config'], 'jobs' | 'dbPoolSize'>> };
type RunParams = { operatorId: string; asOf: IsoDate; runId: string; now: Date };

/**
 * A billing run of an operator for `asOf` (SPEC §10): monthly purchases of Recurring services whose
 * collection date has come, their collections and retries, auto-recharges due, auto-recharges given up
 * on, and suspensions — every one decided by `asOf`, never by the clock, so running the same date again
 * (or two processes running it at once) creates and charges nothing more.
 *
 * The monthly purchases are made slice by slice (DEFAULT_SLICE_SIZE services a transaction, several
 * slices at once on PostgreSQL): a run over a million services neither holds one huge transaction nor
 * loses everything to a crash near its end. A run that stopped part way stays `running`, and running its
 * date again (the daily job does) bills what is left; the unique index on (service_id, period_start)
 * and the services' billed_through keep every period billed once. The final step — retries,
 * recharges, suspensions, the figures — is one transaction. On PostgreSQL the process billing a run
 * holds its row; another process asking for the same date waits for it (holding no connection) and then
 * answers the run made, or takes over if the first died. Returns the run (the existing one when the
 * date was run before).
 */
export async function runBilling(ctx: RunContext, operatorId: string, asOf: IsoDate, actor: Actor, options: RunOptions = {}): Promise<{ run: BillingRunRow; created: boolean }> {
  await checkAsOf(ctx, operatorId, asOf);
  const now = ctx.clock();
  const inserted = await run<{ id: string }, 'id' | 'operatorId' | 'asOf' | 'now'>(ctx.database.query, OPEN_RUN, { id: randomUUID(), operatorId, asOf, now });
  const [opened] = inserted.length > 0 ? inserted : await run<{ id: string }, 'operatorId' | 'asOf'>(ctx.database.query, FIND_RUN, { operatorId, asOf });
  const params: RunParams = { operatorId, asOf, runId: opened!.id, now };
  const sliceSize = options.sliceSize ?? DEFAULT_SLICE_SIZE;

  let created: boolean;
  if (ctx.database.kind === 'postgres') {
    // One connection holds the run and one a lane each; one more is left for everything else the process does.
    const pool = ctx.config?.dbPoolSize;
    const wanted = options.lanes ?? ctx.config?.jobs?.billingRunLanes ?? DEFAULT_RUN_LANES;
    const lanes = pool ? Math.max(1, Math.min(wanted, pool - 2)) : wanted;
    for (;;) {
      const outcome = await ctx.database.transaction(async (hold) => {
        const [held] = await run<{ status: string }, 'id'>(hold.query, HOLD_RUN, { id: params.runId });
        if (!held) return 'held elsewhere' as const;
        if (held.status === 'completed') return 'made before' as const;
        await billSlices(ctx, params, lanes, sliceSize);
        await finishRun(hold, ctx, params, actor);
        return 'made' as const;
      });
      if (outcome !== 'held elsewhere') {
        created = outcome === 'made';
        break;
      }
      const [row] = await run<{ status: string }, 'id'>(ctx.database.query, RUN_STATUS, { id: params.runId });
      if (row?.status === 'completed') {
        created = false;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_FOR_HOLDER_MS));
    }
  } else {
    const [row] = await run<{ status: string }, 'id'>(ctx.database.query, RUN_STATUS, { id: params.runId });
    if (row?.status === 'completed') created = false;
    else {
      await billSlices(ctx, params, 1, sliceSize);
      created = await ctx.database.transaction(async (tx) => {
        const [locked] = await run<{ status: string }, 'id'>(tx.query, LOCK_RUN, { id: params.runId });
        if (locked!.status === 'completed') return false;
        await finishRun(tx, ctx, params, actor);
        return true;
      });
    }
  }
  const [made] = await ctx.database.db.select().from(billingRuns).where(eq(billingRuns.id, params.runId));
  if (created) ctx.log.info({ operatorId, asOf, runId: made!.id, purchasesCreated: made!.purchasesCreated, collectionsStarted: made!.collectionsStarted, retriesStarted: made!.retriesStarted, servicesSuspended: made!.servicesSuspended, purchasesFailed: made!.purchasesFailed }, 'billing run completed');
  return { run: made!, created };
}

/**
 * The monthly billing of every due service, a slice a transaction, `lanes` slices at once. Slices are
 * taken in id order from one cursor, so no two lanes bill the same services; the first error stops the
 * lanes taking more and is thrown once they have stopped.
 */
async function billSlices(ctx: RunContext, params: RunParams, lanes: number, size: number): Promise<void> {
  let after = BEFORE_EVERY_ID;
  let stopped = false;
  let cursor: Promise<unknown> = Promise.resolve();
  const nextSlice = (): Promise<{ afterId: string; uptoId: string } | null> => {
    const taken = cursor.then(async () => {
      if (stopped) return null;
      const [row] = await run<{ upto_id: string }, 'operatorId' | 'asOf' | 'afterId' | 'size'>(ctx.database.query, NEXT_SLICE, { operatorId: params.operatorId, asOf: params.asOf, afterId: after, size });
      if (!row) return null;
      const slice = { afterId: after, uptoId: row.upto_id };
      after = row.upto_id;
      return slice;
    });
    cursor = taken.catch(() => undefined);
    return taken;
  };
  const lane = async () => {
    try {
      for (let slice = await nextSlice(); slice; slice = await nextSlice()) await billSlice(ctx, params, slice);
    } catch (err) {
      stopped = true;
      throw err;
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, lanes) }, lane));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Times a slice is billed again after meeting another writer's purchase of one of its periods. */
const SLICE_ATTEMPTS = 3;

/**
 * One slice in one transaction. Two runs of different dates may bill the same services at once: the one
 * that comes second waits on the unique index for the first's purchase and its statement then fails (its
 * line would belong to the purchase it did not make, or the two deadlock on the services). Nothing of it
 * is kept, and the slice is billed again at once, seeing the first run's purchases as billed.
 */
async function billSlice(ctx: RunContext, params: RunParams, slice: { afterId: string; uptoId: string }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await billSliceOnce(ctx, params, slice);
    } catch (err) {
      if (attempt >= SLICE_ATTEMPTS || !['23503', '40P01', '40001'].includes(sqlState(err) ?? '')) throw err;
      ctx.log.warn({ err, runId: params.runId, attempt, ...slice }, 'a billing slice met another run billing the same services: billing it again');
    }
  }
}

async function billSliceOnce(ctx: RunContext, params: RunParams, slice: { afterId: string; uptoId: string }): Promise<void> {
  await ctx.database.transaction(async (tx) => {
    await sliceSettings(tx, ctx.database.kind);
    let purchasesCreated = 0;
    let collectionsStarted = 0;
    for (let i = 0; i < MAX_PERIODS_PER_RUN; i++) {
      const [month] = await run<{ created: number; advanced: number; behind: number; jobs: number }, 'operatorId' | 'asOf' | 'runId' | 'now' | 'afterId' | 'uptoId'>(tx.query, BILL_MONTH, { ...params, ...slice });
      purchasesCreated += month!.created;
      collectionsStarted += month!.jobs;
      // Only a service more than a period behind is still due: most slices are billed by one statement.
      if (month!.behind === 0) break;
    }
    await run(tx.query, RECORD_SLICE, { runId: params.runId, ...slice, purchasesCreated, collectionsStarted, now: ctx.clock() });
  });
}

/**
 * The settings a slice's transaction bills under (exported for the test that reads its plan):
 * - BILL_MONTH bumps the version of every service it bills: the triggers that would look for them again
 *   skip (migration 0019).
 * - Planned once for any slice (payrail's connections keep generic plans, db/client.ts), which BILL_MONTH is
 *   written for; not compiled to machine code, which costs more than a slice's per-row work saves. Custom
 *   plans would plan again each of the foreign-key checks the slice makes, ten thousand a constraint.
 * - No sequential scans: every table BILL_MONTH reads is read by an index (the slice's id range, a service
 *   id). The plan is made at a run's first slice and kept, while the run grows purchases by a slice's worth
 *   each time; a plan made when purchases was small (a new operator, statistics from then, autovacuum off)
 *   read all of it once per service to see whether its period was billed. Measured on 1,000,000 services:
 *   360 s with that plan, 69 s with the index.
 */
export async function sliceSettings(tx: Pick<RawTransaction, 'query'>, kind: 'postgres' | 'pglite'): Promise<void> {
  await tx.query("SET LOCAL payrail.versions_bumped = 'on'");
  await tx.query('SET LOCAL enable_seqscan = off');
  if (kind === 'postgres') await tx.query('SET LOCAL jit = off');
}

/** The run's last step, in the transaction holding it: retries, recharges, suspensions, its figures. */
async function finishRun(tx: RawTransaction, ctx: RunContext, params: RunParams, actor: Actor): Promise<void> {
  const { operatorId, asOf, now } = params;
  // Each statement below runs once a run, over all the operator's services: planned for this run's values,
  // not by a generic plan that guesses a handful of rows (the few foreign-key checks they make are planned too).
  if (ctx.database.kind === 'postgres') await tx.query("SET LOCAL plan_cache_mode = 'force_custom_plan'");
  const retries = await run(tx.query, RETRY_MONTHS, params);
  const [failed] = await run<{ failed: number }, 'operatorId' | 'asOf' | 'now'>(tx.query, FAIL_RECHARGES, { operatorId, asOf, now });
  const recharges = await run(tx.query, COLLECT_RECHARGES, params);
  const [suspended] = await run<{ suspended: number }, 'operatorId' | 'asOf' | 'now'>(tx.query, SUSPEND, { operatorId, asOf, now });
  const [slices] = await run<{ purchases_created: number; collections_started: number }, 'runId'>(tx.query, SLICE_FIGURES, { runId: params.runId });
  const figures = {
    purchasesCreated: slices!.purchases_created,
    collectionsStarted: slices!.collections_started + recharges.length,
    retriesStarted: retries.length,
    servicesSuspended: suspended!.suspended,
    purchasesFailed: failed!.failed,
  };
  await run(tx.query, FINISH_RUN, { id: params.runId, now: ctx.clock(), ...figures });
  await recordAudit(tx.db, actor, { operatorId, entityType: 'billing_run', entityId: params.runId, action: 'billing_run.completed', toState: 'completed', data: { as_of: asOf, ...figures } });
}

/** `asOf` must be a calendar date from the operator's first day up to today (a run charges customers: never ahead of time). */
async function checkAsOf(ctx: Pick<AppContext, 'database' | 'clock'>, operatorId: string, asOf: string): Promise<void> {
  const invalid = (reason: string) => new UnprocessableError('billing_run.as_of_out_of_range', `as_of ${reason}.`, { errors: [{ name: 'body.as_of', reason }] });
  if (!isIsoDate(asOf)) throw new UnprocessableError('billing_run.as_of_invalid', 'as_of must be a calendar date (YYYY-MM-DD).', { errors: [{ name: 'body.as_of', reason: 'is not a calendar date' }] });
  const operator = await findOperator(ctx.database.db, operatorId);
  if (!operator) throw new NotFoundError('operator', operatorId);
  const first = civilDate(operator.createdAt);
  const today = civilDate(ctx.clock());
  if (asOf < first) throw invalid(`must not be before the operator’s first day (${first})`);
  if (asOf > today) throw invalid(`must not be after today (${today}): a run charges customers, so it never runs ahead of time`);
}

export async function findBillingRun(ctx: Pick<AppContext, 'database'>, operatorId: string, id: string): Promise<BillingRunView | null> {
  const [row] = await ctx.database.db.select().from(billingRuns).where(and(eq(billingRuns.operatorId, operatorId), eq(billingRuns.id, id)));
  if (!row) return null;
  if (row.status === 'running') {
    // Under way (or stopped part way): what its committed slices have made so far.
    const [slices] = await run<{ purchases_created: number; collections_started: number }, 'runId'>(ctx.database.query, SLICE_FIGURES, { runId: id });
    Object.assign(row, { purchasesCreated: slices!.purchases_created, collectionsStarted: slices!.collections_started });
  }
  return { ...row, collections: await collectionFigures(ctx, id) };
}

/** The operator's runs, the latest started first (keyset pagination on started_at, id). */
export async function listBillingRuns(ctx: Pick<AppContext, 'database'>, operatorId: string, page: PageRequest): Promise<BillingRunRow[]> {
  return ctx.database.db
    .select()
    .from(billingRuns)
    .where(and(eq(billingRuns.operatorId, operatorId), afterCursor(page, billingRuns.startedAt, billingRuns.id)))
    .orderBy(desc(billingRuns.startedAt), desc(billingRuns.id))
    .limit(page.limit + 1);
}

async function collectionFigures(ctx: Pick<AppContext, 'database'>, runId: string): Promise<BillingRunView['collections']> {
  const rows = await ctx.database.db
    .select({ status: billingCollections.status, outcome: billingCollections.outcome, n: sql<number>`count(*)::int` })
    .from(billingCollections)
    .where(eq(billingCollections.runId, runId))
    .groupBy(billingCollections.status, billingCollections.outcome);
  const figures = { queued: 0, succeeded: 0, failed: 0, unsettled: 0, skipped: 0 };
  for (const r of rows) {
    if (r.status !== 'done') figures.queued += r.n;
    else if (r.outcome === 'succeeded') figures.succeeded += r.n;
    else if (r.outcome === 'failed') figures.failed += r.n;
    else if (r.outcome === 'pending' || r.outcome === 'unknown') figures.unsettled += r.n;
    else figures.skipped += r.n;
  }
  return figures;
}

/**
 * The dates the daily run has still to do for an operator, in order: from the day after its last
 * completed run up to `today`. An operator never run before starts today (billing begins when a worker
 * first runs, not retroactively).
 */
export async function datesToRun(ctx: Pick<AppContext, 'database'>, operatorId: string, today: IsoDate): Promise<IsoDate[]> {
  const [last] = await ctx.database.db
    .select({ asOf: billingRuns.asOf })
    .from(billingRuns)
    .where(and(eq(billingRuns.operatorId, operatorId), eq(billingRuns.status, 'completed')))
    .orderBy(desc(billingRuns.asOf))
    .limit(1);
  const dates: IsoDate[] = [];
  for (let d = last ? addDays(last.asOf, 1) : today; d <= today; d = addDays(d, 1)) dates.push(d);
  return dates;
}
