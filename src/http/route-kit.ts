import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Actor } from '../context.ts';
import type { Role } from '../domain/enums.ts';
import type { ServiceScope } from '../modules/services/repo.ts';
import { principalOf } from './plugins/authentication.ts';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Staff: integrators and admins of the operator. */
export const STAFF: readonly Role[] = ['integrator', 'admin'];
export const ADMIN: readonly Role[] = ['admin'];

/** What the caller may see: their operator, and for a customer only their own customer. */
export function scopeOf(request: FastifyRequest): ServiceScope {
  const p = principalOf(request);
  return { operatorId: p.operatorId, customerId: p.customerId };
}

export function actorOf(request: FastifyRequest): Actor {
  const p = principalOf(request);
  return { id: p.sub, role: p.role, requestId: String(request.id) };
}

/** Security requirement and tag for an authenticated route in the OpenAPI document. */
export const secured = (tag: string) => ({ tags: [tag], security: [{ bearerAuth: [] }] });
