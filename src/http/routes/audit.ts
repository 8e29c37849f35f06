import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { listAuditEvents } from '../../modules/audit/repo.ts';
import { errorResponses, Nullable, Timestamp, Uuid } from '../schemas/common.ts';
import { principalOf } from '../plugins/authentication.ts';
import { secured, STAFF, type App } from '../route-kit.ts';

const AuditEventSchema = Type.Object({
  id: Type.Integer(),
  entity_type: Type.String(),
  entity_id: Uuid(),
  action: Type.String(),
  from_state: Nullable(Type.String()),
  to_state: Nullable(Type.String()),
  actor_id: Nullable(Type.String()),
  actor_role: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  data: Type.Unknown(),
  created_date: Timestamp(),
});

export function auditRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/audit-events',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Setup'),
        summary: 'The audit trail of an entity (service, purchase, medium, operator …), newest first',
        querystring: Type.Object({
          entityId: Uuid(),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
          cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'next_cursor from the previous page' })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(AuditEventSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 25;
      const rows = await listAuditEvents(ctx.database.db, principalOf(request).operatorId, request.query.entityId, limit, request.query.cursor ? Number(request.query.cursor) : null);
      const items = rows.slice(0, limit);
      return {
        items: items.map((e) => ({
          id: e.id,
          entity_type: e.entityType,
          entity_id: e.entityId,
          action: e.action,
          from_state: e.fromState,
          to_state: e.toState,
          actor_id: e.actorId,
          actor_role: e.actorRole,
          request_id: e.requestId,
          data: e.data,
          created_date: e.createdAt.toISOString(),
        })),
        next_cursor: rows.length > limit ? String(items.at(-1)!.id) : null,
      };
    },
  );
}
