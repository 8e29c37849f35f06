import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus } from '../../domain/enums.ts';
import { statement } from '../../db/statement.ts';
import { takenByAnEndpoint } from '../webhooks/outbox-sql.ts';

/**
 * The statements of a billing run (run-billing.ts). Each is set-based: one statement decides for every
 * service of the operator at once, so a run's memory and round trips do not grow with the number of
 * services. Everything is decided by :asOf (a civil date), never by the clock; :now only stamps rows.
 */

const P = PurchaseStatus;
const E = PurchaseCreationEvent;

/** The operator's civil date of an instant (South Africa: UTC+2, no daylight saving; domain/periods.ts). */
const civil = (instant: string) => `((${instant}) AT TIME ZONE 'UTC' + interval '2 hours')::date`;

/**
 * An outbox row for each row of `source`, `data` a jsonb expression over it (the envelope of
 * enqueue-event.ts), written only when an enabled endpoint of the operator takes the type (the outbox's
 * rule, webhooks/outbox-sql.ts). `operatorId` is the operator's id as the statement knows it: a parameter
 * when the statement is one operator's (the rule is then looked at once, and nothing is built when no
 * endpoint takes the type), or a column of `source`.
 */
const outbox = (source: string, type: string, data: string, operatorId = 'x.operator_id') => `
  INSERT INTO outbox_events (id, operator_id, type, payload, created_at)
  SELECT e.id, e.operator_id, '${type}', jsonb_build_object('id', e.id, 'type', '${type}',
    'created_at', to_char(:now::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', e.data), :now
  FROM (SELECT payrail_uuid7() AS id, x.operator_id, ${data} AS data FROM ${source} x
    WHERE ${takenByAnEndpoint({ operatorId, type: `'${type}'` })}) e
  RETURNING 1`;

/**
 * The run of a date, created if it is new. A second process running the same date waits here for the
 * first to commit, then finds the run made (FIND_RUN: a statement of its own, so it sees that commit).
 */
export const OPEN_RUN = statement<'id' | 'operatorId' | 'asOf' | 'now'>(
  'payrail_billing_open_run_v2',
  `INSERT INTO billing_runs (id, operator_id, as_of, started_at) VALUES (:id, :operatorId, :asOf::date, :now)
ON CONFLICT (operator_id, as_of) DO NOTHING
RETURNING id`,
);

export const FIND_RUN = statement<'operatorId' | 'asOf'>('payrail_billing_find_run_v1', 'SELECT id FROM billing_runs WHERE operator_id = :operatorId AND as_of = :asOf::date');

/** The run, locked for its final step (retries, recharges, suspensions, figures). */
export const LOCK_RUN = statement<'id'>('payrail_billing_lock_run_v1', 'SELECT * FROM billing_runs WHERE id = :id FOR UPDATE');

/**
 * The run, held by the process billing it (PostgreSQL): a second process finds it held and waits without
 * holding a connection. NO KEY UPDATE lets the slices' rows, which reference the run, be written meanwhile.
 */
export const HOLD_RUN = statement<'id'>('payrail_billing_hold_run_v1', 'SELECT status FROM billing_runs WHERE id = :id FOR NO KEY UPDATE SKIP LOCKED');

export const RUN_STATUS = statement<'id'>('payrail_billing_run_status_v1', 'SELECT status FROM billing_runs WHERE id = :id');

/**
 * The next slice of due services after :afterId, in id order: its last id (none when nothing is left). A
 * slice is billed in a transaction of its own (BILL_MONTH with :afterId and :uptoId).
 */
export const NEXT_SLICE = statement<'operatorId' | 'asOf' | 'afterId' | 'size'>(
  'payrail_billing_next_slice_v1',
  `SELECT id AS upto_id FROM (
  SELECT s.id FROM services s
  WHERE s.operator_id = :operatorId AND s.status = 'Active' AND s.billed_through IS NOT NULL AND s.billed_through <= :asOf::date
    AND s.collection_day IS NOT NULL AND s.id > :afterId::uuid
  ORDER BY s.id LIMIT :size::int
) x ORDER BY id DESC LIMIT 1`,
);

