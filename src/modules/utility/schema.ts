import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, instant, timestamps } from '../../db/columns.ts';
import { operators } from '../operators/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { services } from '../services/schema.ts';

/**
 * Vending a paid utility purchase (SPEC §12): one row per purchase, made by the database in the statement
 * that pays it (a trigger, migration 0018), so a paid purchase can never miss its vend and never get two.
 * `request_id` is the vendor's purchase id for the vend's whole life: every retry repeats it.
 */
export const vends = pgTable(
  'vends',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    purchaseId: uuid('purchase_id').notNull().references(() => purchases.id),
    serviceId: uuid('service_id').notNull().references(() => services.id),
    /** The vendor it is bought from (its connector's id), set when it is first sent. */
    vendor: text('vendor'),
    meterId: text('meter_id').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    /** The vendor's purchase id (UUIDv4), reused verbatim on every retry and in the advices. */
    requestId: uuid('request_id').notNull(),
    /** pending: not sent yet; sent: sent (or being sent), answer not stored; unknown: no final answer, retried; succeeded; failed. */
    status: text('status').notNull().default('pending'),
    /** Times the purchase was sent (the first, then retries): more than zero means the next send is a retry. */
    sends: integer('sends').notNull().default(0),
    /** When the vend job next sends or resends it; null: at once. */
    nextAttemptAt: instant('next_attempt_at'),
    /** The tokens, sealed (TokenVault, bound to this row): never in the clear at rest. */
    sealedTokens: text('sealed_tokens'),
    /** What may be shown without the token digits: units, receipt numbers, token types. */
    summary: jsonb('summary'),
    failureCode: text('failure_code'),
    failureMessage: text('failure_message'),
    /** The vendor's last answer without token digits. */
    raw: jsonb('raw'),
    settledAt: instant('settled_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('vends_purchase').on(t.purchaseId),
    uniqueIndex('vends_request').on(t.requestId),
    index('vends_due').on(t.nextAttemptAt).where(sql`${t.status} in ('pending', 'sent', 'unknown')`),
    check('vends_status', sql`${t.status} in ('pending', 'sent', 'unknown', 'succeeded', 'failed')`),
    check('vends_settled', sql`(${t.status} in ('succeeded', 'failed')) = (${t.settledAt} is not null)`),
  ],
);

/**
 * Advices to the vendor (confirmations of a vend's tokens, reversals), store-and-forward: written with what
 * they advise, then sent until a final answer (2xx, 4xx, 501), resent on 500, 504 and no answer.
 */
export const vendAdvices = pgTable(
  'vend_advices',
  {
    /** The advice's own id (UUIDv4), the same on every resend. */
    id: id(),
    vendId: uuid('vend_id').notNull().references(() => vends.id),
    kind: text('kind').notNull(),
    reason: text('reason'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: instant('next_attempt_at'),
    lastError: text('last_error'),
    deliveredAt: instant('delivered_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('vend_advices_one_per_kind').on(t.vendId, t.kind),
    index('vend_advices_due').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    check('vend_advices_kind', sql`${t.kind} in ('confirmation', 'reversal')`),
    check('vend_advices_status', sql`${t.status} in ('pending', 'delivered', 'refused')`),
  ],
);
