import type { Actor } from '../../context.ts';
import type { Executor } from '../../db/client.ts';
import { auditEvents } from './schema.ts';

export interface AuditEntry {
  operatorId: string;
  entityType: 'webhook_endpoint' | 'operator' | 'collector' | 'purchase_source' | 'product' | 'customer' | 'user' | 'service' | 'purchase' | 'medium' | 'payment' | 'billing_run';
  entityId: string;
  action: string;
  fromState?: string | null;
  toState?: string | null;
  data?: Record<string, unknown>;
}

/** The row an audit entry becomes (also for callers that write it in a statement of their own). */
export function auditValues(actor: Actor, e: AuditEntry) {
  return {
    operatorId: e.operatorId,
    entityType: e.entityType,
    entityId: e.entityId,
    action: e.action,
    fromState: e.fromState ?? null,
    toState: e.toState ?? null,
    actorId: actor.id,
    actorRole: actor.role,
    requestId: actor.requestId,
    data: e.data ?? null,
  };
}

/** Write audit entries in the caller's transaction, so a change and its record commit together. */
export async function recordAudit(db: Executor, actor: Actor, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await db.insert(auditEvents).values(list.map((e) => auditValues(actor, e)));
}
