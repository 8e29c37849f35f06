import type { FastifyInstance } from 'fastify';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids in a path or query string reach handlers in payrail's own form (lower case). PostgreSQL matches a
 * uuid written in capitals, so `/services/E14C…` finds its service; without this, that spelling was echoed
 * into what payrail writes from the request (webhook events, messages) while everything read from the
 * database says `e14c…`, and a receiver matching ids would miss the event.
 */
export function registerCanonicalIds(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    lowerUuids(request.params);
    lowerUuids(request.query);
  });
}

function lowerUuids(values: unknown): void {
  if (values === null || typeof values !== 'object') return;
  const record = values as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string' && UUID.test(value)) record[key] = value.toLowerCase();
  }
}
