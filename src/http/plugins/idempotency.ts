import type { TokenVault } from '../../lib/token-vault.ts';
import { createHash } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../db/client.ts';
import { ConflictError, UnprocessableError, ValidationError } from '../../lib/errors.ts';
import { idempotencyKeys } from '../../modules/idempotency/schema.ts';

/**
 * `Idempotency-Key` on every POST (SPEC §3), the way Stripe does it:
 * - the first request with a key runs and its response (any status below 500) is kept for 24 hours;
 * - the same key with the same method, path and body replays that response (`Idempotent-Replayed: true`);
 * - the same key with a different request is 422; a duplicate while the first is still running is 409;
 * - a 5xx response is not kept, so the request can be retried with the same key.
 * A request interrupted by a crash keeps answering 409 (`idempotency.interrupted`) rather than running
 * twice: the caller checks what happened and uses a new key.
 */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a first request may run before a duplicate hears "interrupted" instead of "in progress". */
const IN_PROGRESS_WINDOW_MS = 5 * 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The response carries a secret shown once: a replay still returns it, but it is stored sealed. */
    sensitiveResponse?: boolean;
  }
  interface FastifyRequest {
    idempotency: { operatorId: string; principal: string; key: string } | null;
  }
}

/** Where a sealed stored response is bound to: its key (a sealed body copied to another key will not open). */
const sealContext = (scope: { operatorId: string; principal: string; key: string }) => `idempotency:${scope.operatorId}:${scope.principal}:${scope.key}`;
const SEALED = 'sealed:';

export function registerIdempotency(app: FastifyInstance, database: Database, clock: () => Date, vault: TokenVault): void {
  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST' || !request.principal) return;
    const raw = request.headers['idempotency-key'];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (key === undefined || !KEY_PATTERN.test(key)) {
      throw new ValidationError('Idempotency-Key must be 1–255 visible ASCII characters.', [
        { name: 'headers.idempotency-key', reason: 'must be 1–255 visible ASCII characters' },
      ]);
    }
    const scope = { operatorId: request.principal.operatorId, principal: request.principal.sub, key };
    const requestHash = hashRequest(request);
    const path = request.url.split('?')[0] ?? '/';
    const where = and(
      eq(idempotencyKeys.operatorId, scope.operatorId),
      eq(idempotencyKeys.principal, scope.principal),
      eq(idempotencyKeys.key, key),
    );
    const { db } = database;

    // A key older than its 24 hours is forgotten, so it can be used again.
    await db.delete(idempotencyKeys).where(and(where, lt(idempotencyKeys.createdAt, new Date(clock().getTime() - KEY_TTL_MS))));
    const claimed = await db
      .insert(idempotencyKeys)
      .values({ ...scope, requestHash, method: request.method, path, createdAt: clock(), lockedAt: clock() })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (claimed.length === 1) {
      request.idempotency = scope;
      return;
    }

    const [existing] = await db.select().from(idempotencyKeys).where(where);
    if (!existing) throw new ConflictError('idempotency.in_progress', 'A request with this Idempotency-Key is being processed; retry shortly.');
    if (existing.requestHash !== requestHash) {
      throw new UnprocessableError(
        'idempotency.key_reused',
        'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
      );
    }
    if (existing.state === 'completed' && existing.responseStatus !== null) {
      reply.header('idempotent-replayed', 'true');
      reply.status(existing.responseStatus).type(existing.responseContentType ?? 'application/json; charset=utf-8');
      const body = existing.responseBody ?? '';
      return reply.send(body.startsWith(SEALED) ? vault.open(body.slice(SEALED.length), sealContext(scope)) : body);
    }
    const running = clock().getTime() - existing.lockedAt.getTime() < IN_PROGRESS_WINDOW_MS;
    throw new ConflictError(
      running ? 'idempotency.in_progress' : 'idempotency.interrupted',
      running
        ? 'A request with this Idempotency-Key is being processed; retry shortly.'
        : 'The first request with this Idempotency-Key was interrupted and its outcome was not recorded. Check the resource, then use a new key.',
    );
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const scope = request.idempotency;
    if (!scope) return payload;
    request.idempotency = null;
    const where = and(
      eq(idempotencyKeys.operatorId, scope.operatorId),
      eq(idempotencyKeys.principal, scope.principal),
      eq(idempotencyKeys.key, scope.key),
    );
    try {
      if (reply.statusCode >= 500 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) {
        await database.db.delete(idempotencyKeys).where(where);
      } else {
        await database.db
          .update(idempotencyKeys)
          .set({
            state: 'completed',
            responseStatus: reply.statusCode,
            // Responses that carry a secret (a webhook signing secret) are kept sealed, like provider tokens.
            responseBody: request.routeOptions.config?.sensitiveResponse ? SEALED + vault.seal(payload.toString(), sealContext(scope)) : payload.toString(),
            responseContentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
            completedAt: sql`now()`,
          })
          .where(where);
      }
    } catch (err) {
      request.log.error({ err }, 'could not record the idempotent response');
    }
    return payload;
  });
}

function hashRequest(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(canonicalJson(request.body ?? null))
    .digest('hex');
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same body. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
