import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../../domain/enums.ts';
import { AppError, ForbiddenError } from '../../lib/errors.ts';
import { Lru } from '../../lib/lru.ts';
import { article } from '../../lib/words.ts';
import type { Principal, TokenVerifier } from '../auth.ts';
import { sendUnauthorized } from '../problem.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No bearer token needed (sandboxes, docs, health, metrics, provider callbacks). */
    public?: boolean;
    /** Roles allowed to call the route; every role when absent. */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Whether an operator is in payrail's database. */
export type OperatorExists = (operatorId: string) => Promise<boolean>;

/**
 * Every route needs a valid bearer token unless it is marked public; roles are checked per route. A
 * token whose operator payrail does not have is refused like any other token that is no good here (401),
 * on every route alike: it would otherwise fail deep in a use-case (a foreign key: a 500) or see an
 * empty tenant. Operators are never deleted, so one that was found is remembered.
 */
export function registerAuthentication(app: FastifyInstance, verify: TokenVerifier, operatorExists: OperatorExists): void {
  const known = new Lru<string, true>(10_000);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    if (config.public || request.is404) return;
    const header = request.headers.authorization;
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    const match = header ? /^bearer +([A-Za-z0-9_\-.]{10,4096})$/i.exec(header.trim()) : null;
    if (!match?.[1]) return sendUnauthorized(request, reply, header ? 'malformed authorization header' : 'missing');
    let principal: Principal;
    try {
      principal = await verify(match[1]);
    } catch (err) {
      if (err instanceof AppError) return sendUnauthorized(request, reply, err.message);
      throw err;
    }
    if (!known.get(principal.operatorId)) {
      if (!(await operatorExists(principal.operatorId))) return sendUnauthorized(request, reply, 'unknown operator');
      known.set(principal.operatorId, true);
    }
    request.principal = principal;
    if (config.roles && !config.roles.includes(request.principal.role)) {
      const role = request.principal.role;
      throw new ForbiddenError(`This operation is for ${config.roles.join(' or ')} users; you are signed in as ${article(role)} ${role}.`);
    }
  });
}

/** The caller of an authenticated route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} is public but asked for a principal`);
  return request.principal;
}
