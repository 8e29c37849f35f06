import { and, desc, eq, lt } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { auditEvents } from './schema.ts';

export type AuditEventRow = typeof auditEvents.$inferSelect;

/** An entity's history, newest first; `before` is the id to continue below. */
export async function listAuditEvents(db: Executor, operatorId: string, entityId: string, limit: number, before: number | null): Promise<AuditEventRow[]> {
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.operatorId, operatorId), eq(auditEvents.entityId, entityId), before === null ? undefined : lt(auditEvents.id, before)))
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
}