export const RECORD_SLICE = statement<'runId' | 'afterId' | 'uptoId' | 'purchasesCreated' | 'collectionsStarted' | 'now'>(
  'payrail_billing_record_slice_v1',
  `INSERT INTO billing_run_slices (run_id, after_id, upto_id, purchases_created, collections_started, finished_at)
VALUES (:runId, :afterId::uuid, :uptoId::uuid, :purchasesCreated::int, :collectionsStarted::int, :now)
ON CONFLICT (run_id, after_id) DO UPDATE SET upto_id = EXCLUDED.upto_id,
  purchases_created = billing_run_slices.purchases_created + EXCLUDED.purchases_created,
  collections_started = billing_run_slices.collections_started + EXCLUDED.collections_started, finished_at = EXCLUDED.finished_at`,
);

export const SLICE_FIGURES = statement<'runId'>(
  'payrail_billing_slice_figures_v1',
  `SELECT coalesce(sum(purchases_created), 0)::int AS purchases_created, coalesce(sum(collections_started), 0)::int AS collections_started
FROM billing_run_slices WHERE run_id = :runId`,
);

/** A service of `due` owes its period: the purchase is made now, or the one made before is still owed. */
const OWES = `((d.billed_status IS NULL AND NOT d.prepaid) OR d.billed_status IN (${P.Unpaid}, ${P.Submitted}))`;

/**
 * One month for every Active Recurring service whose next period has begun by :asOf: a purchase (Unpaid,
 * creation event 2) with one Monthly line for the period from its collection date up to the next (the
 * day clamped to the month's end), its outbox event, the service moved on to the period's end and owing
 * (InArrears, suspension date = due date + grace days), and a collection job when the plan has a Valid
 * medium to charge, for the services of one slice (ids in (:afterId, :uptoId]). A service behind by several
 * periods is caught up by running it again (one period a time, while `behind` counts services still due);
 * the unique index on (service_id, period_start) makes a period billed once, whatever runs. A period the
 * customer has paid for ahead (days bought with buy-now, up to the service's latest_period_end_date) is
 * not billed again: paid to its end, it gets no purchase and the service only moves on; paid in part, its
 * purchase is for the days not yet paid for, at the month's daily price, never more than the month.
 *
 * Every step reads `due` alone, which decides each service's new purchase id and whether its period is
 * billed already (then the service only moves on, and owes only if that purchase is still unpaid): no step
 * joins two of the statement's own results, whose sizes the planner cannot know and which it may join row
 * by row against each other (10,000 services: 10 s instead of 1). The unique index stays the guard: a purchase made meanwhile by something else makes the
 * statement fail (its line's purchase is missing) and the slice is billed again (run-billing.ts billSlice).
 */
