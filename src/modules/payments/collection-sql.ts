/**
 * The statements of a collection (submit-for-collection, start-attempt, settle-payment), written by hand:
 * this is the hot path of every payment, and each is one prepared round trip (no query building). Named `payrail_*_vN`: PostgreSQL plans each once
 * per connection. Change a statement → bump its version.
 */

/** Lock the purchase, then its attempt (the order submit-for-collection uses), and read both. */
export const LOCK_ATTEMPT = {
  name: 'payrail_settle_lock_v1',
  text: `SELECT pu.status_id AS purchase_status_id, pu.service_id, pu.customer_id, pu.small_key, pu.medium_id AS purchase_medium_id,
  pu.amount_cents AS purchase_amount_cents, py.*
FROM purchases pu JOIN payments py ON py.purchase_id = pu.id
WHERE pu.id = $1 AND py.id = $2
FOR UPDATE OF pu, py`,
};

/** The purchase of an attempt, when the caller did not say. */
export const PURCHASE_OF_ATTEMPT = { name: 'payrail_settle_purchase_of_v1', text: 'SELECT purchase_id FROM payments WHERE id = $1' };

/** Lock the service a paid purchase fulfils, with what fulfilment needs to know. */
export const LOCK_SERVICE = {
  name: 'payrail_settle_service_v1',
  text: `SELECT s.latest_period_end_date, s.billing_status, pr.auto_recharge,
  EXISTS (SELECT 1 FROM purchases o WHERE o.service_id = s.id AND o.status_id = 3 AND o.id <> $2) AS owing,
  (SELECT coalesce(sum(l.quantity * l.period_contribution_per_quantity) FILTER (WHERE l.line_type_id <> 3), 0)::int
     FROM purchase_lines l WHERE l.purchase_id = $2) AS purchased_days
FROM services s JOIN products pr ON pr.id = s.product_id
WHERE s.id = $1
FOR UPDATE OF s`,
};

/**
 * An event no enabled endpoint of its operator subscribes to is written dispatched ($2, now). The same
 * rule as the outbox trigger's (migration 0004), written into the statement: a trigger or SQL function
 * call per event cost more than the rest of the insert.
 */
const DISPATCHED_IF_UNSUBSCRIBED = `CASE WHEN NOT EXISTS (
    SELECT 1 FROM webhook_endpoints ep
    WHERE ep.operator_id = e.operator_id AND ep.enabled AND (jsonb_array_length(ep.event_types) = 0 OR ep.event_types ? e.type)
  ) THEN $2 END`;

/**
 * Audit entries and outbox events of a settlement, passed as JSON arrays ($3, $4) and written in the same
 * statement; `onlyIf` is a condition both inserts wait on (PAY_FAST writes them only if it paid).
 */
const records = (onlyIf = 'true') => `
audited AS (
  INSERT INTO audit_events (operator_id, entity_type, entity_id, action, from_state, to_state, actor_id, actor_role, request_id, data, created_at)
  SELECT a."operatorId", a."entityType", a."entityId", a.action, a."fromState", a."toState", a."actorId", a."actorRole", a."requestId", a.data, $2
  FROM jsonb_to_recordset($3::jsonb) AS a("operatorId" uuid, "entityType" text, "entityId" uuid, action text, "fromState" text, "toState" text, "actorId" text, "actorRole" text, "requestId" text, data jsonb)
  WHERE ${onlyIf}
  RETURNING 1
), evented AS (
  INSERT INTO outbox_events (id, operator_id, type, payload, created_at, dispatched_at)
  SELECT e.id, e.operator_id, e.type, e.payload, $2, ${DISPATCHED_IF_UNSUBSCRIBED}
  FROM jsonb_to_recordset($4::jsonb) AS e(id uuid, operator_id uuid, type text, payload jsonb)
  WHERE ${onlyIf}
  RETURNING 1
)`;

/**
 * What a success writes (PAY and PAY_FAST): the attempt ($5 provider reference, $6 raw, $7 kept card),
 * the purchase ($8 payment reference, $9 medium, $10 source, $11 comment) and the service's fulfilment
 * ($13 period end, $14 billing status, $15 clear the suspension). $2 is now.
 */
const PAYMENT_SUCCEEDED = `status = 'succeeded', settled_at = $2, next_check_at = NULL, failure_code = NULL, failure_message = NULL,
    last_check_error = NULL, provider_reference = $5, raw = $6::jsonb, created_medium_id = $7, updated_at = $2`;
