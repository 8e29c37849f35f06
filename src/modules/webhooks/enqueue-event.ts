import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { EventType } from './event-types.ts';
import { takenByAnEndpoint } from './outbox-sql.ts';

export interface OutboxEvent {
  operatorId: string;
  type: EventType;
  /** The resource as the API shows it (snake_case JSON); no secrets, no card numbers. */
  data: Record<string, unknown>;
}

/** What a receiver gets, byte for byte as signed: `{ id, type, created_at, data }`. */
export interface EventPayload {
  id: string;
  type: EventType;
  created_at: string;
  data: Record<string, unknown>;
}

/**
 * Write an event to the outbox in the caller's transaction (SPEC §7), if an enabled endpoint of its
 * operator takes its type (the outbox's rule, outbox-sql.ts). Call it inside the transaction that makes
 * the change the event reports: the event then commits with the change or not at all, and the webhook
 * jobs deliver it afterwards. Returns the event id (receivers see it as `payrail-event-id`), or null when
 * no endpoint takes it.
 */
export async function enqueueEvent(tx: Executor, event: OutboxEvent, now: Date): Promise<string | null> {
  const [id] = await enqueueEvents(tx, [event], now);
  return id ?? null;
}

/** An outbox row for an event, for callers that write it in a statement of their own (settle-payment). */
export function outboxRow(event: OutboxEvent, now: Date): { id: string; operator_id: string; type: EventType; payload: EventPayload } {
  const id = randomUUID();
  return { id, operator_id: event.operatorId, type: event.type, payload: { id, type: event.type, created_at: now.toISOString(), data: event.data } };
}

/** Several events of one change, in one statement (same rules as enqueueEvent): the ids of those written. */
export async function enqueueEvents(tx: Executor, events: readonly OutboxEvent[], now: Date): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map((event) => ({ ...outboxRow(event, now), created_at: now.toISOString() }));
  const result = await tx.execute(sql`INSERT INTO outbox_events (id, operator_id, type, payload, created_at)
    SELECT e.id, e.operator_id, e.type, e.payload, e.created_at
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS e(id uuid, operator_id uuid, type text, payload jsonb, created_at timestamptz)
    WHERE ${sql.raw(takenByAnEndpoint({ operatorId: 'e.operator_id', type: 'e.type' }))}
    RETURNING id`);
  // node-postgres answers { rows }, PGlite's driver the rows themselves.
  const written = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { id: string }[];
  const ids = new Set(written.map((r) => r.id));
  return rows.filter((r) => ids.has(r.id)).map((r) => r.id);
}

/**
 * The body sent for an event. Built with a fixed key order (jsonb keeps its own), so every attempt of a
 * delivery sends the same bytes.
 */
export function payloadBody(payload: unknown): string {
  const p = payload as EventPayload;
  return JSON.stringify({ id: p.id, type: p.type, created_at: p.created_at, data: p.data });
}