export const BILL_MONTH = statement<'operatorId' | 'asOf' | 'runId' | 'now' | 'afterId' | 'uptoId'>(
  'payrail_billing_month_v8',
  `WITH due AS (
  SELECT s.id AS service_id, s.operator_id, s.customer_id, pp.id AS plan_id, s.billed_through AS period_start, pe.period_end,
    pr.id AS price_id, pr.description, pr.price_incl_cents, o.vat_rate_bp, o.grace_days,
    -- Days of the period bought ahead (buy-now): a period paid for to its end is not billed; one paid for in
    -- part is billed its other days at the daily price (the month over its days_in_period), never more than a month.
    coalesce(s.latest_period_end_date >= pe.period_end, false) AS prepaid,
    CASE WHEN s.latest_period_end_date > s.billed_through AND s.latest_period_end_date < pe.period_end
      THEN least(pr.price_incl_cents, (2 * pr.price_incl_cents * (pe.period_end - s.latest_period_end_date) + pr.days_in_period) / (2 * pr.days_in_period))
      ELSE pr.price_incl_cents END AS amount_cents,
    CASE WHEN s.latest_period_end_date > s.billed_through AND s.latest_period_end_date < pe.period_end
      THEN pe.period_end - s.latest_period_end_date END AS unpaid_days,
    (m.id IS NOT NULL) AS chargeable, payrail_uuid7() AS purchase_id,
    (SELECT b.status_id FROM purchases b WHERE b.service_id = s.id AND b.period_start = s.billed_through AND b.creation_event_id = ${E.RecurringBilling}) AS billed_status
  FROM services s
  CROSS JOIN LATERAL (SELECT payrail_next_collection_date(s.billed_through, s.collection_day) AS period_end) pe
  JOIN products p ON p.id = s.product_id AND p.billing_scheme = 'Recurring'
  JOIN LATERAL (
    SELECT x.id, x.description, x.price_incl_cents, x.days_in_period FROM product_prices x
    WHERE x.product_id = p.id AND x.line_type_id = ${PurchaseLineType.Monthly} AND x.active ORDER BY x.position LIMIT 1
  ) pr ON true
  JOIN operators o ON o.id = s.operator_id
  -- The slice's bounds again on each table keyed by service: each is read by its range, not all of it.
  LEFT JOIN purchase_plans pp ON pp.service_id = s.id AND pp.service_id > :afterId::uuid AND pp.service_id <= :uptoId::uuid
  LEFT JOIN mediums m ON m.id = pp.active_medium_id AND m.status = 'Valid' AND m.medium_type IN ('CreditCard', 'BankAccount')
  WHERE s.operator_id = :operatorId AND s.status = 'Active' AND s.billed_through IS NOT NULL AND s.billed_through <= :asOf::date
    AND s.collection_day IS NOT NULL AND s.id > :afterId::uuid AND s.id <= :uptoId::uuid
), created AS (
  INSERT INTO purchases (id, operator_id, customer_id, service_id, purchase_plan_id, status_id, creation_event_id, purchase_date,
    amount_cents, amount_excl_cents, tax_cents, period_start, period_end, created_at, updated_at)
  SELECT d.purchase_id, d.operator_id, d.customer_id, d.service_id, d.plan_id, ${P.Unpaid}, ${E.RecurringBilling},
    (d.period_start::text || 'T00:00:00+02:00')::timestamptz,
    d.amount_cents, x.excl, d.amount_cents - x.excl, d.period_start, d.period_end, :now, :now
  FROM due d
  -- VAT-exclusive amount, rounded half up to the cent (domain/vat.ts purchaseTotals).
  CROSS JOIN LATERAL (SELECT (2 * d.amount_cents * 10000 + 10000 + d.vat_rate_bp) / (2 * (10000 + d.vat_rate_bp)) AS excl) x
  WHERE d.billed_status IS NULL AND NOT d.prepaid
  ON CONFLICT (service_id, period_start) WHERE creation_event_id = ${E.RecurringBilling} DO NOTHING
  RETURNING id, operator_id, customer_id, service_id, small_key, amount_cents, period_start, period_end
), lines AS (
  INSERT INTO purchase_lines (id, purchase_id, position, line_type_id, description, quantity, unit_price_incl_num,
    unit_price_incl_den, tax_rate_bp, total_amount_cents, period_contribution_per_quantity, product_price_id)
  SELECT payrail_uuid7(), d.purchase_id, 0, ${PurchaseLineType.Monthly},
    d.description || ' ' || d.period_start || ' to ' || d.period_end || coalesce(' (' || d.unpaid_days || ' days not paid ahead)', ''),
    1, d.amount_cents, 1, d.vat_rate_bp, d.amount_cents, d.period_end - d.period_start, d.price_id
  FROM due d WHERE d.billed_status IS NULL AND NOT d.prepaid
  RETURNING 1
), advanced AS (
  UPDATE services s SET billed_through = d.period_end,
    -- Owing for the period: its purchase is new, or one made before is still unpaid (not one paid already).
    billing_status = CASE WHEN s.billing_status = 'PaidUp' AND ${OWES} THEN 'InArrears' ELSE s.billing_status END,
    suspension_date = CASE WHEN ${OWES} THEN coalesce(s.suspension_date, d.period_start + d.grace_days) ELSE s.suspension_date END, updated_at = :now,
    version = s.version + 1 -- its read-model version (migration 0002), bumped here for the triggers that skip it (migration 0019)
  FROM due d WHERE s.id = d.service_id AND s.id > :afterId::uuid AND s.id <= :uptoId::uuid
  RETURNING d.period_end <= :asOf::date AS behind
), jobs AS (
  INSERT INTO billing_collections (id, run_id, operator_id, purchase_id, attempt, created_at)
  SELECT payrail_uuid7(), :runId, d.operator_id, d.purchase_id, 0, :now FROM due d WHERE d.chargeable AND d.billed_status IS NULL AND NOT d.prepaid
  ON CONFLICT (purchase_id, attempt) DO NOTHING
  RETURNING 1
), events AS (${outbox(
    'created',
    'purchase.created',
    `jsonb_build_object('purchase_id', x.id, 'service_id', x.service_id, 'customer_id', x.customer_id, 'small_key', x.small_key,
      'purchase_status_id', ${P.Unpaid}, 'purchase_creation_event_id', ${E.RecurringBilling}, 'amount', round(x.amount_cents / 100.0, 2),
      'currency', 'ZAR', 'period_start', x.period_start, 'period_end', x.period_end)`,
    ':operatorId::uuid',
  )})
SELECT (SELECT count(*) FROM created)::int AS created, (SELECT count(*) FROM advanced)::int AS advanced,
  (SELECT count(*) FROM advanced WHERE behind)::int AS behind,
  (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM lines)::int AS lines, (SELECT count(*) FROM events)::int AS events`,
);

