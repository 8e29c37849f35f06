import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, instant, timestamps } from '../../db/columns.ts';
import { mediums } from '../mediums/schema.ts';
import { operators, purchaseSources } from '../operators/schema.ts';
import { purchases } from '../purchases/schema.ts';
import type { PaymentStatus, Provider } from '../../domain/enums.ts';

/**
 * One collection attempt of a purchase. pending and unknown are states, not guesses: only a definitive
 * provider answer moves an attempt to succeeded or failed, and nothing leaves those.
 */
export const payments = pgTable(
  'payments',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    purchaseId: uuid('purchase_id').notNull().references(() => purchases.id),
    mediumId: uuid('medium_id').references(() => mediums.id),
    provider: text('provider').$type<Provider>().notNull(),
    status: text('status').$type<PaymentStatus>().notNull().default('pending'),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('ZAR'),
    /** Our reference for the attempt, sent to the provider as its transaction id (its idempotency key). */
    merchantReference: text('merchant_reference').notNull().unique(),
    providerReference: text('provider_reference'),
    failureCode: text('failure_code'),
    failureMessage: text('failure_message'),
    purchaseSourceId: uuid('purchase_source_id').references(() => purchaseSources.id),
    comment: text('comment'),
    /** When the janitor should next ask the provider about a pending or unknown attempt. */
    nextCheckAt: instant('next_check_at'),
    checks: integer('checks').notNull().default(0),
    settledAt: instant('settled_at'),
    ...timestamps,
  },
  (t) => [
    index('payments_purchase').on(t.purchaseId, t.createdAt),
    index('payments_unsettled').on(t.nextCheckAt).where(sql`${t.status} in ('pending', 'unknown')`),
    // At most one in-flight or succeeded attempt per purchase: the database, not the code, has the last word.
    uniqueIndex('payments_one_live_per_purchase').on(t.purchaseId).where(sql`${t.status} in ('pending', 'unknown', 'succeeded')`),
    check('payments_status', sql`${t.status} in ('pending', 'succeeded', 'failed', 'unknown')`),
    check('payments_amount', sql`${t.amountCents} > 0`),
    check('payments_settled', sql`(${t.status} in ('succeeded', 'failed')) = (${t.settledAt} is not null)`),
  ],
);
