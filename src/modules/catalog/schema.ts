import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, smallint, text, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from '../../db/columns.ts';
import { operators } from '../operators/schema.ts';
import type { BillingScheme, PurchaseLineTypeId } from '../../domain/enums.ts';

/** A product and its billing scheme (SPEC §4): Recurring, DayBundle or HybridDayBundle. */
export const products = pgTable(
  'products',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    name: text('name').notNull(),
    billingScheme: text('billing_scheme').$type<BillingScheme>().notNull(),
    /** Recurring: the day of the month (1–31; clamped to the end of shorter months) services are collected on unless the order says otherwise. */
    defaultCollectionDay: smallint('default_collection_day'),
    /** HybridDayBundle: each fulfilled purchase schedules the next one. */
    autoRecharge: boolean('auto_recharge').notNull().default(false),
    /** How many days before the period ends the auto-recharge purchase is collected. */
    autoRechargeLeadDays: smallint('auto_recharge_lead_days').notNull().default(1),
    /** PrepaidUtility: the least and most one purchase of tokens may be, VAT-inclusive. */
    vendMinCents: bigint('vend_min_cents', { mode: 'number' }),
    vendMaxCents: bigint('vend_max_cents', { mode: 'number' }),
    active: boolean('active').notNull().default(true),
    /** Bumped by triggers whenever anything a read model shows of it changes (see migration 0003). */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    index('products_operator').on(t.operatorId, t.createdAt),
    check('products_billing_scheme_v2', sql`${t.billingScheme} in ('Recurring', 'DayBundle', 'HybridDayBundle', 'PrepaidUtility')`),
    check('products_vend_range', sql`(${t.billingScheme} = 'PrepaidUtility') = (${t.vendMinCents} is not null and ${t.vendMaxCents} is not null) and (${t.vendMinCents} is null or (${t.vendMinCents} > 0 and ${t.vendMaxCents} >= ${t.vendMinCents}))`),
    check('products_collection_day', sql`${t.defaultCollectionDay} between 1 and 31`),
    check('products_auto_recharge', sql`not ${t.autoRecharge} or ${t.billingScheme} = 'HybridDayBundle'`),
    check('products_lead_days', sql`${t.autoRechargeLeadDays} between 0 and 30`),
  ],
);

/**
 * A VAT-inclusive price of a product. `line_type_id` is the purchase line type it produces (1 Day,
 * 2 Monthly, 3 Installation/Once-off).
 */
export const productPrices = pgTable(
  'product_prices',
  {
    id: id(),
    productId: uuid('product_id').notNull().references(() => products.id),
    description: text('description').notNull(),
    lineTypeId: smallint('line_type_id').$type<PurchaseLineTypeId>().notNull(),
    priceInclCents: bigint('price_incl_cents', { mode: 'number' }).notNull(),
    periodContributionPerQuantity: integer('period_contribution_per_quantity').notNull().default(0),
    /** Monthly prices: the days a month counts for, which gives the daily price (R379 / 30). */
    daysInPeriod: smallint('days_in_period'),
    /** Charged on the upfront purchase an order creates. */
    onOrder: boolean('on_order').notNull().default(false),
    /** Offered in can_buy_info. */
    buyNow: boolean('buy_now').notNull().default(false),
    maxQuantity: integer('max_quantity').notNull().default(52),
    position: smallint('position').notNull().default(0),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (t) => [
    index('product_prices_product').on(t.productId),
    check('product_prices_line_type', sql`${t.lineTypeId} in (1, 2, 3)`),
    check('product_prices_amount', sql`${t.priceInclCents} > 0`),
    check('product_prices_monthly_days', sql`${t.lineTypeId} <> 2 or ${t.daysInPeriod} between 28 and 31`),
    check('product_prices_contribution', sql`${t.periodContributionPerQuantity} >= 0`),
    check('product_prices_max_quantity', sql`${t.maxQuantity} between 1 and 1000`),
  ],
);
