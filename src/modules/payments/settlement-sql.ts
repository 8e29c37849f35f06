/**
 * The statements of a collection (collect-purchase, start-attempt, settle-payment), written by hand: this
 * is the hot path of every payment, and each is one prepared round trip (no query building). Parameters are
 * named (db/statement.ts) and purchase statuses come from domain/ (PurchaseMoves): this file holds SQL only;
 * what fills the parameters is in settle-payment.ts, the audit entries and outbox events in
 * settlement-records.ts. Named `payrail_*_vN`: PostgreSQL plans each once per connection. Change a
 * statement → bump its version.
 */
import { statement } from '../../db/statement.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus as P } from '../../domain/enums.ts';
import { OWED_PURCHASE_STATUS, PurchaseMoves } from '../../domain/state-machines.ts';
import { takenByAnEndpoint } from '../webhooks/outbox-sql.ts';

const list = (values: readonly number[]): string => values.join(', ');

/**
 * Days a paid purchase adds to its service's period: its Day and Monthly lines (a once-off line adds none);
 * none when they were added before (a purchase paid again after its payment was returned).
 */
const PURCHASED_DAYS = (purchase: string) => `(SELECT CASE WHEN u.period_applied THEN 0 ELSE coalesce(sum(l.quantity * l.period_contribution_per_quantity) FILTER (WHERE l.line_type_id <> ${PurchaseLineType.Once}), 0) END::int
     FROM purchases u LEFT JOIN purchase_lines l ON l.purchase_id = u.id WHERE u.id = ${purchase} GROUP BY u.period_applied)`;

/** Another purchase of the service is owed. */
const OWING = (service: string, purchase: string) => `EXISTS (SELECT 1 FROM purchases o WHERE o.service_id = ${service} AND o.status_id = ${OWED_PURCHASE_STATUS} AND o.id <> ${purchase})`;

/** Lock the purchase, then its attempt (the order a collection uses), and read both. */
export const LOCK_ATTEMPT = statement<'purchaseId' | 'paymentId'>(
  'payrail_settle_lock_v1',
  `SELECT pu.status_id AS purchase_status_id, pu.service_id, pu.customer_id, pu.small_key, pu.medium_id AS purchase_medium_id,
  pu.amount_cents AS purchase_amount_cents, py.*
FROM purchases pu JOIN payments py ON py.purchase_id = pu.id
WHERE pu.id = :purchaseId AND py.id = :paymentId
FOR UPDATE OF pu, py`,
);

/** The purchase of an attempt, when the caller did not say. */
export const PURCHASE_OF_ATTEMPT = statement<'paymentId'>('payrail_settle_purchase_of_v1', 'SELECT purchase_id FROM payments WHERE id = :paymentId');

/** Lock the service a paid purchase fulfils, with what fulfilment needs to know. */
export const LOCK_SERVICE = statement<'serviceId' | 'purchaseId'>(
  'payrail_settle_service_v4',
  `SELECT s.latest_period_end_date, s.billing_status, pr.auto_recharge,
  ${OWING('s.id', ':purchaseId')} AS owing,
  ${PURCHASED_DAYS(':purchaseId')} AS purchased_days,
  (SELECT period_end FROM purchases WHERE id = :purchaseId) AS covered_until
FROM services s JOIN products pr ON pr.id = s.product_id
WHERE s.id = :serviceId
FOR UPDATE OF s`,
);

/** The outbox's rule (webhooks/outbox-sql.ts), over the events being written: only those an endpoint takes. */
const TAKEN = takenByAnEndpoint({ operatorId: 'e.operator_id', type: 'e.type' });

/**
 * Audit entries and outbox events of a settlement, passed as JSON arrays (:audit, :events) and written in
 * the same statement; `onlyIf` is a condition both inserts wait on (PAY_FAST writes them only if it paid).
 */
