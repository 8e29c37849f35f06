import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, smallint, text } from 'drizzle-orm/pg-core';
import { timestamps } from '../../db/columns.ts';
import { sandbox } from '../kit/schema.ts';

/**
 * The prepaid-utility vendor sandbox's own state, beside the kit's tables (vends and reprints are kit
 * transactions): every message id the merchant used, with the answer a repeat or `/retry` gets back.
 */

/**
 * One row per message id (the vendor's ids are UUIDv4 and unique across message types). The primary key is
 * what lets only one of many concurrent requests with one purchase id issue a token: the row, its tokens and
 * its ledger row are written in one transaction, and a request that loses the race reads the winner's answer.
 */
export const vendorMessages = sandbox.table(
  'vendor_messages',
  {
    id: text('id').primaryKey(),
    /** `purchase`, `trial`, `lookup`, `reprint`, `confirmation`, `reversal`. */
    kind: text('kind').notNull(),
    /** An advice's purchase id; a reprint's purchase (the one it reprinted). */
    requestId: text('request_id'),
    meterId: text('meter_id'),
    amountCents: bigint('amount_cents', { mode: 'number' }),
    /** A reversal's reason (TIMEOUT, CANCELLED, RESPONSE_NOT_FINAL). */
    reason: text('reason'),
    /** The HTTP status of the answer and its body, repeated to a `/retry`. A vend's body holds its tokens:
     * the vendor keeps them to reprint (sandbox data, never logged, never in the ledger). */
    httpStatus: smallint('http_status'),
    response: jsonb('response'),
    /** How many times this message arrived (an advice resent by store-and-forward counts up). */
    received: integer('received').notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index('sandbox_vendor_messages_request').on(t.requestId),
    index('sandbox_vendor_messages_meter').on(t.meterId, t.createdAt),
    check('sandbox_vendor_messages_kind', sql`${t.kind} in ('purchase', 'trial', 'lookup', 'reprint', 'confirmation', 'reversal')`),
  ],
);

export type VendorMessageRow = typeof vendorMessages.$inferSelect;
