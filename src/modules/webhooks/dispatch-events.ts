import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { outboxEvents, webhookDeliveries, webhookEndpoints } from './schema.ts';

/**
 * Fan undispatched outbox events out to the endpoints subscribed to them: one delivery per (event,
 * endpoint), enabled endpoints of the event's operator whose `event_types` is empty or names the type.
 * Claims events with `FOR UPDATE SKIP LOCKED` in one short transaction, so workers never take the same
 * event; the unique (event_id, endpoint_id) makes a repeat harmless. Returns how many events it handled.
 */
export async function dispatchEvents(ctx: Pick<AppContext, 'database'>, options: { now: Date; limit?: number }): Promise<number> {
  const { now, limit = 100 } = options;
  return ctx.database.db.transaction(async (tx) => {
    const events = await tx
      .select({ id: outboxEvents.id, operatorId: outboxEvents.operatorId, type: outboxEvents.type })
      .from(outboxEvents)
      .where(isNull(outboxEvents.dispatchedAt))
      .orderBy(asc(outboxEvents.createdAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (events.length === 0) return 0;

    const operatorIds = [...new Set(events.map((e) => e.operatorId))];
    const endpoints = await tx
      .select({ id: webhookEndpoints.id, operatorId: webhookEndpoints.operatorId, eventTypes: webhookEndpoints.eventTypes })
      .from(webhookEndpoints)
      .where(and(inArray(webhookEndpoints.operatorId, operatorIds), eq(webhookEndpoints.enabled, true)));

    const deliveries = events.flatMap((event) =>
      endpoints
        .filter((ep) => ep.operatorId === event.operatorId && (ep.eventTypes.length === 0 || ep.eventTypes.includes(event.type)))
        .map((ep) => ({ id: randomUUID(), operatorId: event.operatorId, eventId: event.id, endpointId: ep.id, nextAttemptAt: now, createdAt: now, updatedAt: now })),
    );
    if (deliveries.length > 0) await tx.insert(webhookDeliveries).values(deliveries).onConflictDoNothing();
    await tx
      .update(outboxEvents)
      .set({ dispatchedAt: now })
      .where(inArray(outboxEvents.id, events.map((e) => e.id)));
    return events.length;
  });
}