const records = (onlyIf = 'true') => `
audited AS (
  INSERT INTO audit_events (operator_id, entity_type, entity_id, action, from_state, to_state, actor_id, actor_role, request_id, data, created_at)
  SELECT a."operatorId", a."entityType", a."entityId", a.action, a."fromState", a."toState", a."actorId", a."actorRole", a."requestId", a.data, :now
  FROM jsonb_to_recordset(:audit::jsonb) AS a("operatorId" uuid, "entityType" text, "entityId" uuid, action text, "fromState" text, "toState" text, "actorId" text, "actorRole" text, "requestId" text, data jsonb)
  WHERE ${onlyIf}
  RETURNING 1
), evented AS (
  INSERT INTO outbox_events (id, operator_id, type, payload, created_at)
  SELECT e.id, e.operator_id, e.type, e.payload, :now
  FROM jsonb_to_recordset(:events::jsonb) AS e(id uuid, operator_id uuid, type text, payload jsonb)
  WHERE ${onlyIf} AND ${TAKEN}
  RETURNING 1
)`;

type RecordParams = 'now' | 'audit' | 'events';

/**
 * What a success writes (PAY, PAY_FAST and PAY_FAST_MANY): the attempt, the purchase (Paid, period applied)
 * and the service's fulfilment, each value taken from `v`: a statement's parameter (`:name`), or a column of
 * PAY_FAST_MANY's input rows.
 */
const param = (name: string) => `:${name}`;
/** PAY_FAST_MANY's input column of a value (its comment is "purchaseComment": a bare `comment` would be the purchase's own column too). */
const inputColumn = (name: string) => `a."${name === 'comment' ? 'purchaseComment' : name}"`;
const paymentSucceeded = (v = param) => `status = 'succeeded', settled_at = :now, next_check_at = NULL, failure_code = NULL, failure_message = NULL,
    last_check_error = NULL, provider_reference = ${v('providerReference')}, raw = ${v('raw')}::jsonb, created_medium_id = ${v('createdMediumId')}, updated_at = :now`;
const purchasePaid = (v = param) => `status_id = ${PurchaseMoves.pay.to}, paid_at = :now, payment_reference = ${v('paymentReference')}, medium_id = ${v('purchaseMediumId')},
    purchase_source_id = coalesce(${v('purchaseSourceId')}, purchase_source_id), comment = coalesce(${v('comment')}, comment), period_applied = true, updated_at = :now`;
const serviceFulfilled = (v = param) => `latest_period_end_date = ${v('periodEnd')}::date, billing_status = ${v('billingStatus')},
    suspension_date = CASE WHEN ${v('clearSuspension')}::boolean THEN NULL ELSE suspension_date END, version = version + 1, updated_at = :now`;
const PAYMENT_SUCCEEDED = paymentSucceeded();
const PURCHASE_PAID = purchasePaid();
const SERVICE_FULFILLED = serviceFulfilled();

export type PaidParams =
  | RecordParams
  | 'paymentId'
  | 'providerReference'
  | 'raw'
  | 'createdMediumId'
  | 'paymentReference'
  | 'purchaseMediumId'
  | 'purchaseSourceId'
  | 'comment'
  | 'purchaseId'
  | 'periodEnd'
  | 'billingStatus'
  | 'clearSuspension'
  | 'serviceId';

/** Succeeded: the attempt, the purchase and the service in one statement, with the audit entries and outbox events. */
export const PAY = statement<PaidParams>(
  'payrail_settle_pay_v7',
  `WITH pay AS (
  UPDATE payments SET ${PAYMENT_SUCCEEDED}
  WHERE id = :paymentId RETURNING *
), paid AS (
  UPDATE purchases SET ${PURCHASE_PAID}
  WHERE id = :purchaseId RETURNING 1
), fulfilled AS (
  UPDATE services SET ${SERVICE_FULFILLED}
  WHERE id = :serviceId RETURNING 1
),${records()}
SELECT * FROM pay`,
);

