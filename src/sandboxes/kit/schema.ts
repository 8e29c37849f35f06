import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgSchema, smallint, text } from 'drizzle-orm/pg-core';
import { instant, timestamps } from '../../db/columns.ts';

/**
 * The built-in sandboxes keep their state in their own schema, apart from payrail's tables: it is the
 * providers' side of the world, it survives a restart, and payrail's code never reads it (only tests and
 * the ledger endpoints do).
 */
export const sandbox = pgSchema('sandbox');

/** A hosted page a customer is sent to: a Peach checkout, a PayFast payment page, a card-update page. */
export const sandboxSessions = sandbox.table(
  'sessions',
  {
    /** The provider's id of the session (Peach checkoutId, PayFast payment uuid). */
    id: text('id').primaryKey(),
    provider: text('provider').notNull(),
    kind: text('kind').notNull(),
    merchantReference: text('merchant_reference'),
    amountCents: bigint('amount_cents', { mode: 'number' }),
    currency: text('currency').notNull().default('ZAR'),
    /** The fields the merchant sent (URLs, names, flags), as received. */
    params: jsonb('params').notNull(),
    status: text('status').notNull().default('open'),
    /** The transaction the page produced, once the customer submitted it. */
    transactionId: text('transaction_id'),
    expiresAt: instant('expires_at'),
    ...timestamps,
  },
  (t) => [
    index('sandbox_sessions_reference').on(t.provider, t.merchantReference),
    check('sandbox_sessions_status', sql`${t.status} in ('open', 'completed', 'expired', 'cancelled')`),
  ],
);

/**
 * The ledger: every charge a sandbox made or refused. `approved` rows are money taken from a card;
 * tests count them to prove nothing is charged twice.
 */
export const sandboxTransactions = sandbox.table(
  'transactions',
  {
    /** The provider's id of the transaction (Peach payment id, PayFast pf_payment_id). */
    id: text('id').primaryKey(),
    provider: text('provider').notNull(),
    /** The merchant's id of the attempt (merchantTransactionId, m_payment_id). */
    merchantReference: text('merchant_reference'),
    sessionId: text('session_id'),
    token: text('token'),
    /** `hosted` (a page), `token` (a stored card charged by API), `card_update`. */
    kind: text('kind').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('ZAR'),
    status: text('status').notNull(),
    resultCode: text('result_code').notNull(),
    resultDescription: text('result_description').notNull(),
    cardBin: text('card_bin'),
    cardLast4: text('card_last4'),
    /** Extra provider fields worth showing in the ledger (item name, registration id …). */
    details: jsonb('details').notNull().default({}),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('sandbox_transactions_provider').on(t.provider, t.createdAt),
    // Not unique: nothing published says a provider refuses a merchant reference it has seen, so the
    // sandboxes charge a repeated one again, and payrail must never send one twice.
    index('sandbox_transactions_reference').on(t.provider, t.merchantReference),
    // PayFast's query by token finds the token's latest charge.
    index('sandbox_transactions_token').on(t.provider, t.token, t.createdAt),
    check('sandbox_transactions_status', sql`${t.status} in ('approved', 'declined', 'unavailable', 'pending')`),
  ],
);

/** Cards a sandbox has tokenised (Peach registrations, PayFast tokens). Only the test outcome and last digits. */
export const sandboxTokens = sandbox.table(
  'tokens',
  {
    token: text('token').primaryKey(),
    provider: text('provider').notNull(),
    /** Which test card it is (see cards.ts): approve, decline, insufficient_funds, lost_response, unavailable_once. */
    outcome: text('outcome').notNull(),
    cardBin: text('card_bin').notNull(),
    cardLast4: text('card_last4').notNull(),
    expiryMonth: smallint('expiry_month').notNull(),
    expiryYear: smallint('expiry_year').notNull(),
    holder: text('holder').notNull(),
    /** Where the provider tells the merchant about this token (PayFast's notify_url of the first payment). */
    notifyUrl: text('notify_url'),
    status: text('status').notNull().default('active'),
    ...timestamps,
  },
  (t) => [check('sandbox_tokens_status', sql`${t.status} in ('active', 'cancelled')`)],
);

/** Notifications a sandbox sends to the merchant (webhooks, ITNs), with their delivery attempts. */
export const sandboxNotifications = sandbox.table(
  'notifications',
  {
    id: text('id').primaryKey(),
    provider: text('provider').notNull(),
    url: text('url').notNull(),
    contentType: text('content_type').notNull(),
    body: text('body').notNull(),
    headers: jsonb('headers').notNull().default({}),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    deliveredAt: instant('delivered_at'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('sandbox_notifications_provider').on(t.provider, t.createdAt),
    // A provider's confirmation service finds a notice by its body (PayFast's validate): by hash, not by scan.
    index('sandbox_notifications_body').on(t.provider, sql`md5(${t.body})`),
  ],
);

/**
 * How a sandbox misbehaves, per provider: the known quirks of the real provider a test (or a person trying
 * payrail) switches on — a confirmation service answering HTML, a late or duplicate notice. See each
 * sandbox's README for its settings; `GET|PUT /sandbox/<name>/behaviour`.
 */
export const sandboxBehaviours = sandbox.table('behaviours', {
  provider: text('provider').primaryKey(),
  settings: jsonb('settings').notNull().default({}),
  ...timestamps,
});
