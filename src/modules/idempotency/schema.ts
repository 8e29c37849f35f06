import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from '../../db/columns.ts';

/**
 * `Idempotency-Key` records (SPEC §3): the first response to a key is kept for 24 hours and replayed to a
 * retry with the same body. Keys are scoped to the caller, so two clients cannot collide.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    operatorId: uuid('operator_id').notNull(),
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    state: text('state').notNull().default('in_progress'),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    responseContentType: text('response_content_type'),
    lockedAt: instant('locked_at').notNull().defaultNow(),
    createdAt: instant('created_at').notNull().defaultNow(),
    completedAt: instant('completed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.operatorId, t.principal, t.key] }),
    index('idempotency_keys_created').on(t.createdAt),
    check('idempotency_keys_state', sql`${t.state} in ('in_progress', 'completed')`),
  ],
);
