import type { AppContext } from '../context.ts';
import { processStaleCallbacks } from '../modules/payments/provider-callbacks.ts';
import { settleUnsettledPayments } from '../modules/payments/settle-unsettled.ts';
import { runWebhookJobs } from './webhooks.ts';

/**
 * Background jobs. Each is a thin wrapper around a use-case whose work is rows in the database (claimed
 * with FOR UPDATE SKIP LOCKED and leased), so any number of processes may run them and a crash at any
 * point leaves work that is simply picked up again.
 *
 * - janitor: settles pending/unknown payments by asking the provider (retry: per payment, backoff to 1 h).
 * - callbacks: processes provider callbacks stored but not processed (retry: every run, after 30 s).
 * - webhooks: fans outbox events out to operator endpoints and delivers them (retry: exponential backoff).
 */
export interface Job {
  name: string;
  /** Does one batch; returns how many items it handled (a full batch runs again at once). */
  run(ctx: AppContext): Promise<number>;
  batch: number;
}

export const JOBS: readonly Job[] = [
  { name: 'janitor', batch: 25, run: async (ctx) => (await settleUnsettledPayments(ctx, { limit: 25 })).checked },
  { name: 'callbacks', batch: 25, run: (ctx) => processStaleCallbacks(ctx, { limit: 25 }) },
  {
    name: 'webhooks',
    batch: 50,
    run: async (ctx) => {
      const r = await runWebhookJobs(ctx);
      return Math.max(r.dispatched, r.attempted);
    },
  },
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
