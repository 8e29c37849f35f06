import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, smallint, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { instant, timestamps } from '../../db/columns.ts';
import { sandbox } from '../kit/schema.ts';

/**
 * The Debitsuccess sandbox's own state, beside the kit's tables (payment tokens are kit sessions, payments
 * kit transactions, webhooks kit notifications): the customer accounts Debitsuccess works against, debit
 * orders with their status history, and the bank day. Never a whole card or bank account number.
 */

/** A Debitsuccess customer account (AccountReferenceNo), with the payment detail stored on it. */
export const debitsuccessAccounts = sandbox.table(
  'debitsuccess_accounts',
  {
    accountReferenceNo: text('account_reference_no').primaryKey(),
    externalAccountReferenceNo: text('external_account_reference_no'),
    status: text('status').notNull().default('Active'),
    /** `standard`, `fixed_term` (an amount may not exceed the balance: 14045), `add_on` (14107). */
    kind: text('kind').notNull().default('standard'),
    /** What the customer owes (negative: in credit). */
    balanceCents: bigint('balance_cents', { mode: 'number' }).notNull().default(0),
    /** The stored payment detail: its type, Debitsuccess's token for it, and its last digits only. */
    payMethodType: text('pay_method_type'),
    payMethodToken: text('pay_method_token'),
    payMethodLast4: text('pay_method_last4'),
    /** Holder, bank, branch code, account type (bank account); holder and expiry (card). */
    payMethodDetails: jsonb('pay_method_details').notNull().default({}),
    /** Which sandbox bank account it is: what its debit orders do (`clears`, `fails`, `returns`). */
    bankOutcome: text('bank_outcome'),
    ...timestamps,
  },
  (t) => [
    index('sandbox_debitsuccess_accounts_external').on(t.externalAccountReferenceNo),
    check('sandbox_debitsuccess_accounts_status', sql`${t.status} in ('Active', 'Inactive')`),
    check('sandbox_debitsuccess_accounts_kind', sql`${t.kind} in ('standard', 'fixed_term', 'add_on')`),
  ],
);

/** A one-off debit order against an account's bank account; its ledger row (kit transactions) has the same id. */
export const debitsuccessDebitOrders = sandbox.table(
  'debitsuccess_debit_orders',
  {
    id: text('id').primaryKey(),
    externalPaymentIdentifier: text('external_payment_identifier').notNull(),
    accountReferenceNo: text('account_reference_no').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    outcome: text('outcome').notNull(),
    status: text('status').notNull(),
    returned: boolean('returned').notNull().default(false),
    submittedBankDay: integer('submitted_bank_day').notNull(),
    /** The bank day its next status change is due on; null once it has no more to come. */
    nextBankDay: integer('next_bank_day'),
    ...timestamps,
  },
  (t) => [
    // A reused ExternalPaymentIdentifier is refused (409), whatever became of the first payment.
    uniqueIndex('sandbox_debitsuccess_debit_orders_external').on(t.externalPaymentIdentifier),
    index('sandbox_debitsuccess_debit_orders_due').on(t.nextBankDay),
  ],
);

/** Every status a debit order took, in order: what `GET …/paymentStatuses` pages through. */
export const debitsuccessPaymentStatuses = sandbox.table(
  'debitsuccess_payment_statuses',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    paymentId: text('payment_id').notNull(),
    status: text('status').notNull(),
    reason: text('reason'),
    /** A Failed after Cleared/Settled: the bank returned the debit order unpaid. */
    returned: boolean('returned').notNull().default(false),
    bankDay: integer('bank_day').notNull(),
    occurredAt: instant('occurred_at').notNull(),
  },
  (t) => [index('sandbox_debitsuccess_payment_statuses_at').on(t.occurredAt)],
);

/** One row: the bank day, and whether the facility's webhook is on. */
export const debitsuccessState = sandbox.table('debitsuccess_state', {
  id: smallint('id').primaryKey(),
  bankDay: integer('bank_day').notNull().default(0),
  bankDayAt: instant('bank_day_at').notNull(),
  /** Set after a webhook's fourth failed delivery; null while the webhook is on. */
  webhookDisabledAt: instant('webhook_disabled_at'),
  /** Notices stored before this instant are never delivered (they were abandoned when the webhook was disabled). */
  webhookEnabledAt: instant('webhook_enabled_at'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});
