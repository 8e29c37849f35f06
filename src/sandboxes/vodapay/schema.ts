import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, smallint, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestamps } from '../../db/columns.ts';
import { sandbox } from '../kit/schema.ts';

/**
 * The VodaPay sandbox's own state, beside the kit's tables (payment pages are kit sessions, charges kit
 * transactions, the tokenised card a kit token, notifications kit notifications): every traceId the merchant
 * used, and the recurring mandate each payment token holds. Never a card number or CVV.
 */

/**
 * One row per traceId per merchant, across Recurring and SubmitRecurring: the unique index is what lets
 * only one of many concurrent repeats (in any number of processes) charge. A row is `processing` while its
 * request is being worked on, `open` while its payment page waits, `done` once it has a result to repeat.
 */
export const vodapayRequests = sandbox.table(
  'vodapay_requests',
  {
    id: text('id').primaryKey(),
    /** The merchant's api-key GUID. */
    merchant: text('merchant').notNull(),
    traceId: text('trace_id').notNull(),
    /** `Recurring` or `SubmitRecurring`. */
    kind: text('kind').notNull(),
    /** The money-defining parameters a repeat must match (amount; paymentToken for a submit). */
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    paymentToken: text('payment_token'),
    status: text('status').notNull(),
    sessionId: text('session_id').notNull(),
    transactionId: text('transaction_id').notNull(),
    /** What a repeat answers: `{ httpStatus, data }` of the original's result, once there is one. */
    result: jsonb('result'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('sandbox_vodapay_requests_trace').on(t.merchant, t.traceId),
    index('sandbox_vodapay_requests_session').on(t.sessionId),
    check('sandbox_vodapay_requests_kind', sql`${t.kind} in ('Recurring', 'SubmitRecurring')`),
    check('sandbox_vodapay_requests_status', sql`${t.status} in ('processing', 'open', 'done')`),
  ],
);

/** The recurring payment mandate behind a payment token (its card: the kit token of the same value). */
export const vodapayMandates = sandbox.table(
  'vodapay_mandates',
  {
    /** 19 digits. */
    paymentToken: text('payment_token').primaryKey(),
    merchant: text('merchant').notNull(),
    customerId: text('customer_id'),
    digitalWalletId: text('digital_wallet_id'),
    /** The initiation that created it. */
    traceId: text('trace_id').notNull(),
    sessionId: text('session_id').notNull(),
    /** 1 fixed period (instalments), 6 ongoing fixed, 11 ongoing variable (merchant scheduled). */
    category: smallint('category').notNull(),
    frequency: smallint('frequency').notNull(),
    regularPaymentDay: smallint('regular_payment_day'),
    /** The recurring amount (each payment); null for a variable mandate without one. */
    amountCents: bigint('amount_cents', { mode: 'number' }),
    amountLimitCents: bigint('amount_limit_cents', { mode: 'number' }),
    firstPaymentDate: text('first_payment_date'),
    lastPaymentDate: text('last_payment_date'),
    numberOfInstallments: integer('number_of_installments'),
    validityMonths: integer('validity_months'),
    status: text('status').notNull().default('active'),
    ...timestamps,
  },
  (t) => [check('sandbox_vodapay_mandates_status', sql`${t.status} in ('active', 'blocked', 'cancelled', 'removed')`)],
);

export type VodapayRequestRow = typeof vodapayRequests.$inferSelect;
export type VodapayMandateRow = typeof vodapayMandates.$inferSelect;
