import type { FastifyInstance } from 'fastify';
import { UUID_PATTERN } from './schemas/common.ts';

/**
 * payrail's ids in a path or query string (the fields a route declares as `Uuid()`) reach handlers in
 * payrail's own form (lower case). PostgreSQL matches a uuid written in capitals, so `/services/E14C…` finds
 * its service; without this, that spelling was echoed into what payrail writes from the request (webhook
 * events, messages) while everything read from the database says `e14c…`, and a receiver matching ids would
 * miss the event. Other fields are left as sent: a provider's own references (a sandbox's or a provider
 * return's query) are compared as the provider wrote them.
 */
export function registerCanonicalIds(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    const schema = request.routeOptions.schema as { params?: unknown; querystring?: unknown } | undefined;
    if (!schema) return;
    lowerIds(request.params, idFields(schema.params));
    lowerIds(request.query, idFields(schema.querystring));
  });
}

const fieldsOf = new WeakMap<object, readonly string[]>();

/** The properties of an object schema declared as payrail uuids (`Uuid()`), worked out once a schema. */
function idFields(schema: unknown): readonly string[] {
  if (schema === null || typeof schema !== 'object') return [];
  let fields = fieldsOf.get(schema);
  if (!fields) {
    const properties = (schema as { properties?: Record<string, { pattern?: unknown }> }).properties ?? {};
    fields = Object.entries(properties)
      .filter(([, property]) => property?.pattern === UUID_PATTERN)
      .map(([name]) => name);
    fieldsOf.set(schema, fields);
  }
  return fields;
}

function lowerIds(values: unknown, fields: readonly string[]): void {
  if (fields.length === 0 || values === null || typeof values !== 'object') return;
  const record = values as Record<string, unknown>;
  for (const name of fields) {
    const value = record[name];
    if (typeof value === 'string') record[name] = value.toLowerCase();
  }
}
