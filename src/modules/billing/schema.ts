import { sql } from 'drizzle-orm';
import { check, date, index, integer, pgTable, primaryKey, smallint, text, unique, uuid } from 'drizzle-orm/pg-core';
import { id, instant } from '../../db/columns.ts';
import { operators } from '../operators/schema.ts';
import { payments } from '../payments/schema.ts';
import { purchases } from '../purchases/schema.ts';

export type BillingRunStatus = 'running' | 'completed';

/**
 * One billing run of an operator for one date (SPEC §10): everything it decided is decided by `as_of`, so
 * running a date again finds its run and changes nothing. The figures are what the run did; the
 * collections it started are worked afterwards by the jobs (billing_collections).
 */
export const billingRuns = pgTable(
  'billing_runs',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    asOf: date('as_of', { mode: 'string' }).notNull(),
    status: text('status').$type<BillingRunStatus>().notNull().default('running'),
    purchasesCreated: integer('purchases_created').notNull().default(0),
    collectionsStarted: integer('collections_started').notNull().default(0),
    retriesStarted: integer('retries_started').notNull().default(0),
    servicesSuspended: integer('services_suspended').notNull().default(0),
    /** Services the run's collections reinstated (counted as its jobs settle). */
    servicesReinstated: integer('services_reinstated').notNull().default(0),
    purchasesFailed: integer('purchases_failed').notNull().default(0),
    startedAt: instant('started_at').notNull().defaultNow(),
    finishedAt: instant('finished_at'),
  },
  (t) => [
    unique('billing_runs_operator_as_of').on(t.operatorId, t.asOf),
    check('billing_runs_status', sql`${t.status} in ('running', 'completed')`),
  ],
);

/**
 * A slice of a run's monthly billing: the due services with ids in (after_id, upto_id], billed in one
 * transaction. A run over many services commits slice by slice (several at once on PostgreSQL), so a
 * crash loses at most the slices in flight, and running the date again resumes where it stopped. The
 * run's figures are the sums over its slices, whichever process billed them.
 */
export const billingRunSlices = pgTable(
  'billing_run_slices',
  {
    runId: uuid('run_id').notNull().references(() => billingRuns.id),
    afterId: uuid('after_id').notNull(),
    uptoId: uuid('upto_id').notNull(),
    purchasesCreated: integer('purchases_created').notNull(),
    collectionsStarted: integer('collections_started').notNull(),
    finishedAt: instant('finished_at').notNull(),
  },
  (t) => [primaryKey({ name: 'billing_run_slices_pk', columns: [t.runId, t.afterId] })],
);

export type BillingCollectionStatus = 'queued' | 'running' | 'done';

/**
 * A collection a run started: a job row, claimed with FOR UPDATE SKIP LOCKED by any process that runs
 * jobs, and worked through the exactly-once collection core. `attempt` 0 is the collection on the due
 * date; 1, 2 … are the retries. One row per purchase and attempt, however often a run is repeated.
 */
export const billingCollections = pgTable(
  'billing_collections',
  {
    id: id(),
    runId: uuid('run_id').notNull().references(() => billingRuns.id),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    purchaseId: uuid('purchase_id').notNull().references(() => purchases.id),
    attempt: smallint('attempt').notNull(),
    status: text('status').$type<BillingCollectionStatus>().notNull().default('queued'),
    /** Claimed until: a worker that died holding it leaves it to be claimed again after this. */
    leaseUntil: instant('lease_until'),
    /** What came of it: succeeded, failed, unknown, pending, skipped (paid or in flight already), error. */
    outcome: text('outcome'),
    paymentId: uuid('payment_id').references(() => payments.id),
    detail: text('detail'),
    createdAt: instant('created_at').notNull().defaultNow(),
    finishedAt: instant('finished_at'),
  },
  (t) => [
    unique('billing_collections_purchase_attempt').on(t.purchaseId, t.attempt),
    index('billing_collections_run').on(t.runId),
    index('billing_collections_due').on(t.createdAt).where(sql`${t.status} <> 'done'`),
    check('billing_collections_status', sql`${t.status} in ('queued', 'running', 'done')`),
  ],
);
