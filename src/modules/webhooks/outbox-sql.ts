/**
 * The outbox's rule (SPEC §7): the outbox holds what is to be delivered, so an event is written only when
 * an enabled endpoint of its operator takes its type. An operator without endpoints pays nothing for
 * events, and an endpoint receives the events written after it is created or enabled.
 *
 * Every writer applies the rule in its own INSERT, as this SQL condition over the row being written: the
 * settlement statements, billing runs, enqueue-event, and the reinstatement trigger (migration 0023, in
 * PL/pgSQL). Written only for an endpoint, an event's row is there to be dispatched: no trigger checks
 * again (that cost a PL/pgSQL call for every event, 8 s in a run that bills a million services), and an
 * event nobody takes costs no row (a sixth of that run, when they were written dispatched).
 *
 * With `operatorId` a constant (a statement's parameter) the condition is one look for the whole
 * statement; over a column, one index look a row.
 */
export const takenByAnEndpoint = (row: { operatorId: string; type: string }): string => `EXISTS (
    SELECT 1 FROM webhook_endpoints ep
    WHERE ep.operator_id = ${row.operatorId} AND ep.enabled AND (jsonb_array_length(ep.event_types) = 0 OR ep.event_types ? ${row.type})
  )`;