/**
 * Retries of monthly purchases still Unpaid: on each of the operator's retry days after the due date, one
 * more collection (attempt 1, 2 …). A date skipped by the runs still gets its latest retry, once; a date
 * run after a later one adds none (its retry was overtaken by the later one's).
 */
export const RETRY_MONTHS = statement<'operatorId' | 'asOf' | 'runId' | 'now'>(
  'payrail_billing_retries_v4',
  `WITH due AS (
  SELECT p.id AS purchase_id, p.operator_id, max(r.k)::smallint AS attempt
  FROM purchases p
  JOIN services s ON s.id = p.service_id AND s.status IN ('Active', 'Suspended')
  JOIN operators o ON o.id = p.operator_id
  JOIN purchase_plans pp ON pp.service_id = s.id
  JOIN mediums m ON m.id = pp.active_medium_id AND m.status = 'Valid' AND m.medium_type IN ('CreditCard', 'BankAccount')
  CROSS JOIN LATERAL unnest(o.retry_days) WITH ORDINALITY AS r(d, k)
  WHERE p.operator_id = :operatorId AND p.creation_event_id = ${E.RecurringBilling} AND p.status_id = ${P.Unpaid}
    AND p.period_start + r.d <= :asOf::date
    -- Only purchases whose period began at least the first retry day ago (by purchases_monthly_unpaid):
    -- a collection day's run does not read the million purchases it has just made.
    AND p.period_start <= :asOf::date - (SELECT min(x.d) FROM operators o1 CROSS JOIN LATERAL unnest(o1.retry_days) AS x(d) WHERE o1.id = :operatorId)
    -- A retry follows a collection that was made: none while one is still queued or being worked.
    AND EXISTS (SELECT 1 FROM billing_collections c WHERE c.purchase_id = p.id AND c.status = 'done')
    AND NOT EXISTS (SELECT 1 FROM billing_collections c WHERE c.purchase_id = p.id AND c.status <> 'done')
  GROUP BY p.id, p.operator_id
)
INSERT INTO billing_collections (id, run_id, operator_id, purchase_id, attempt, created_at)
SELECT payrail_uuid7(), :runId, operator_id, purchase_id, attempt, :now FROM due
WHERE NOT EXISTS (SELECT 1 FROM billing_collections c WHERE c.purchase_id = due.purchase_id AND c.attempt > due.attempt)
ON CONFLICT (purchase_id, attempt) DO NOTHING
RETURNING 1`,
);

