import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, instant, timestamps } from '../../db/columns.ts';
import { operators } from '../operators/schema.ts';

/**
 * The outbox (SPEC §7): an event is written in the same transaction as the state change it reports, so
 * a committed change always has its event and a rolled-back one never does. A dispatcher fans each event
 * out to the operator's endpoints as deliveries.
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    /** `purchase.paid`, `payment.failed`, … */
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** When deliveries were created for every endpoint subscribed at that moment. */
    dispatchedAt: instant('dispatched_at'),
  },
  (t) => [index('outbox_events_undispatched').on(t.createdAt).where(sql`${t.dispatchedAt} is null`), index('outbox_events_operator').on(t.operatorId, t.createdAt)],
);

/** An operator's webhook receiver. Its signing secret is sealed; it is shown once, when created. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types it receives; empty means all. */
    eventTypes: jsonb('event_types').$type<string[]>().notNull().default([]),
    enabled: boolean('enabled').notNull().default(true),
    sealedSecret: text('sealed_secret').notNull(),
    ...timestamps,
  },
  (t) => [index('webhook_endpoints_operator').on(t.operatorId, t.createdAt)],
);

/** One event to one endpoint, retried with exponential backoff until it is answered 2xx or given up. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    eventId: uuid('event_id').notNull().references(() => outboxEvents.id),
    endpointId: uuid('endpoint_id').notNull().references(() => webhookEndpoints.id),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When it is next due; also the lease of a worker that claimed it (a crash makes it due again). */
    nextAttemptAt: instant('next_attempt_at').notNull().defaultNow(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    deliveredAt: instant('delivered_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('webhook_deliveries_once').on(t.eventId, t.endpointId),
    index('webhook_deliveries_due').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_endpoint').on(t.endpointId, t.createdAt),
    check('webhook_deliveries_status', sql`${t.status} in ('pending', 'delivered', 'failed')`),
  ],
);

/** The delivery log: every attempt, with what the receiver answered. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: id(),
    deliveryId: uuid('delivery_id').notNull().references(() => webhookDeliveries.id),
    attempt: integer('attempt').notNull(),
    startedAt: instant('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    /** The first bytes of the receiver's answer, for support. */
    responseExcerpt: text('response_excerpt'),
  },
  (t) => [uniqueIndex('webhook_attempts_once').on(t.deliveryId, t.attempt)],
);
