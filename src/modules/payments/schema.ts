import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgTable, primaryKey, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, instant, timestamps } from '../../db/columns.ts';
import { mediums } from '../mediums/schema.ts';
import { operators, purchaseSources } from '../operators/schema.ts';
import { purchases } from '../purchases/schema.ts';
import type { PaymentStatus, Provider, PurchaseStatusId } from '../../domain/enums.ts';
import type { MandateTerms } from '../../providers/contract.ts';

/** How an attempt collects: a stored token charged now, a hosted page, a payment link, or an off-system allocation. */
export type PaymentKind = 'token' | 'hosted' | 'link' | 'allocation';

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
    kind: text('kind').$type<PaymentKind>().notNull(),
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
    /** The purchase status a failed attempt returns the purchase to (Unpaid, or Quote for buy-now). */
    payableStatusId: smallint('payable_status_id').$type<PurchaseStatusId>().notNull(),
    /** Hosted pages and links: where the customer was sent, and where the browser goes back to. */
    redirectUrl: text('redirect_url'),
    successUrl: text('success_url'),
    failureUrl: text('failure_url'),
    /** Hosted pages: keep the card as a new medium of the customer. */
    tokenise: boolean('tokenise').notNull().default(false),
    /** Hosted pages and links stop accepting payment at this instant; the janitor then settles the attempt. */
    expiresAt: instant('expires_at'),
    /** A hosted page that sets up a card mandate: its terms as sent; the medium it leaves carries them. */
    mandate: jsonb('mandate').$type<MandateTerms>(),
    /** The medium a hosted payment's tokenised card became. */
    createdMediumId: uuid('created_medium_id').references(() => mediums.id),
    /** The provider's last answer, without secrets or card data. */
    raw: jsonb('raw'),
    lastCheckError: text('last_check_error'),
    createdBy: text('created_by'),
    /** When the janitor should next ask the provider about a pending or unknown attempt. */
    nextCheckAt: instant('next_check_at'),
    checks: integer('checks').notNull().default(0),
    settledAt: instant('settled_at'),
    /**
     * A succeeded attempt whose money came back (a debit order returned unpaid, SPEC §11): it stays
     * succeeded — nothing moves it backwards — but no longer pays its purchase (payment_returns says why).
     */
    returnedAt: instant('returned_at'),
    /** A succeeded attempt whose money payrail gave back (refunds says how): it stays succeeded. */
    refundedAt: instant('refunded_at'),
    ...timestamps,
  },
  (t) => [
    index('payments_purchase').on(t.purchaseId, t.createdAt),
    index('payments_unsettled').on(t.nextCheckAt).where(sql`${t.status} in ('pending', 'unknown')`),
    // At most one in-flight or succeeded attempt per purchase (a returned one no longer counts): the
    // database, not the code, has the last word.
    uniqueIndex('payments_one_live_per_purchase_v2').on(t.purchaseId).where(sql`${t.status} in ('pending', 'unknown') or (${t.status} = 'succeeded' and ${t.returnedAt} is null)`),
    check('payments_returned', sql`${t.returnedAt} is null or ${t.status} = 'succeeded'`),
    check('payments_status', sql`${t.status} in ('pending', 'succeeded', 'failed', 'unknown')`),
    index('payments_provider_reference').on(t.provider, t.providerReference),
    check('payments_kind', sql`${t.kind} in ('token', 'hosted', 'link', 'allocation')`),
    check('payments_amount', sql`${t.amountCents} > 0`),
    check('payments_settled', sql`(${t.status} in ('succeeded', 'failed')) = (${t.settledAt} is not null)`),
  ],
);

/**
 * Every callback a provider sent (redirect POSTs, webhooks, ITNs), stored before anything is done with it:
 * raw, with whether it verified. A provider's event id is stored once, so a duplicate is absorbed.
 */