/**
 * Succeeded, when nothing about the purchase or its service has changed since the attempt started
 * (START_ATTEMPT read the service at version :serviceVersion - 1; its own purchase update made it
 * :serviceVersion): the same writes as PAY in one autocommitted statement, without a transaction's five
 * round trips.
 *
 * The purchase and the attempt are locked first, in the order every settlement and collection locks them
 * (LOCK_ATTEMPT, then LOCK_SERVICE): a provider's notice settling the same attempt at the same moment (a
 * PayFast ITN racing the charge's answer) then waits for this statement, or this one for it, and the two
 * never deadlock. The service is updated next, only at the version expected, and every later step runs
 * only if the step before it matched, so no row is returned when anything moved (the caller then settles
 * the locked way). Any change to a purchase of the service bumps its version, and the rows stay locked by
 * this statement, so nothing can slip in between. Should the service match and a later step not (a
 * payment settled without its purchase changing, which no path does), payrail_assert aborts the whole
 * statement rather than leave half of it.
 */
export const PAY_FAST = statement<PaidParams | 'serviceVersion'>(
  'payrail_settle_pay_fast_v6',
  `WITH locked AS (
  SELECT pu.id FROM purchases pu JOIN payments py ON py.purchase_id = pu.id
  WHERE pu.id = :purchaseId AND py.id = :paymentId
  FOR UPDATE OF pu, py
), fulfilled AS (
  UPDATE services SET ${SERVICE_FULFILLED}
  WHERE id = :serviceId AND version = :serviceVersion::bigint AND EXISTS (SELECT 1 FROM locked) RETURNING id
), paid AS (
  UPDATE purchases p SET ${PURCHASE_PAID}
  FROM fulfilled f WHERE p.id = :purchaseId AND p.service_id = f.id AND p.status_id IN (${list(PurchaseMoves.pay.from)}) RETURNING p.id
), pay AS (
  UPDATE payments py SET ${PAYMENT_SUCCEEDED}
  FROM paid WHERE py.id = :paymentId AND py.purchase_id = paid.id AND py.status IN ('pending', 'unknown') RETURNING py.*
),${records('EXISTS (SELECT 1 FROM pay)')}
SELECT pay.* FROM (SELECT payrail_assert(NOT EXISTS (SELECT 1 FROM fulfilled) OR EXISTS (SELECT 1 FROM pay), 'payrail_settle_pay_fast: the service matched but its purchase or attempt did not') AS ok) checked
LEFT JOIN pay ON true`,
);

/**
 * PAY_FAST for several attempts in one statement (a billing worker's chunk): :payments is a JSON array of
 * PAY_FAST's parameters, one object per attempt (its audit entries and events inside it), each of another
 * service. The same locks in the same order (purchases and attempts, by purchase id), the same checks for
 * each, and a row for each attempt that was paid; an attempt with none is settled the locked way by the
 * caller. If any service matched and its purchase or attempt did not, nothing is written.
 */
