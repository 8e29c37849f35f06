/**
 * The billing jobs (SPEC §10).
 *
 * - billing: the daily billing run of every operator. From PAYRAIL_BILLING_TIME (operator's local time,
 *   default 02:00) a day's run is due; a process that was down catches up the missed days in order. Every
 *   worker process runs this job: one run per operator and date is made however many do (the run's
 *   unique key and row lock), so the others find it done. Looks at most once a minute.
 * - billing-collections: works the collections the runs started, a batch at a time, claimed with
 *   FOR UPDATE SKIP LOCKED and leased (PAYRAIL_BILLING_LEASE_MS, default 60 s): a worker that dies
 *   leaves its claims to be taken over; the collection core keeps every purchase charged at most once.
 */
import type { AppContext } from '../context.ts';
import { addDays, civilDate, OPERATOR_UTC_OFFSET_MINUTES, type IsoDate } from '../domain/periods.ts';
import { operators } from '../modules/operators/schema.ts';
import { datesToRun, runBilling } from '../modules/billing/run-billing.ts';
import { claimSize, workBillingCollections } from '../modules/billing/work-collections.ts';

export const COLLECTIONS_BATCH = 100;
/** Runs made are not a batch to repeat at once: the next look is a minute away. */
export const DAILY_BATCH = Number.POSITIVE_INFINITY;
const LOOK_EVERY_MS = 60_000;
const lastLook = new WeakMap<AppContext, number>();

/** The latest date whose run is due at `now`: today once the billing time has passed, else yesterday. */
export function dueDate(now: Date, time: { hour: number; minute: number }): IsoDate {
  const local = new Date(now.getTime() + OPERATOR_UTC_OFFSET_MINUTES * 60_000);
  const minutes = local.getUTCHours() * 60 + local.getUTCMinutes();
  const today = civilDate(now);
  return minutes >= time.hour * 60 + time.minute ? today : addDays(today, -1);
}

export async function runDailyBilling(ctx: AppContext): Promise<number> {
  const time = ctx.config.jobs.billingTime;
  if (!time) return 0;
  const now = ctx.clock();
  if (now.getTime() - (lastLook.get(ctx) ?? 0) < LOOK_EVERY_MS) return 0;
  lastLook.set(ctx, now.getTime());
  const due = dueDate(now, time);
  let runs = 0;
  for (const operator of await ctx.database.db.select({ id: operators.id, createdAt: operators.createdAt }).from(operators)) {
    const first = civilDate(operator.createdAt);
    for (const asOf of await datesToRun(ctx, operator.id, due)) {
      if (asOf < first) continue;
      await runBilling(ctx, operator.id, asOf, { id: 'billing', role: 'system', requestId: `daily-billing-run:${asOf}` });
      runs++;
    }
  }
  return runs;
}

export async function runBillingCollections(ctx: AppContext): Promise<number> {
  // A claim of the chunks a process works at once (work-collections.ts). A full one may leave more waiting:
  // it counts as a full batch, so the runner claims again at once.
  const limit = claimSize(ctx);
  const claimed = await workBillingCollections(ctx, { limit });
  return claimed >= limit ? Math.max(claimed, COLLECTIONS_BATCH) : claimed;
}
