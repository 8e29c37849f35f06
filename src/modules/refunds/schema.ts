import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, instant, timestamps } from '../../db/columns.ts';
import { operators } from '../operators/schema.ts';
import { payments } from '../payments/schema.ts';
import { purchases } from '../purchases/schema.ts';

/**
 * Money given back for a payment that succeeded (SPEC §12): a vend the vendor declined, a late success on a
 * purchase another payment had paid, or a staff decision. The same exactly-once rules as collections: the
 * record first, then the provider asked once with `refund_reference`; an unknown outcome is asked about
 * (lookupRefund), never sent again blindly. At most one refund per payment is live or done (a database
 * constraint). `manual`: the money came from outside payrail (off-system): someone must give it back by hand.
 */
export const refunds = pgTable(
  'refunds',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    paymentId: uuid('payment_id').notNull().references(() => payments.id),
    purchaseId: uuid('purchase_id').notNull().references(() => purchases.id),
    provider: text('provider').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    /** Why: vend_declined, late_success, requested. */
    reason: text('reason').notNull(),
    comment: text('comment'),
    /** Our id of the refund at the provider, the same for its whole life. */
    refundReference: text('refund_reference').notNull(),
    status: text('status').notNull().default('pending'),
    /** Times the refund was sent to the provider. */
    sends: integer('sends').notNull().default(0),
    providerReference: text('provider_reference'),
    failureCode: text('failure_code'),
    failureMessage: text('failure_message'),
    raw: jsonb('raw'),
    requestedBy: text('requested_by'),
    nextCheckAt: instant('next_check_at'),
    checks: integer('checks').notNull().default(0),
    settledAt: instant('settled_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('refunds_reference').on(t.refundReference),
    // Never twice for one payment: one refund pending, in doubt, done or left to a person at a time.
    uniqueIndex('refunds_one_per_payment').on(t.paymentId).where(sql`${t.status} in ('pending', 'unknown', 'succeeded', 'manual')`),
    index('refunds_operator').on(t.operatorId, t.createdAt),
    index('refunds_due').on(t.nextCheckAt).where(sql`${t.status} in ('pending', 'unknown')`),
    check('refunds_status', sql`${t.status} in ('pending', 'unknown', 'succeeded', 'failed', 'manual')`),
    check('refunds_amount', sql`${t.amountCents} > 0`),
  ],
);
