/**
 * The outbox's rule (SPEC §7): an event no enabled endpoint of its operator takes is written dispatched, so
 * the webhook job never claims it and an operator without endpoints pays nothing for events. An endpoint
 * receives the events written after it is created or enabled.
 *
 * Every writer applies the rule in its own INSERT, as this SQL expression over the row being written: the
 * settlement statements, billing runs, enqueue-event, and the reinstatement trigger (migration 0021, in
 * PL/pgSQL). No trigger checks again: that cost a PL/pgSQL call for every event of an operator with
 * endpoints, 8 s in a run that bills a million services.
 */
export const dispatchedIfUnsubscribed = (row: { operatorId: string; type: string }, now: string): string => `CASE WHEN NOT EXISTS (
    SELECT 1 FROM webhook_endpoints ep
    WHERE ep.operator_id = ${row.operatorId} AND ep.enabled AND (jsonb_array_length(ep.event_types) = 0 OR ep.event_types ? ${row.type})
  ) THEN ${now} END`;