const PURCHASE_PAID = `status_id = 4, paid_at = $2, payment_reference = $8, medium_id = $9,
    purchase_source_id = coalesce($10, purchase_source_id), comment = coalesce($11, comment), period_applied = true, updated_at = $2`;
const SERVICE_FULFILLED = `latest_period_end_date = $13::date, billing_status = $14,
    suspension_date = CASE WHEN $15::boolean THEN NULL ELSE suspension_date END, version = version + 1, updated_at = $2`;

/**
 * Succeeded: the attempt, the purchase (Paid, period applied) and the service (fulfilment) in one
 * statement, with the audit entries and outbox events. $1 payment, $2 now, $3 audit, $4 events.
 */
export const PAY = {
  name: 'payrail_settle_pay_v5',
  text: `WITH pay AS (
  UPDATE payments SET ${PAYMENT_SUCCEEDED}
  WHERE id = $1 RETURNING *
), paid AS (
  UPDATE purchases SET ${PURCHASE_PAID}
  WHERE id = $12 RETURNING 1
), fulfilled AS (
  UPDATE services SET ${SERVICE_FULFILLED}
  WHERE id = $16 RETURNING 1
),${records()}
SELECT * FROM pay`,
};

/**
 * Succeeded, when nothing about the purchase or its service has changed since the attempt started
 * (START_ATTEMPT read the service at version $17 - 1; its own purchase update made it $17): the same
 * writes as PAY in one autocommitted statement, without a transaction's five round trips.
 *
 * The service is updated first and only at the version expected, and every later step runs only if the
 * step before it matched, so no row is returned when anything moved (the caller then settles the locked
 * way). Any change to a purchase of the service bumps its version, and the service row stays locked by
 * this statement, so nothing can slip in between. Should the service match and a later step not (a
 * payment settled without its purchase changing, which no path does), payrail_assert aborts the whole
 * statement rather than leave half of it.
 */
export const PAY_FAST = {
  name: 'payrail_settle_pay_fast_v3',
  text: `WITH fulfilled AS (
  UPDATE services SET ${SERVICE_FULFILLED}
  WHERE id = $16 AND version = $17::bigint RETURNING id
), paid AS (
  UPDATE purchases p SET ${PURCHASE_PAID}
  FROM fulfilled f WHERE p.id = $12 AND p.service_id = f.id AND p.status_id = 2 RETURNING p.id
), pay AS (
  UPDATE payments py SET ${PAYMENT_SUCCEEDED}
  FROM paid WHERE py.id = $1 AND py.purchase_id = paid.id AND py.status IN ('pending', 'unknown') RETURNING py.*
),${records('EXISTS (SELECT 1 FROM pay)')}
SELECT pay.* FROM (SELECT payrail_assert(NOT EXISTS (SELECT 1 FROM fulfilled) OR EXISTS (SELECT 1 FROM pay), 'payrail_settle_pay_fast: the service matched but its purchase or attempt did not') AS ok) checked
LEFT JOIN pay ON true`,
};

/** Failed: the attempt, and the purchase back to payable if it was waiting on it. */
export const FAIL = {
  name: 'payrail_settle_fail_v5',
  text: `WITH pay AS (
  UPDATE payments SET status = 'failed', settled_at = $2, next_check_at = NULL, failure_code = $5, failure_message = $6,
    provider_reference = $7, raw = $8::jsonb, updated_at = $2
  WHERE id = $1 RETURNING *
), payable AS (
  UPDATE purchases p SET status_id = pay.payable_status_id, updated_at = $2
  FROM pay WHERE p.id = pay.purchase_id AND p.status_id = 2 RETURNING 1
),${records()}
SELECT * FROM pay`,
};

/** Unknown, or still pending: when to ask again, and what the provider said last. */
export const RECHECK = {
  name: 'payrail_settle_recheck_v5',
  text: `WITH pay AS (
  UPDATE payments SET status = $5, next_check_at = $6, last_check_error = $7, provider_reference = $8, raw = $9::jsonb, updated_at = $2
  WHERE id = $1 RETURNING *
),${records()}
SELECT * FROM pay`,
};

/**
 * Step 1 of a collection, in one statement: lock the purchase; if it is payable and has no attempt in
 * flight, record a pending attempt, mark the purchase Submitted and audit it. Returns the purchase's
 * status and any live attempt either way (no row: no such purchase). A concurrent duplicate waits on the
 * purchase's lock and then sees it Submitted; the unique index on live attempts is the last word.
 *
 * Also returns what settling a success needs to know about the purchase and its service (`svc_*`, read in
 * this statement's snapshot), so that the common answer can be settled in one statement (PAY_FAST).
 */