export const PAY_FAST_MANY = statement<'payments' | 'now'>(
  'payrail_settle_pay_fast_many_v3',
  `WITH input AS (
  SELECT * FROM jsonb_to_recordset(:payments::jsonb) AS a("paymentId" uuid, "purchaseId" uuid, "serviceId" uuid, "serviceVersion" bigint, "providerReference" text,
    raw text, "createdMediumId" uuid, "paymentReference" text, "purchaseMediumId" uuid, "purchaseSourceId" uuid, "purchaseComment" text, "periodEnd" date,
    "billingStatus" text, "clearSuspension" boolean, audit jsonb, events jsonb)
), locked AS (
  SELECT py.id FROM purchases pu JOIN payments py ON py.purchase_id = pu.id
  WHERE (pu.id, py.id) IN (SELECT "purchaseId", "paymentId" FROM input)
  ORDER BY pu.id FOR UPDATE OF pu, py
), fulfilled AS (
  UPDATE services SET ${serviceFulfilled(inputColumn)}
  FROM input a WHERE services.id = a."serviceId" AND services.version = a."serviceVersion" AND a."paymentId" IN (SELECT id FROM locked) RETURNING a."paymentId"
), paid AS (
  UPDATE purchases p SET ${purchasePaid(inputColumn)}
  FROM input a JOIN fulfilled f ON f."paymentId" = a."paymentId"
  WHERE p.id = a."purchaseId" AND p.service_id = a."serviceId" AND p.status_id IN (${list(PurchaseMoves.pay.from)}) RETURNING a."paymentId"
), pay AS (
  UPDATE payments py SET ${paymentSucceeded(inputColumn)}
  FROM input a JOIN paid ON paid."paymentId" = a."paymentId"
  WHERE py.id = a."paymentId" AND py.purchase_id = a."purchaseId" AND py.status IN ('pending', 'unknown') RETURNING py.*
), audited AS (
  INSERT INTO audit_events (operator_id, entity_type, entity_id, action, from_state, to_state, actor_id, actor_role, request_id, data, created_at)
  SELECT r."operatorId", r."entityType", r."entityId", r.action, r."fromState", r."toState", r."actorId", r."actorRole", r."requestId", r.data, :now
  FROM input a JOIN pay ON pay.id = a."paymentId"
  CROSS JOIN LATERAL jsonb_to_recordset(a.audit) AS r("operatorId" uuid, "entityType" text, "entityId" uuid, action text, "fromState" text, "toState" text, "actorId" text, "actorRole" text, "requestId" text, data jsonb)
  RETURNING 1
), evented AS (
  INSERT INTO outbox_events (id, operator_id, type, payload, created_at)
  SELECT e.id, e.operator_id, e.type, e.payload, :now
  FROM input a JOIN pay ON pay.id = a."paymentId"
  CROSS JOIN LATERAL jsonb_to_recordset(a.events) AS e(id uuid, operator_id uuid, type text, payload jsonb)
  WHERE ${TAKEN}
  RETURNING 1
)
SELECT pay.* FROM (SELECT payrail_assert(NOT EXISTS (SELECT 1 FROM fulfilled f WHERE f."paymentId" NOT IN (SELECT id FROM pay)), 'payrail_settle_pay_fast_many: a service matched but its purchase or attempt did not') AS ok) checked
LEFT JOIN pay ON true`,
);

/** The late-success row of the attempt :paymentId, its money kept by :disposition. */
function lateSuccess(disposition: 'paid_purchase' | 'refund_due'): string {
  return `INSERT INTO late_successes (id, operator_id, payment_id, purchase_id, provider, provider_reference, amount_cents, currency, disposition, reason, created_at, updated_at)
  SELECT :lateId, py.operator_id, py.id, py.purchase_id, py.provider, :providerReference, py.amount_cents, py.currency, '${disposition}', :reason, :now, :now
  FROM payments py WHERE py.id = :paymentId
  RETURNING id`;
}

/**
 * A late success that pays a purchase still owed: the purchase (Paid, period applied) and the service's
 * fulfilment, with the late success recorded; the attempt itself stays failed.
 */
export const PAY_LATE = statement<Exclude<PaidParams, 'createdMediumId' | 'raw'> | 'lateId' | 'reason'>(
  'payrail_settle_pay_late_v2',
  `WITH paid AS (
  UPDATE purchases SET ${PURCHASE_PAID}
  WHERE id = :purchaseId AND status_id IN (${list(PurchaseMoves.payLate.from)}) RETURNING 1
), fulfilled AS (
  UPDATE services SET ${SERVICE_FULFILLED}
  WHERE id = :serviceId AND EXISTS (SELECT 1 FROM paid) RETURNING 1
), late AS (
  ${lateSuccess('paid_purchase')}
),${records()}
SELECT (SELECT count(*) FROM paid)::int AS paid, (SELECT id FROM late) AS late_id`,
);

/**
 * A late success that cannot pay its purchase (paid already, or cancelled): listed for a refund. An attempt
 * still live whose purchase another payment paid is marked succeeded (the money was taken) when
 * :markSucceeded; a failed attempt stays failed.
 */
export const LATE_REFUND_DUE = statement<RecordParams | 'paymentId' | 'lateId' | 'reason' | 'markSucceeded' | 'providerReference' | 'raw' | 'createdMediumId'>(
  'payrail_settle_late_refund_v2',
  `WITH pay AS (
  UPDATE payments SET ${PAYMENT_SUCCEEDED}
  WHERE id = :paymentId AND :markSucceeded::boolean AND status IN ('pending', 'unknown') RETURNING *
), late AS (
  ${lateSuccess('refund_due')}
),${records()}
SELECT (SELECT id FROM late) AS late_id`,
);

