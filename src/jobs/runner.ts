import type { AppContext } from '../context.ts';
import * as billing from './billing.ts';
import * as callbacks from './callbacks.ts';
import * as captures from './captures.ts';
import * as janitor from './janitor.ts';
import * as paymentFeeds from './payment-feeds.ts';
import * as refunds from './refunds.ts';
import * as vends from './vends.ts';
import * as webhooks from './webhooks.ts';

/**
 * Background jobs. Each is a thin wrapper (its own file, its retry policy at its top) around a use-case
 * whose work is rows in the database (claimed with FOR UPDATE SKIP LOCKED and leased), so any number of
 * processes may run them and a crash at any point leaves work that is simply picked up again.
 *
 * - janitor: settles pending/unknown payments by asking the provider.
 * - callbacks: processes provider callbacks stored but not processed.
 * - webhooks: fans outbox events out to operator endpoints and delivers them.
 * - billing: the daily billing run of every operator (PAYRAIL_BILLING_TIME), catching up missed days.
 * - billing-collections: collects what the billing runs made due.
 * - captures: asks providers about bank accounts and cards captured without a payment, when the customer did not come back.
 * - payment-feeds: reads providers' feeds of payment results (debit-order statuses and returns).
 * - vends / vend-advices: vends paid utility purchases exactly once, and confirms their tokens to the vendor.
 * - refunds: gives money back through the provider that took it, asking about refunds in doubt.
 */
export interface Job {
  name: string;
  /** Does one batch; returns how many items it handled (a full batch runs again at once). */
  run(ctx: AppContext): Promise<number>;
  batch: number;
}

export const JOBS: readonly Job[] = [
  { name: 'janitor', batch: janitor.BATCH, run: janitor.runJanitor },
  { name: 'callbacks', batch: callbacks.BATCH, run: callbacks.runCallbacks },
  { name: 'webhooks', batch: webhooks.BATCH, run: webhooks.runWebhooks },
  { name: 'billing', batch: billing.DAILY_BATCH, run: billing.runDailyBilling },
  { name: 'billing-collections', batch: billing.COLLECTIONS_BATCH, run: billing.runBillingCollections },
  { name: 'captures', batch: captures.BATCH, run: captures.runCaptures },
  { name: 'payment-feeds', batch: paymentFeeds.BATCH, run: paymentFeeds.runPaymentFeeds },
  { name: 'vends', batch: vends.BATCH, run: vends.runVends },
  { name: 'vend-advices', batch: vends.BATCH, run: vends.runVendAdvices },
  { name: 'refunds', batch: refunds.BATCH, run: refunds.runRefunds },
];

export interface JobRunner {
  /** Stops taking new batches and waits for the running ones (graceful shutdown releases nothing mid-call). */
  stop(): Promise<void>;
}

export function startJobs(ctx: AppContext, jobs: readonly Job[] = JOBS): JobRunner {
  let stopping = false;
  const running = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();

  const loop = (job: Job) => {
    const tick = async () => {
      let handled = 0;
      do {
        if (stopping) return;
        try {
          handled = await job.run(ctx);
          ctx.telemetry.jobRuns.inc({ job: job.name, result: 'ok' });
        } catch (err) {
          handled = 0;
          ctx.telemetry.jobRuns.inc({ job: job.name, result: 'error' });
          ctx.log.error({ err, job: job.name }, 'job run failed; it will run again');
        }
      } while (handled >= job.batch);
    };
    const schedule = () => {
      if (stopping) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        const p = tick().finally(() => {
          running.delete(p);
          schedule();
        });
        running.add(p);
      }, ctx.config.jobs.intervalMs);
      timers.add(timer);
    };
    schedule();
  };
  for (const job of jobs) loop(job);

  return {
    async stop() {
      stopping = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
}
