import { sql } from 'drizzle-orm';
import { bigint, boolean, check, date, index, integer, pgTable, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, instant, timestamps } from '../../db/columns.ts';
import { productPrices } from '../catalog/schema.ts';
import { customers } from '../customers/schema.ts';
import { mediums } from '../mediums/schema.ts';
import { operators, purchaseSources } from '../operators/schema.ts';
import { purchasePlans, services } from '../services/schema.ts';
import type { PurchaseCreationEventId, PurchaseLineTypeId, PurchaseStatusId } from '../../domain/enums.ts';

/**
 * Something a customer owes or has bought. Totals are integer cents computed by the domain's VAT rules
 * when the purchase is created, and never change afterwards.
 */
export const purchases = pgTable(
  'purchases',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    customerId: uuid('customer_id').notNull().references(() => customers.id),
    serviceId: uuid('service_id').notNull().references(() => services.id),
    purchasePlanId: uuid('purchase_plan_id').references(() => purchasePlans.id),
    mediumId: uuid('medium_id').references(() => mediums.id),
    purchaseSourceId: uuid('purchase_source_id').references(() => purchaseSources.id),
    statusId: smallint('status_id').$type<PurchaseStatusId>().notNull(),
    creationEventId: smallint('creation_event_id').$type<PurchaseCreationEventId>().notNull(),
    purchaseDate: instant('purchase_date').notNull(),
    /** Human-friendly number for statements and support calls. */
    smallKey: bigint('small_key', { mode: 'number' }).notNull().unique().generatedByDefaultAsIdentity({ startWith: 2_100_000 }),
    paymentReference: text('payment_reference'),
    periodApplied: boolean('period_applied').notNull().default(false),
    currency: text('currency').notNull().default('ZAR'),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    amountExclCents: bigint('amount_excl_cents', { mode: 'number' }).notNull(),
    taxCents: bigint('tax_cents', { mode: 'number' }).notNull(),
    customerStatementRef: text('customer_statement_ref'),
    comment: text('comment'),
    paidAt: instant('paid_at'),
    /** A monthly purchase of recurring billing: the period it pays for, from its collection date up to the next. */
    periodStart: date('period_start', { mode: 'string' }),
    periodEnd: date('period_end', { mode: 'string' }),
    ...timestamps,
  },
  (t) => [
    index('purchases_service_status').on(t.serviceId, t.statusId, t.purchaseDate),
    index('purchases_service_created').on(t.serviceId, t.createdAt),
    index('purchases_customer').on(t.customerId),
    // Staff lists of the operator's purchases (GET /purchases without a service), newest first.
    index('purchases_operator_created').on(t.operatorId, t.createdAt),
    check('purchases_status', sql`${t.statusId} between 1 and 8`),
    check('purchases_creation_event', sql`${t.creationEventId} between 1 and 7`),
    check('purchases_totals', sql`${t.amountCents} = ${t.amountExclCents} + ${t.taxCents} and ${t.amountCents} >= 0`),
    // Paid has its instant; a purchase paid and then cancelled because it could not be delivered (a declined
    // vend, refunded) keeps it; no other status has one.
    check('purchases_paid_at_v2', sql`(${t.statusId} = 4 and ${t.paidAt} is not null) or (${t.statusId} <> 4 and (${t.paidAt} is null or ${t.statusId} = 7))`),
    check('purchases_period', sql`(${t.periodStart} is null) = (${t.periodEnd} is null) and ${t.periodStart} < ${t.periodEnd}`),
    // One monthly purchase per service and period, however many runs, processes or retries.
    uniqueIndex('purchases_billing_period').on(t.serviceId, t.periodStart).where(sql`${t.creationEventId} = 2`),
    // The monthly purchases still unpaid, by period: a run's retries read those whose period began at least
    // the first retry day ago, not every unpaid one (on a collection day, a million made that morning).
    index('purchases_monthly_unpaid').on(t.operatorId, t.periodStart).where(sql`${t.creationEventId} = 2 and ${t.statusId} = 3`),
  ],
);

/**
 * One line of a purchase. The unit price is kept as an exact fraction of cents (a monthly price per day
 * is R379/30); the API's amount_per_quantity, net_amount_excl and tax_amount are derived from it.
 */
export const purchaseLines = pgTable(
  'purchase_lines',
  {
    id: id(),
    purchaseId: uuid('purchase_id').notNull().references(() => purchases.id),
    originalPurchaseLineId: uuid('original_purchase_line_id'),
    position: smallint('position').notNull(),
    lineTypeId: smallint('line_type_id').$type<PurchaseLineTypeId>().notNull(),
    description: text('description').notNull(),
    quantity: integer('quantity').notNull(),
    unitPriceInclNum: bigint('unit_price_incl_num', { mode: 'number' }).notNull(),
    unitPriceInclDen: bigint('unit_price_incl_den', { mode: 'number' }).notNull().default(1),
    taxRateBp: integer('tax_rate_bp').notNull(),
    totalAmountCents: bigint('total_amount_cents', { mode: 'number' }).notNull(),
    periodContributionPerQuantity: integer('period_contribution_per_quantity').notNull(),
    productPriceId: uuid('product_price_id').references(() => productPrices.id),
  },
  (t) => [
    index('purchase_lines_purchase').on(t.purchaseId, t.position),
    check('purchase_lines_type', sql`${t.lineTypeId} in (1, 2, 3)`),
    check('purchase_lines_quantity', sql`${t.quantity} > 0`),
    check('purchase_lines_price', sql`${t.unitPriceInclNum} >= 0 and ${t.unitPriceInclDen} > 0`),
    check('purchase_lines_total', sql`${t.totalAmountCents} >= 0`),
  ],
);