/**
 * Auto-recharges (HybridDayBundle): a Scheduled purchase is collected on its date (attempt 0); one that
 * failed is tried again each following day (attempt = days after its date) while attempts remain; a date
 * run after a later one adds none.
 */
export const COLLECT_RECHARGES = statement<'operatorId' | 'asOf' | 'runId' | 'now'>(
  'payrail_billing_recharges_v3',
  `WITH due AS (
  SELECT p.id AS purchase_id, p.operator_id,
    CASE WHEN p.status_id = ${P.Scheduled} THEN 0 ELSE least(:asOf::date - ${civil('p.purchase_date')}, o.auto_recharge_attempts - 1) END::smallint AS attempt
  FROM purchases p
  JOIN services s ON s.id = p.service_id AND s.status IN ('Active', 'Suspended')
  JOIN operators o ON o.id = p.operator_id
  JOIN purchase_plans pp ON pp.service_id = s.id
  JOIN mediums m ON m.id = pp.active_medium_id AND m.status = 'Valid' AND m.medium_type = 'CreditCard'
  WHERE p.operator_id = :operatorId AND p.creation_event_id = ${E.AutoRecharge} AND p.status_id IN (${P.Scheduled}, ${P.Unpaid})
    AND ${civil('p.purchase_date')} <= :asOf::date
    AND NOT EXISTS (SELECT 1 FROM billing_collections c WHERE c.purchase_id = p.id AND c.status <> 'done')
)
INSERT INTO billing_collections (id, run_id, operator_id, purchase_id, attempt, created_at)
SELECT payrail_uuid7(), :runId, operator_id, purchase_id, attempt, :now FROM due WHERE attempt >= 0
  AND NOT EXISTS (SELECT 1 FROM billing_collections c WHERE c.purchase_id = due.purchase_id AND c.attempt > due.attempt)
ON CONFLICT (purchase_id, attempt) DO NOTHING
RETURNING 1`,
);

/**
 * Auto-recharges still unpaid after their last attempt's day: given up on (Failed), with their events; not
 * one a return reopened (record-return.ts), which stays owed.
 */
export const FAIL_RECHARGES = statement<'operatorId' | 'asOf' | 'now'>(
  'payrail_billing_fail_recharges_v6',
  `WITH failed AS (
  UPDATE purchases p SET status_id = ${P.Failed}, updated_at = :now
  FROM operators o
  WHERE o.id = p.operator_id AND p.operator_id = :operatorId AND p.creation_event_id = ${E.AutoRecharge} AND p.status_id = ${P.Unpaid}
    AND :asOf::date - ${civil('p.purchase_date')} >= o.auto_recharge_attempts
    -- One whose payment came back (a return reopened it) is money the customer has had back: owed, not given up on.
    AND NOT EXISTS (SELECT 1 FROM payments py WHERE py.purchase_id = p.id AND py.returned_at IS NOT NULL)
  RETURNING p.id, p.operator_id, p.service_id, p.customer_id, p.small_key, p.amount_cents
), settled AS (
  -- Given up on, it is owed no more: a service it alone kept InArrears (RECHARGES_OWED) is PaidUp again,
  -- and is Suspended when its bundle ends, as any day bundle is.
  UPDATE services s SET billing_status = 'PaidUp', suspension_date = NULL, updated_at = :now
  FROM (SELECT DISTINCT service_id FROM failed) f
  WHERE s.id = f.service_id AND s.status = 'Active' AND s.billing_status = 'InArrears'
    AND NOT EXISTS (SELECT 1 FROM purchases o WHERE o.service_id = s.id AND o.status_id = ${P.Unpaid} AND o.id NOT IN (SELECT id FROM failed))
  RETURNING 1
), events AS (${outbox(
    'failed',
    'purchase.failed',
    `jsonb_build_object('purchase_id', x.id, 'service_id', x.service_id, 'customer_id', x.customer_id, 'small_key', x.small_key,
      'purchase_status_id', ${P.Failed}, 'purchase_creation_event_id', ${E.AutoRecharge}, 'amount', round(x.amount_cents / 100.0, 2), 'currency', 'ZAR')`,
    ':operatorId::uuid',
  )})
SELECT (SELECT count(*) FROM failed)::int AS failed`,
);