/** Whether an attempt's late success was recorded already (the same news twice). */
export const LATE_OF_ATTEMPT = statement<'paymentId'>('payrail_late_of_attempt_v1', 'SELECT id, disposition FROM late_successes WHERE payment_id = :paymentId');

/** Failed: the attempt, and the purchase back to payable if it was waiting on it. */
export const FAIL = statement<RecordParams | 'paymentId' | 'failureCode' | 'failureMessage' | 'providerReference' | 'raw'>(
  'payrail_settle_fail_v7',
  `WITH pay AS (
  UPDATE payments SET status = 'failed', settled_at = :now, next_check_at = NULL, failure_code = :failureCode, failure_message = :failureMessage,
    provider_reference = :providerReference, raw = :raw::jsonb, updated_at = :now
  WHERE id = :paymentId RETURNING *
), payable AS (
  UPDATE purchases p SET status_id = pay.payable_status_id, updated_at = :now
  FROM pay WHERE p.id = pay.purchase_id AND p.status_id IN (${list(PurchaseMoves.reopen.from)}) RETURNING 1
),${records()}
SELECT * FROM pay`,
);

/** Unknown, or still pending: when to ask again, and what the provider said last. */
export const RECHECK = statement<RecordParams | 'paymentId' | 'status' | 'nextCheckAt' | 'checkError' | 'providerReference' | 'raw'>(
  'payrail_settle_recheck_v7',
  `WITH pay AS (
  UPDATE payments SET status = :status, next_check_at = :nextCheckAt, last_check_error = :checkError, provider_reference = :providerReference, raw = :raw::jsonb, updated_at = :now
  WHERE id = :paymentId RETURNING *
),${records()}
SELECT * FROM pay`,
);

/**
 * What START_ATTEMPT and START_ATTEMPTS return of a purchase (target t), its service (s) and product (pr), its
 * live attempt (l) and the attempt they recorded (i): `purchaseMedium` is the medium the purchase is to keep.
 */
const STARTED_COLUMNS = (purchaseMedium: string) => `t.status_id AS purchase_status_id, t.amount_cents AS purchase_amount_cents, l.id AS live_id, l.status AS live_status,
  l.kind AS live_kind, l.created_at AS live_created_at, l.redirect_url AS live_redirect_url,
  t.service_id AS purchase_service_id, t.customer_id AS purchase_customer_id, t.small_key AS purchase_small_key,
  coalesce(${purchaseMedium}, t.medium_id) AS purchase_medium_id,
  s.version::text AS svc_version, s.latest_period_end_date AS svc_latest_period_end_date, s.billing_status AS svc_billing_status,
  pr.auto_recharge AS svc_auto_recharge,
  ${OWING('t.service_id', 't.id')} AS svc_owing,
  ${PURCHASED_DAYS('t.id')} AS svc_purchased_days,
  t.period_end AS svc_covered_until,
  i.*`;

/**
 * Step 1 of a collection, in one statement: lock the purchase; if it is payable and has no attempt in
 * flight, record a pending attempt, mark the purchase Submitted and audit it. Returns the purchase's
 * status and any live attempt either way (no row: no such purchase). A concurrent duplicate waits on the
 * purchase's lock and then sees it Submitted; the unique index on live attempts is the last word.
 *
 * Also returns what settling a success needs to know about the purchase and its service (`svc_*`, read in
 * this statement's snapshot), so that the common answer can be settled in one statement (PAY_FAST).
 */
export const START_ATTEMPT = statement<
  | 'purchaseId'
  | 'paymentId'
  | 'mediumId'
  | 'provider'
  | 'kind'
  | 'merchantReference'
  | 'successUrl'
  | 'failureUrl'
  | 'tokenise'
  | 'purchaseSourceId'
  | 'comment'
  | 'createdBy'
  | 'nextCheckAt'
  | 'now'
  | 'purchaseMediumId'
  | 'actorId'
  | 'actorRole'
  | 'requestId'
  | 'auditData'
