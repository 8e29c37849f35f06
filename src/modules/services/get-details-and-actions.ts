import type { AppContext } from '../../context.ts';
import { buyNowOffer, type BuyNowOffer } from '../../domain/buy-now.ts';
import type { BillingScheme, BillingStatus, ServiceStatus } from '../../domain/enums.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { toDomainPrice, type ProductPriceRow } from '../catalog/repo.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID, type MediumRow } from '../mediums/repo.ts';
import type { PurchaseLineRow, PurchaseRecord } from '../purchases/repo.ts';
import type { ServiceScope } from './repo.ts';

export interface ServiceDetails {
  id: string;
  customerId: string;
  collectorId: string;
  status: ServiceStatus;
  billingStatus: BillingStatus;
  billingScheme: BillingScheme;
  collectionDay: number | null;
  latestPeriodEndDate: string | null;
  suspensionDate: string | null;
  onNetworkDate: string | null;
  planId: string | null;
  mediums: MediumRow[];
  /** The oldest unpaid purchase, or null when nothing is owed. */
  mustPay: PurchaseRecord | null;
  canBuy: BuyNowOffer | null;
  /** PrepaidUtility: tokens for any amount in the product's range, for the service's meter. */
  utilityOffer: UtilityOffer | null;
  meterId: string | null;
  paymentInFlight: boolean;
  /** What this snapshot was read at: see `detailsVersion`. */
  version: string;
}

export interface UtilityOffer {
  meterId: string;
  minCents: number;
  maxCents: number;
  rateBp: number;
}

/**
 * The versions of everything details-and-actions shows: the service (its purchases, lines and plan), its
 * customer (their mediums), its product (prices) and its operator (VAT). Database triggers bump them on
 * every change (migration 0002), so equal versions mean an equal response.
 */
const VERSIONS = `s.version || '.' || c.version || '.' || p.version || '.' || o.version`;
const SCOPE = `s.id = $1::uuid AND s.operator_id = $2::uuid AND ($3::uuid IS NULL OR s.customer_id = $3::uuid)`;
const JOINS = `JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = s.product_id JOIN operators o ON o.id = s.operator_id`;

const VERSION_SQL = `SELECT ${VERSIONS} AS version FROM services s ${JOINS} WHERE ${SCOPE}`;

/**
 * The Pay-Now screen's one call (seed 000, `GET /services/{id}/details-and-actions`): the service, its
 * customer's valid mediums, the oldest unpaid purchase with its lines, the buy-now prices and whether a
 * payment is in flight, in ONE round trip and one snapshot.
 */
const DETAILS_SQL = `
SELECT s.id, s.customer_id, s.collector_id, s.status, s.billing_status, s.collection_day,
       s.latest_period_end_date, s.suspension_date, s.on_network_date, s.meter_id, p.vend_min_cents, p.vend_max_cents,
       p.billing_scheme, pl.id AS plan_id, o.vat_rate_bp, ${VERSIONS} AS version,
       (SELECT coalesce(json_agg(json_build_object(
                 'id', m.id, 'customerId', m.customer_id, 'mediumType', m.medium_type, 'status', m.status,
                 'externalReference', m.external_reference, 'accountName', m.account_name,
                 'accountNumber', m.account_number, 'provider', m.provider, 'mandate', m.mandate, 'createdAt', m.created_at)
               ORDER BY m.customer_id IS NULL, m.created_at, m.id), '[]'::json)
          FROM mediums m
         WHERE m.status = 'Valid' AND (m.customer_id = s.customer_id OR m.id = $4::uuid)) AS mediums,
       (SELECT json_build_object(
                 'id', u.id, 'serviceId', u.service_id, 'purchasePlanId', u.purchase_plan_id, 'mediumId', u.medium_id,
                 'purchaseSourceId', u.purchase_source_id, 'statusId', u.status_id, 'creationEventId', u.creation_event_id,
                 'purchaseDate', u.purchase_date, 'smallKey', u.small_key, 'paymentReference', u.payment_reference,
                 'periodApplied', u.period_applied, 'amountCents', u.amount_cents, 'amountExclCents', u.amount_excl_cents,
                 'taxCents', u.tax_cents, 'customerStatementRef', u.customer_statement_ref, 'comment', u.comment,
                 'lines', (SELECT json_agg(json_build_object(
                             'id', l.id, 'purchaseId', l.purchase_id, 'originalPurchaseLineId', l.original_purchase_line_id,
                             'lineTypeId', l.line_type_id, 'description', l.description, 'quantity', l.quantity,
                             'unitPriceInclNum', l.unit_price_incl_num, 'unitPriceInclDen', l.unit_price_incl_den,
                             'taxRateBp', l.tax_rate_bp, 'totalAmountCents', l.total_amount_cents,
                             'periodContributionPerQuantity', l.period_contribution_per_quantity,
                             'productPriceId', l.product_price_id) ORDER BY l.position)
                             FROM purchase_lines l WHERE l.purchase_id = u.id))
          FROM purchases u
         WHERE u.service_id = s.id AND u.status_id = 3
         ORDER BY u.purchase_date, u.small_key
         LIMIT 1) AS must_pay,
       (SELECT coalesce(json_agg(json_build_object(
                 'id', pp.id, 'description', pp.description, 'lineTypeId', pp.line_type_id,
                 'priceInclCents', pp.price_incl_cents, 'periodContributionPerQuantity', pp.period_contribution_per_quantity,
                 'daysInPeriod', pp.days_in_period, 'onOrder', pp.on_order, 'buyNow', pp.buy_now, 'maxQuantity', pp.max_quantity)
               ORDER BY pp.position, pp.description), '[]'::json)
          FROM product_prices pp
         WHERE pp.product_id = s.product_id AND pp.buy_now AND pp.active) AS buy_prices,
       EXISTS (SELECT 1 FROM purchases q WHERE q.service_id = s.id AND q.status_id = 2) AS payment_in_flight
  FROM services s ${JOINS}
  LEFT JOIN purchase_plans pl ON pl.service_id = s.id
 WHERE ${SCOPE}`;