/**
 * An auto-recharge whose collection failed is owed (Unpaid, must pay): its service, PaidUp until then, is
 * InArrears until it is paid, with the day its bundle ends as its suspension date (SUSPEND suspends a day
 * bundle then). Run by the worker once those collections are done; FAIL_RECHARGES undoes it when the
 * recharge is given up on.
 */
export const RECHARGES_OWED = statement<'collectionIds' | 'now'>(
  'payrail_billing_recharges_owed_v1',
  `UPDATE services s SET billing_status = 'InArrears', suspension_date = coalesce(s.suspension_date, s.latest_period_end_date), updated_at = :now
FROM (
  SELECT DISTINCT q.service_id FROM billing_collections c JOIN purchases q ON q.id = c.purchase_id
  WHERE c.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:collectionIds::jsonb)) AND c.status = 'done'
    AND q.creation_event_id = ${E.AutoRecharge} AND q.status_id = ${P.Unpaid}
) r
WHERE s.id = r.service_id AND s.status = 'Active' AND s.billing_status = 'PaidUp'
RETURNING s.id`,
);

/**
 * Whether the service `s` (of product `p`) is due to be Suspended on `asOf`: a Recurring service still
 * owing on its suspension date, or a day-bundle service whose paid period has ended — unless one of its
 * collections is still queued or being worked (`open`, a CTE of services, OPEN_SERVICES). Its outcome
 * decides: a card that pays that day keeps the service, and one that fails suspends it when the
 * collection is done (SUSPEND_AFTER_COLLECTIONS).
 */
const suspendable = (asOf: string) => `s.status = 'Active' AND (
    (p.billing_scheme = 'Recurring' AND s.suspension_date <= ${asOf}
      AND EXISTS (SELECT 1 FROM purchases o WHERE o.service_id = s.id AND o.status_id = ${P.Unpaid}))
    OR (p.billing_scheme IN ('DayBundle', 'HybridDayBundle') AND s.latest_period_end_date <= ${asOf})
  ) AND NOT EXISTS (SELECT 1 FROM open WHERE open.service_id = s.id)`;

/**
 * The services of `operator` with a collection still queued or being worked, read from the open
 * collections alone (their partial index) and materialised once: its cost follows the collections still
 * open, not every purchase the operator ever made.
 */
const OPEN_SERVICES = (operator: string) => `open AS MATERIALIZED (
  -- Each open collection's purchase by its key: a join would read every purchase to hash them.
  SELECT DISTINCT (SELECT q.service_id FROM purchases q WHERE q.id = c.purchase_id) AS service_id
  FROM billing_collections c WHERE c.status <> 'done' AND c.operator_id = ${operator}
)`;

const suspendedEvent = (asOf: string, operatorId?: string) =>
  outbox(
    'suspended',
    'service.suspended',
    `jsonb_build_object('service_id', x.id, 'customer_id', x.customer_id, 'service_status', 'Suspended', 'billing_status', 'Suspended',
      'suspension_date', x.suspension_date, 'latest_period_end_date', x.latest_period_end_date, 'as_of', ${asOf})`,
    operatorId,
  );

/**
 * Suspension (SPEC §10), with its events: the services due to be Suspended by the run of :asOf (see
 * `suspendable`). Paying what is owed reinstates them (the services_reinstate trigger, migration 0007).
 */