>(
  'payrail_start_attempt_v6',
  `WITH target AS (
  SELECT id, operator_id, status_id, amount_cents, currency, creation_event_id, service_id, customer_id, small_key, medium_id, period_end FROM purchases WHERE id = :purchaseId FOR UPDATE
), live AS (
  SELECT id, status, kind, created_at, redirect_url FROM payments
  WHERE purchase_id = :purchaseId AND (status IN ('pending', 'unknown') OR (status = 'succeeded' AND returned_at IS NULL)) LIMIT 1
), inserted AS (
  INSERT INTO payments (id, operator_id, purchase_id, medium_id, provider, kind, status, amount_cents, currency, merchant_reference,
    payable_status_id, success_url, failure_url, tokenise, purchase_source_id, comment, created_by, next_check_at, created_at, updated_at)
  SELECT :paymentId, t.operator_id, t.id, :mediumId, :provider, :kind, 'pending', t.amount_cents, t.currency, :merchantReference,
    CASE WHEN t.status_id = ${P.Quote} OR t.creation_event_id = ${PurchaseCreationEvent.BuyNow} THEN ${P.Quote} ELSE ${P.Unpaid} END,
    :successUrl, :failureUrl, :tokenise, :purchaseSourceId, :comment, :createdBy, :nextCheckAt, :now, :now
  FROM target t
  WHERE t.status_id IN (${list(PurchaseMoves.submit.from)}) AND t.amount_cents > 0 AND NOT EXISTS (SELECT 1 FROM live)
  RETURNING *
), submitted AS (
  UPDATE purchases p SET status_id = ${PurchaseMoves.submit.to}, medium_id = coalesce(:purchaseMediumId, p.medium_id), updated_at = :now
  FROM inserted i WHERE p.id = i.purchase_id
  RETURNING 1
), audited AS (
  INSERT INTO audit_events (operator_id, entity_type, entity_id, action, to_state, actor_id, actor_role, request_id, data, created_at)
  SELECT i.operator_id, 'payment', i.id, 'payment.started', 'pending', :actorId, :actorRole, :requestId, :auditData::jsonb, :now FROM inserted i
  RETURNING 1
)
SELECT ${STARTED_COLUMNS(':purchaseMediumId')}
FROM target t
JOIN services s ON s.id = t.service_id
JOIN products pr ON pr.id = s.product_id
LEFT JOIN live l ON true LEFT JOIN inserted i ON true`,
);

/**
 * START_ATTEMPT for several purchases in one statement (a billing worker's chunk of collections): the same
 * locks, checks and writes for each, and a row for each input (`input_purchase_id`; `target_id` null when
 * there is no such purchase) with the columns START_ATTEMPT returns. The purchases are locked in id order,
 * so two chunks never wait on each other in a cycle. Each purchase at most once (the caller sees to it): a
 * second attempt on one purchase in the same statement would meet the unique index on live attempts.
 */
