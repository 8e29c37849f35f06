import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from '../../db/columns.ts';
import type { Provider } from '../../domain/enums.ts';

/** An operator (tenant): an ISP with its own VAT rate, payment options and default providers. */
export const operators = pgTable(
  'operators',
  {
    id: id(),
    name: text('name').notNull(),
    currency: text('currency').notNull().default('ZAR'),
    vatRateBp: integer('vat_rate_bp').notNull().default(1500),
    paymentLinksEnabled: boolean('payment_links_enabled').notNull().default(false),
    defaultBankProvider: text('default_bank_provider').$type<Provider>().notNull().default('Debitsuccess'),
    defaultCardProvider: text('default_card_provider').$type<Provider>().notNull().default('PeachPayments'),
    graceDays: integer('grace_days').notNull().default(7),
    /** Days after a due date on which a failed collection is tried again (SPEC §10). */
    retryDays: integer('retry_days').array().notNull().default(sql`'{3,7}'::integer[]`),
    /** How many days in a row an auto-recharge is tried before its purchase is Failed. */
    autoRechargeAttempts: integer('auto_recharge_attempts').notNull().default(3),
    /** Bumped by triggers whenever anything a read model shows of it changes (see migration 0003). */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    check('operators_vat_rate_bp', sql`${t.vatRateBp} between 0 and 10000`),
    check('operators_grace_days', sql`${t.graceDays} between 0 and 365`),
    check('operators_retry_days', sql`cardinality(${t.retryDays}) <= 10 and 0 < all(${t.retryDays}) and 365 >= all(${t.retryDays})`),
    check('operators_auto_recharge_attempts', sql`${t.autoRechargeAttempts} between 1 and 10`),
    check('operators_currency', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

/** The legal entity that collects the money for an operator's services. */
export const collectors = pgTable(
  'collectors',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    name: text('name').notNull(),
    ...timestamps,
  },
  (t) => [index('collectors_operator').on(t.operatorId)],
);

/** Where an off-system payment came from (cash, EFT, Yoco, Shop 2 Shop, a payment link). */
export const purchaseSources = pgTable(
  'purchase_sources',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    collectorId: uuid('collector_id').notNull().references(() => collectors.id),
    name: text('name').notNull(),
    offSystem: boolean('off_system').notNull().default(true),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (t) => [unique('purchase_sources_collector_name').on(t.collectorId, t.name), index('purchase_sources_operator').on(t.operatorId)],
);