export const START_ATTEMPT = {
  name: 'payrail_start_attempt_v2',
  text: `WITH target AS (
  SELECT id, operator_id, status_id, amount_cents, currency, creation_event_id, service_id, customer_id, small_key, medium_id FROM purchases WHERE id = $1 FOR UPDATE
), live AS (
  SELECT id, status FROM payments WHERE purchase_id = $1 AND status IN ('pending', 'unknown', 'succeeded') LIMIT 1
), inserted AS (
  INSERT INTO payments (id, operator_id, purchase_id, medium_id, provider, kind, status, amount_cents, currency, merchant_reference,
    payable_status_id, success_url, failure_url, tokenise, purchase_source_id, comment, created_by, next_check_at, created_at, updated_at)
  SELECT $2, t.operator_id, t.id, $3, $4, $5, 'pending', t.amount_cents, t.currency, $6,
    CASE WHEN t.status_id = 6 OR t.creation_event_id = 6 THEN 6 ELSE 3 END, $7, $8, $9, $10, $11, $12, $13, $14, $14
  FROM target t
  WHERE t.status_id IN (1, 3, 6) AND t.amount_cents > 0 AND NOT EXISTS (SELECT 1 FROM live)
  RETURNING *
), submitted AS (
  UPDATE purchases p SET status_id = 2, medium_id = coalesce($15, p.medium_id), updated_at = $14
  FROM inserted i WHERE p.id = i.purchase_id
  RETURNING 1
), audited AS (
  INSERT INTO audit_events (operator_id, entity_type, entity_id, action, to_state, actor_id, actor_role, request_id, data, created_at)
  SELECT i.operator_id, 'payment', i.id, 'payment.started', 'pending', $16, $17, $18, $19::jsonb, $14 FROM inserted i
  RETURNING 1
)
SELECT t.status_id AS purchase_status_id, t.amount_cents AS purchase_amount_cents, l.id AS live_id, l.status AS live_status,
  t.service_id AS purchase_service_id, t.customer_id AS purchase_customer_id, t.small_key AS purchase_small_key,
  coalesce($15, t.medium_id) AS purchase_medium_id,
  s.version::text AS svc_version, s.latest_period_end_date AS svc_latest_period_end_date, s.billing_status AS svc_billing_status,
  pr.auto_recharge AS svc_auto_recharge,
  EXISTS (SELECT 1 FROM purchases o WHERE o.service_id = t.service_id AND o.status_id = 3 AND o.id <> t.id) AS svc_owing,
  (SELECT coalesce(sum(pl.quantity * pl.period_contribution_per_quantity) FILTER (WHERE pl.line_type_id <> 3), 0)::int
     FROM purchase_lines pl WHERE pl.purchase_id = t.id) AS svc_purchased_days,
  i.*
FROM target t
JOIN services s ON s.id = t.service_id
JOIN products pr ON pr.id = s.product_id
LEFT JOIN live l ON true LEFT JOIN inserted i ON true`,
};

/**
 * What submit-for-collection needs before it starts, in one round trip: the service (in the caller's
 * scope: $3 operator, $4 customer or null), its customer and product, the purchase, and the medium with
 * its sealed token (the global "Add new payment method" medium has no operator).
 */
export const COLLECTION_TARGET = {
  name: 'payrail_collection_target_v1',
  text: `SELECT s.id AS service_id, s.customer_id AS service_customer_id, s.collector_id, s.operator_id AS service_operator_id, s.product_id,
  c.name AS customer_name, c.email AS customer_email, c.cell_number AS customer_cell_number, pr.auto_recharge,
  pu.id AS purchase_id, pu.service_id AS purchase_service_id, pu.customer_id AS purchase_customer_id, pu.status_id AS purchase_status_id,
  pu.purchase_date, pu.small_key, pu.amount_cents AS purchase_amount_cents,
  m.id AS medium_id, m.operator_id AS medium_operator_id, m.customer_id AS medium_customer_id, m.medium_type, m.status AS medium_status,
  m.provider AS medium_provider, mc.provider AS token_provider, mc.sealed_token
FROM services s
JOIN customers c ON c.id = s.customer_id
JOIN products pr ON pr.id = s.product_id
LEFT JOIN purchases pu ON pu.id = $2 AND pu.operator_id = $3
LEFT JOIN mediums m ON m.id = $5 AND (m.operator_id = $3 OR m.operator_id IS NULL)
LEFT JOIN medium_credentials mc ON mc.medium_id = m.id
WHERE s.id = $1 AND s.operator_id = $3 AND ($4::uuid IS NULL OR s.customer_id = $4::uuid)`,
};