export const START_ATTEMPTS = statement<'attempts' | 'now' | 'actorRole'>(
  'payrail_start_attempts_v1',
  `WITH input AS (
  SELECT * FROM jsonb_to_recordset(:attempts::jsonb) AS a(purchase_id uuid, payment_id uuid, medium_id uuid, provider text, kind text, merchant_reference text,
    tokenise boolean, created_by text, next_check_at timestamptz, purchase_medium_id uuid, actor_id text, request_id text, audit_data jsonb)
), target AS (
  SELECT id, operator_id, status_id, amount_cents, currency, creation_event_id, service_id, customer_id, small_key, medium_id, period_end FROM purchases
  WHERE id IN (SELECT purchase_id FROM input) ORDER BY id FOR UPDATE
), live AS (
  SELECT DISTINCT ON (purchase_id) purchase_id, id, status, kind, created_at, redirect_url FROM payments
  WHERE purchase_id IN (SELECT purchase_id FROM input) AND (status IN ('pending', 'unknown') OR (status = 'succeeded' AND returned_at IS NULL))
  ORDER BY purchase_id, created_at DESC
), inserted AS (
  INSERT INTO payments (id, operator_id, purchase_id, medium_id, provider, kind, status, amount_cents, currency, merchant_reference,
    payable_status_id, success_url, failure_url, tokenise, purchase_source_id, comment, created_by, next_check_at, created_at, updated_at)
  SELECT a.payment_id, t.operator_id, t.id, a.medium_id, a.provider, a.kind, 'pending', t.amount_cents, t.currency, a.merchant_reference,
    CASE WHEN t.status_id = ${P.Quote} OR t.creation_event_id = ${PurchaseCreationEvent.BuyNow} THEN ${P.Quote} ELSE ${P.Unpaid} END,
    NULL, NULL, a.tokenise, NULL, NULL, a.created_by, a.next_check_at, :now, :now
  FROM input a JOIN target t ON t.id = a.purchase_id
  WHERE t.status_id IN (${list(PurchaseMoves.submit.from)}) AND t.amount_cents > 0 AND NOT EXISTS (SELECT 1 FROM live l WHERE l.purchase_id = t.id)
  RETURNING *
), submitted AS (
  UPDATE purchases p SET status_id = ${PurchaseMoves.submit.to}, medium_id = coalesce(a.purchase_medium_id, p.medium_id), updated_at = :now
  FROM inserted i JOIN input a ON a.payment_id = i.id WHERE p.id = i.purchase_id
  RETURNING 1
), audited AS (
  INSERT INTO audit_events (operator_id, entity_type, entity_id, action, to_state, actor_id, actor_role, request_id, data, created_at)
  SELECT i.operator_id, 'payment', i.id, 'payment.started', 'pending', a.actor_id, :actorRole, a.request_id, a.audit_data, :now
  FROM inserted i JOIN input a ON a.payment_id = i.id
  RETURNING 1
)
SELECT a.purchase_id AS input_purchase_id, t.id AS target_id, ${STARTED_COLUMNS('a.purchase_medium_id')}
FROM input a
LEFT JOIN target t ON t.id = a.purchase_id
LEFT JOIN services s ON s.id = t.service_id
LEFT JOIN products pr ON pr.id = s.product_id
LEFT JOIN live l ON l.purchase_id = t.id
LEFT JOIN inserted i ON i.id = a.payment_id`,
);

/** What a collection reads about its service, purchase, customer, operator and medium (COLLECTION_TARGET, and billing's claim). */
export const TARGET_COLUMNS = `s.id AS service_id, s.customer_id AS service_customer_id, s.collector_id, s.operator_id AS service_operator_id, s.product_id,
  c.name AS customer_name, c.email AS customer_email, c.cell_number AS customer_cell_number, pr.auto_recharge,
  op.default_card_provider, op.payment_links_enabled,
  pu.id AS purchase_id, pu.service_id AS purchase_service_id, pu.customer_id AS purchase_customer_id, pu.status_id AS purchase_status_id,
  pu.purchase_date, pu.small_key, pu.amount_cents AS purchase_amount_cents,
  m.id AS medium_id, m.operator_id AS medium_operator_id, m.customer_id AS medium_customer_id, m.medium_type, m.status AS medium_status,
  m.provider AS medium_provider, mc.provider AS token_provider, mc.sealed_token, mc.agreement_reference`;

/**
 * What a collection needs before it starts, in one round trip: the service (in the actor's scope: its
 * operator, and a customer's own services only), its customer and product, the purchase, the operator's
 * provider for new cards, and the medium with its sealed token (the global "Add new payment method" medium
 * has no operator).
 */
export const COLLECTION_TARGET = statement<'serviceId' | 'purchaseId' | 'operatorId' | 'customerId' | 'mediumId'>(
  'payrail_collection_target_v2',
  `SELECT ${TARGET_COLUMNS}
FROM services s
JOIN customers c ON c.id = s.customer_id
JOIN products pr ON pr.id = s.product_id
JOIN operators op ON op.id = s.operator_id
LEFT JOIN purchases pu ON pu.id = :purchaseId AND pu.operator_id = :operatorId
LEFT JOIN mediums m ON m.id = :mediumId AND (m.operator_id = :operatorId OR m.operator_id IS NULL)
LEFT JOIN medium_credentials mc ON mc.medium_id = m.id
WHERE s.id = :serviceId AND s.operator_id = :operatorId AND (:customerId::uuid IS NULL OR s.customer_id = :customerId::uuid)`,
);
