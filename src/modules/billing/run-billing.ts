import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import { addDays, civilDate, isIsoDate, type IsoDate } from '../../domain/periods.ts';
import { run } from '../../db/statement.ts';
import { NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { recordAudit } from '../audit/record.ts';
import { findOperator } from '../operators/repo.ts';
import { BILL_MONTH, COLLECT_RECHARGES, FAIL_RECHARGES, FIND_RUN, FINISH_RUN, LOCK_RUN, OPEN_RUN, RETRY_MONTHS, SUSPEND } from './billing-sql.ts';
import { billingCollections, billingRuns } from './schema.ts';

export type BillingRunRow = typeof billingRuns.$inferSelect;

/** A run with how its collections are going (they are worked after the run, by the jobs). */
export interface BillingRunView extends BillingRunRow {
  collections: { queued: number; succeeded: number; failed: number; unsettled: number; skipped: number };
}

/** A service more periods behind than this is billed the rest on the next run (a guard, not a rule). */
const MAX_PERIODS_PER_RUN = 36;

/**
 * A billing run of an operator for `asOf` (SPEC §10): monthly purchases of Recurring services whose
 * collection date has come, their collections and retries, auto-recharges due, auto-recharges given up
 * on, and suspensions — every one decided by `asOf`, never by the clock, so running the same date again
 * (or two processes running it at once) creates and charges nothing more. One transaction: a run is
 * whole or not at all. Returns the run (the existing one when the date was run before).
 */
export async function runBilling(ctx: Pick<AppContext, 'database' | 'clock' | 'log'>, operatorId: string, asOf: IsoDate, actor: Actor): Promise<{ run: BillingRunRow; created: boolean }> {
  await checkAsOf(ctx, operatorId, asOf);
  const now = ctx.clock();
  const outcome = await ctx.database.transaction(async (tx) => {
    const inserted = await run<{ id: string }, 'id' | 'operatorId' | 'asOf' | 'now'>(tx.query, OPEN_RUN, { id: randomUUID(), operatorId, asOf, now });
    const [opened] = inserted.length > 0 ? inserted : await run<{ id: string }, 'operatorId' | 'asOf'>(tx.query, FIND_RUN, { operatorId, asOf });
    const [locked] = await run<Record<string, unknown>, 'id'>(tx.query, LOCK_RUN, { id: opened!.id });
    if (locked!.status === 'completed') return { id: opened!.id, created: false };

    const params = { operatorId, asOf, runId: opened!.id, now };
    let purchasesCreated = 0;
    let collectionsStarted = 0;
    for (let i = 0; i < MAX_PERIODS_PER_RUN; i++) {
      const [month] = await run<{ created: number; advanced: number; jobs: number }, 'operatorId' | 'asOf' | 'runId' | 'now'>(tx.query, BILL_MONTH, params);
      purchasesCreated += month!.created;
      collectionsStarted += month!.jobs;
      if (month!.advanced === 0) break;
    }
    const retries = await run(tx.query, RETRY_MONTHS, params);
    const [failed] = await run<{ failed: number }, 'operatorId' | 'asOf' | 'now'>(tx.query, FAIL_RECHARGES, { operatorId, asOf, now });
    const recharges = await run(tx.query, COLLECT_RECHARGES, params);
    const [suspended] = await run<{ suspended: number }, 'operatorId' | 'asOf' | 'now'>(tx.query, SUSPEND, { operatorId, asOf, now });
    const figures = {
      purchasesCreated,
      collectionsStarted: collectionsStarted + recharges.length,
      retriesStarted: retries.length,
      servicesSuspended: suspended!.suspended,
      purchasesFailed: failed!.failed,
    };
    await run(tx.query, FINISH_RUN, { id: opened!.id, now: ctx.clock(), ...figures });
    await recordAudit(tx.db, actor, { operatorId, entityType: 'billing_run', entityId: opened!.id, action: 'billing_run.completed', toState: 'completed', data: { as_of: asOf, ...figures } });
    return { id: opened!.id, created: true };
  });
  const [row] = await ctx.database.db.select().from(billingRuns).where(eq(billingRuns.id, outcome.id));
  if (outcome.created) ctx.log.info({ operatorId, asOf, runId: row!.id, purchasesCreated: row!.purchasesCreated, collectionsStarted: row!.collectionsStarted, retriesStarted: row!.retriesStarted, servicesSuspended: row!.servicesSuspended, purchasesFailed: row!.purchasesFailed }, 'billing run completed');
  return { run: row!, created: outcome.created };
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
