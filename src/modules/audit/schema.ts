import { bigint, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from '../../db/columns.ts';

/** Every state change, who made it and why, written in the same transaction as the change. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    operatorId: uuid('operator_id').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    action: text('action').notNull(),
    fromState: text('from_state'),
    toState: text('to_state'),
    actorId: text('actor_id'),
    actorRole: text('actor_role'),
    requestId: text('request_id'),
    data: jsonb('data'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [index('audit_events_entity').on(t.entityType, t.entityId, t.id), index('audit_events_operator').on(t.operatorId, t.id)],
);
