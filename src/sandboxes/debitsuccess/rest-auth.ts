import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { DEBITSUCCESS_SANDBOX_MERCHANT as MERCHANT } from './merchant.ts';

/**
 * The REST API's OAuth2 client-credentials grant, `POST /identity/connect/token`. Access tokens are signed
 * (not stored), so they survive a restart and every process sharing the sandbox accepts them; an hour each,
 * by the sandbox's clock.
 */
const KEY = `debitsuccess-sandbox:${MERCHANT.clientSecret}`;
const LIFETIME_S = 3600;
const sign = (payload: string) => createHmac('sha256', KEY).update(payload).digest('base64url');

export function registerTokenRoute(scope: App, ctx: SandboxContext): void {
  scope.post('/identity/connect/token', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    let clientId = body.client_id;
    let clientSecret = body.client_secret;
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
    if (basic) [clientId, clientSecret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    if (body.grant_type !== 'client_credentials') return reply.status(400).send({ error: 'unsupported_grant_type' });
    if (clientId !== MERCHANT.clientId || clientSecret !== MERCHANT.clientSecret) return reply.status(401).send({ error: 'invalid_client' });
    const payload = Buffer.from(JSON.stringify({ sub: clientId, biz: MERCHANT.businessId, exp: Math.floor(ctx.clock().getTime() / 1000) + LIFETIME_S })).toString('base64url');
    return { access_token: `${payload}.${sign(payload)}`, token_type: 'Bearer', expires_in: LIFETIME_S, scope: 'CustomerServices' };
  });
}

/** A REST call's bearer token, checked; false after answering 401. */
export function authorised(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply): boolean {
  const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? '');
  let ok = false;
  if (m) {
    const expected = Buffer.from(sign(m[1]!));
    const given = Buffer.from(m[2]!);
    if (expected.length === given.length && timingSafeEqual(expected, given)) {
      const claims = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { exp: number };
      ok = claims.exp * 1000 > ctx.clock().getTime();
    }
  }
  if (!ok) void reply.status(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ errorCode: 'unauthorized', message: 'The access token is missing, invalid or expired.' });
  return ok;
}

/** The REST API's 400: `{ errorCode: "validation", message, errors: [{ field, message }] }`. */
export const validation = (reply: FastifyReply, errors: { field: string; message: string }[]) =>
  reply.status(400).send({ errorCode: 'validation', message: 'The request is invalid.', errors });