export const providerEvents = pgTable(
  'provider_events',
  {
    id: id(),
    provider: text('provider').$type<Provider>().notNull(),
    /** `redirect`, `webhook`, `itn`, `card_update`. */
    channel: text('channel').notNull(),
    /** `<channel>:<provider's event id>`, set once the callback verified (an unverified id cannot be trusted). */
    eventId: text('event_id'),
    /** Stored before verification (false), then set by processing. */
    verified: boolean('verified').notNull().default(false),
    rejection: text('rejection'),
    merchantReference: text('merchant_reference'),
    paymentId: uuid('payment_id').references(() => payments.id),
    remoteAddress: text('remote_address'),
    headers: jsonb('headers').notNull(),
    /** The body as received, sealed (TokenVault, bound to the row): it carries provider tokens. */
    body: text('body').notNull(),
    occurredAt: instant('occurred_at'),
    receivedAt: instant('received_at').notNull().defaultNow(),
    processedAt: instant('processed_at'),
    outcome: text('outcome'),
    /** Processing runs so far, and when the callbacks job may run it next (a lease, or a retry's backoff). */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: instant('next_attempt_at'),
  },
  (t) => [
    uniqueIndex('provider_events_once').on(t.provider, t.eventId),
    index('provider_events_unprocessed').on(t.receivedAt).where(sql`${t.processedAt} is null`),
    index('provider_events_due').on(t.nextAttemptAt).where(sql`${t.processedAt} is null`),
    index('provider_events_payment').on(t.paymentId),
  ],
);

/**
 * The next instant payrail may call a provider's rate-limited API (Peach allows two look-ups a minute):
 * one row per provider and scope, claimed in one statement, so every process spaces its calls together.
 */
export const providerCallSlots = pgTable(
  'provider_call_slots',
  {
    provider: text('provider').notNull(),
    scope: text('scope').notNull(),
    nextAt: instant('next_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.scope] })],
);

/**
 * A success a provider reported for an attempt payrail had already failed (its deadline passed, or a new
 * attempt superseded its page), or for a purchase another attempt had already paid. The money was taken,
 * so it is never dropped: it pays the purchase if the purchase is still owed (`paid_purchase`), otherwise it
 * is listed for a refund (`refund_due`). One per attempt. The attempt itself stays failed.
 */
export const lateSuccesses = pgTable(
  'late_successes',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    paymentId: uuid('payment_id').notNull().references(() => payments.id).unique(),
    purchaseId: uuid('purchase_id').notNull().references(() => purchases.id),
    provider: text('provider').$type<Provider>().notNull(),
    providerReference: text('provider_reference'),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('ZAR'),
    disposition: text('disposition').$type<'paid_purchase' | 'refund_due'>().notNull(),
    /** Why it came late: the attempt's failure, or the purchase's state. */
    reason: text('reason').notNull(),
    ...timestamps,
  },
  (t) => [index('late_successes_refunds').on(t.operatorId, t.createdAt).where(sql`${t.disposition} = 'refund_due'`), check('late_successes_disposition', sql`${t.disposition} in ('paid_purchase', 'refund_due')`)],
);

/**
 * A payment reported unpaid after it succeeded (SPEC §11: a debit order returned by the bank): one per
 * attempt. The attempt stays succeeded; its purchase is owed again and its service in arrears.
 */
export const paymentReturns = pgTable(
  'payment_returns',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    paymentId: uuid('payment_id').notNull().references(() => payments.id).unique(),
    purchaseId: uuid('purchase_id').notNull().references(() => purchases.id),
    provider: text('provider').$type<Provider>().notNull(),
    providerReference: text('provider_reference'),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('ZAR'),
    /** The provider's status and reason ("Failed", "Returned unpaid: disputed by the account holder"). */
    reasonCode: text('reason_code').notNull(),
    reason: text('reason').notNull(),
    /** When the provider says the money came back. */
    returnedAt: instant('returned_at'),
    /** How payrail learned it: `callback` (a verified notice) or `feed` (the provider's status list). */
    via: text('via').notNull(),
    ...timestamps,
  },
  (t) => [index('payment_returns_purchase').on(t.purchaseId), index('payment_returns_operator').on(t.operatorId, t.createdAt)],
);

/**
 * Where payrail has read a provider's feed of payment results up to (Debitsuccess's payment statuses), and
 * when it reads on: one row per provider, claimed with FOR UPDATE SKIP LOCKED, so one process reads it at a time.
 */
export const providerFeeds = pgTable('provider_feeds', {
  provider: text('provider').$type<Provider>().primaryKey(),
  /** The connector's own bookmark (opaque here). */
  position: text('position'),
  nextReadAt: instant('next_read_at').notNull(),
  lastReadAt: instant('last_read_at'),
  lastError: text('last_error'),
  /**
   * The feed is read while attempts of the provider are in flight, and until this instant after the last
   * read that saw one (the connector's `feedWatchMs`: how long news of a settled attempt, a return, may come).
   */
  watchUntil: instant('watch_until'),
  entriesApplied: bigint('entries_applied', { mode: 'number' }).notNull().default(0),
  ...timestamps,
});
