import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The metrics payrail's use-cases and jobs report (SPEC §2): payment outcomes by provider, callbacks by
 * verdict, and how far behind each job is. One registry per context, so apps in one test process never
 * collide; `/metrics` serves it alongside the HTTP metrics.
 */
export interface Telemetry {
  registry: Registry;
  paymentOutcomes: Counter<'provider' | 'kind' | 'status'>;
  callbacks: Counter<'provider' | 'channel' | 'verdict'>;
  /** Age in seconds of the oldest item a job has not done yet (0 when it is up to date). */
  jobLag: Gauge<'job'>;
  jobRuns: Counter<'job' | 'result'>;
}

export function createTelemetry(): Telemetry {
  const registry = new Registry();
  return {
    registry,
    paymentOutcomes: new Counter({
      name: 'payrail_payment_outcomes_total',
      help: 'Collection attempts by provider, kind (token, hosted, link, allocation) and resulting status',
      labelNames: ['provider', 'kind', 'status'] as const,
      registers: [registry],
    }),
    callbacks: new Counter({
      name: 'payrail_provider_callbacks_total',
      help: 'Provider callbacks by provider, channel and verdict (processed, duplicate, rejected)',
      labelNames: ['provider', 'channel', 'verdict'] as const,
      registers: [registry],
    }),
    jobLag: new Gauge({
      name: 'payrail_job_lag_seconds',
      help: 'Age of the oldest due item of each job (janitor: unsettled payments; webhooks: due deliveries)',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
    jobRuns: new Counter({
      name: 'payrail_job_runs_total',
      help: 'Job runs by job and result',
      labelNames: ['job', 'result'] as const,
      registers: [registry],
    }),
  };
}