interface DetailsRow extends Record<string, unknown> {
  id: string;
  customer_id: string;
  collector_id: string;
  status: ServiceStatus;
  billing_status: BillingStatus;
  collection_day: number | null;
  latest_period_end_date: string | null;
  suspension_date: string | null;
  on_network_date: string | null;
  meter_id: string | null;
  vend_min_cents: string | number | null;
  vend_max_cents: string | number | null;
  billing_scheme: BillingScheme;
  plan_id: string | null;
  vat_rate_bp: number;
  version: string;
  mediums: JsonRow[] | string;
  must_pay: (JsonRow & { lines: JsonRow[] }) | string | null;
  buy_prices: JsonRow[] | string;
  payment_in_flight: boolean;
}

type JsonRow = Record<string, unknown>;

/**
 * The current version of a service's details as the caller may see them, in one indexed lookup; null
 * when the service does not exist for this caller.
 */
export async function detailsVersion(ctx: Pick<AppContext, 'database'>, scope: ServiceScope, serviceId: string): Promise<string | null> {
  const [row] = await ctx.database.query<{ version: string }>(VERSION_SQL, [serviceId, scope.operatorId, scope.customerId], 'details_version_v1');
  return row?.version ?? null;
}

export async function getDetailsAndActions(ctx: Pick<AppContext, 'database'>, scope: ServiceScope, serviceId: string): Promise<ServiceDetails> {
  const [row] = await ctx.database.query<DetailsRow>(
    DETAILS_SQL,
    [serviceId, scope.operatorId, scope.customerId, GLOBAL_OPAQUE_MEDIUM_ID],
    'details_and_actions_v4',
  );
  if (!row) throw new NotFoundError('service', serviceId);

  const mustPayJson = json(row.must_pay) as (JsonRow & { lines: JsonRow[] }) | null;
  const mustPay = mustPayJson ? purchaseFromJson(mustPayJson) : null;
  const prices = (json(row.buy_prices) as JsonRow[]).map((p) => toDomainPrice(p as unknown as ProductPriceRow));
  const open = row.status !== 'Cancelled' && mustPay === null;
  return {
    id: row.id,
    customerId: row.customer_id,
    collectorId: row.collector_id,
    status: row.status,
    billingStatus: row.billing_status,
    billingScheme: row.billing_scheme,
    collectionDay: row.collection_day,
    latestPeriodEndDate: row.latest_period_end_date,
    suspensionDate: row.suspension_date,
    onNetworkDate: row.on_network_date,
    planId: row.plan_id,
    mediums: (json(row.mediums) as JsonRow[]).map((m) => ({ ...m, createdAt: new Date(m.createdAt as string) }) as unknown as MediumRow),
    mustPay,
    canBuy: open && row.billing_scheme !== 'PrepaidUtility' ? buyNowOffer(row.billing_scheme, prices, row.vat_rate_bp) : null,
    utilityOffer:
      open && row.billing_scheme === 'PrepaidUtility' && row.meter_id && row.vend_min_cents !== null && row.vend_max_cents !== null
        ? { meterId: row.meter_id, minCents: Number(row.vend_min_cents), maxCents: Number(row.vend_max_cents), rateBp: row.vat_rate_bp }
        : null,
    meterId: row.meter_id,
    paymentInFlight: row.payment_in_flight,
    version: row.version,
  };
}

// node-postgres and PGlite both parse json columns; be tolerant of text all the same.
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

function purchaseFromJson(p: JsonRow & { lines: JsonRow[] }): PurchaseRecord {
  return {
    ...(p as unknown as PurchaseRecord),
    purchaseDate: new Date(p.purchaseDate as string),
    lines: (p.lines ?? []) as unknown as PurchaseLineRow[],
  };
}
