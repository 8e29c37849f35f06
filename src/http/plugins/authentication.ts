import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../../domain/enums.ts';
import { AppError, ForbiddenError } from '../../lib/errors.ts';
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

/** Every route needs a valid bearer token unless it is marked public; roles are checked per route. */
export function registerAuthentication(app: FastifyInstance, verify: TokenVerifier): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    if (config.public || request.is404) return;
    const header = request.headers.authorization;
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    const match = header ? /^bearer +([A-Za-z0-9_\-.]{10,4096})$/i.exec(header.trim()) : null;
    if (!match?.[1]) return sendUnauthorized(request, reply, header ? 'malformed authorization header' : 'missing');
    try {
      request.principal = await verify(match[1]);
    } catch (err) {
      if (err instanceof AppError) return sendUnauthorized(request, reply, err.message);
      throw err;
    }
    if (config.roles && !config.roles.includes(request.principal.role)) {
      throw new ForbiddenError(`This operation is for ${config.roles.join(' or ')} users; you are signed in as a ${request.principal.role}.`);
    }
  });
}

/** The caller of an authenticated route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} is public but asked for a principal`);
  return request.principal;
}