export const SUSPEND = statement<'operatorId' | 'asOf' | 'now'>(
  'payrail_billing_suspend_v6',
  `WITH ${OPEN_SERVICES(':operatorId::uuid')}, suspended AS (
  UPDATE services s SET status = 'Suspended', billing_status = 'Suspended', updated_at = :now
  FROM products p
  WHERE p.id = s.product_id AND s.operator_id = :operatorId AND ${suspendable(':asOf::date')}
  RETURNING s.id, s.operator_id, s.customer_id, s.suspension_date, s.latest_period_end_date
), events AS (${suspendedEvent(':asOf::date', ':operatorId::uuid')})
SELECT (SELECT count(*) FROM suspended)::int AS suspended`,
);

/**
 * The suspensions runs left to collections' outcomes: once the last open collection of a service is done,
 * the service is Suspended if it is due by the date its operator's runs have reached (the latest completed
 * run's as_of up to today, whichever run queued the collection: a run skips a service whose collection an earlier run
 * queued and the workers have not yet worked), and that run's figure counts it. Only completed runs count:
 * a run still under way suspends in its last step, which sees the collections done by then (one done
 * between that step and its commit leaves the service to the next day's run). Written in the transaction
 * that writes the collections' outcomes (work-collections.ts). A completed run's row is not held, so this
 * never waits on a run.
 */
export const SUSPEND_AFTER_COLLECTIONS = statement<'collectionIds' | 'now'>(
  'payrail_billing_suspend_after_v4',
  `WITH done AS (
  SELECT DISTINCT q.service_id, c.operator_id
  FROM billing_collections c JOIN purchases q ON q.id = c.purchase_id
  WHERE c.id IN (SELECT value::uuid FROM jsonb_array_elements_text(:collectionIds::jsonb)) AND c.status = 'done'
), reached AS (
  SELECT d.service_id, r.id AS run_id, r.as_of
  FROM done d
  CROSS JOIN LATERAL (
    SELECT id, as_of FROM billing_runs
    WHERE operator_id = d.operator_id AND status = 'completed' AND as_of <= ${civil(':now::timestamptz')}
    ORDER BY as_of DESC LIMIT 1
  ) r
), open AS MATERIALIZED (
  -- Only the services at hand: any of their collections still open.
  SELECT DISTINCT q.service_id FROM purchases q JOIN billing_collections c ON c.purchase_id = q.id
  WHERE q.service_id IN (SELECT service_id FROM done) AND c.status <> 'done'
), suspended AS (
  UPDATE services s SET status = 'Suspended', billing_status = 'Suspended', updated_at = :now
  FROM reached d, products p
  WHERE s.id = d.service_id AND p.id = s.product_id AND ${suspendable('d.as_of')}
  RETURNING s.id, s.operator_id, s.customer_id, s.suspension_date, s.latest_period_end_date, d.run_id, d.as_of
), counted AS (
  UPDATE billing_runs r SET services_suspended = r.services_suspended + n.n
  FROM (SELECT run_id, count(*)::int AS n FROM suspended GROUP BY run_id) n
  WHERE r.id = n.run_id
  RETURNING 1
), events AS (${suspendedEvent('x.as_of')})
SELECT (SELECT count(*) FROM suspended)::int AS suspended, (SELECT count(*) FROM counted)::int AS runs`,
);

export const FINISH_RUN = statement<'id' | 'now' | 'purchasesCreated' | 'collectionsStarted' | 'retriesStarted' | 'servicesSuspended' | 'purchasesFailed'>(
  'payrail_billing_finish_run_v1',
  `UPDATE billing_runs SET status = 'completed', finished_at = :now, purchases_created = :purchasesCreated::int,
  collections_started = :collectionsStarted::int, retries_started = :retriesStarted::int, services_suspended = :servicesSuspended::int,
  purchases_failed = :purchasesFailed::int
WHERE id = :id`,
);
