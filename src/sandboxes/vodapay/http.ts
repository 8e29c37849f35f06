import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { Refusal, isObject } from './fields.ts';
import { answer, messageOf, transmissionDateTime, VODAPAY_SANDBOX_MERCHANT, type Answer, type Code } from './merchant.ts';

/**
 * What every API route shares: the `api-key` and `test` headers, the `{ succeeded, data }` envelope, and bad
 * input answered in that envelope (never a 500).
 */

/** `api-key` must be the sandbox merchant's GUID (03); `test` must be `true`: this is the UAT host (README.md). */
export function checkHeaders(request: FastifyRequest): Refusal | null {
  const key = request.headers['api-key'];
  if (typeof key !== 'string' || key.trim().toLowerCase() !== VODAPAY_SANDBOX_MERCHANT.apiKey) return new Refusal('03', '');
  const test = request.headers.test;
  if (test === undefined || (typeof test === 'string' && test.trim().toLowerCase() === 'false')) {
    return new Refusal('D1', 'the UAT host takes test transactions only (header test: true)');
  }
  if (typeof test !== 'string' || test.trim().toLowerCase() !== 'true') return new Refusal('D2', 'header test must be true or false');
  return null;
}

/** A string field of a body that may be anything: for echoing echoData and traceId in a refusal. */
const loose = (body: unknown, name: string): string | null => {
  if (!isObject(body)) return null;
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : body[key];
  return typeof v === 'string' ? v : null;
};

/** A refusal before anything was recorded: no session, no transaction. */
export function refusalAnswer(r: { code: Code; detail: string }, body: unknown, now: Date, style: 'initiate' | 'submit'): Answer {
  return answer({
    echoData: loose(body, 'echoData'),
    responseCode: r.code,
    responseMessage: messageOf(r.code, r.detail || undefined),
    transmissionDateTime: transmissionDateTime(now, style),
    sessionId: null,
    transactionId: null,
    traceId: loose(body, 'traceId'),
  });
}

export const send = (reply: FastifyReply, a: Answer): FastifyReply => reply.status(a.status).type('application/json; charset=utf-8').send(a.body);

/** POST on both spellings of the version segment: `/V2/…` (seed 001) and `/v2/…` (the OpenAPI). */
export function postBoth(scope: App, path: string, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): void {
  scope.post(`/V2${path}`, handler);
  scope.post(`/v2${path}`, handler);
}

/**
 * The API host's bodies and errors: `text/json` and `application/*+json` are JSON too (the OpenAPI lists
 * them); a body that cannot be read, or any client error, is answered D2 in the envelope with HTTP 400.
 */
export function registerApiPlumbing(scope: App, ctx: SandboxContext): void {
  const parse = (request: FastifyRequest, raw: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = raw.toString();
    try {
      request.rawJson = text;
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  };
  scope.addContentTypeParser('text/json', { parseAs: 'string' }, parse);
  scope.addContentTypeParser(/^application\/[a-z0-9.-]+\+json$/i, { parseAs: 'string' }, parse);
  scope.setErrorHandler((error: FastifyError & { status?: number }, request, reply) => {
    const status = error.statusCode ?? error.status ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'VodaPay sandbox failed');
      return send(reply, { status: 500, body: refusalAnswer({ code: '96', detail: 'the sandbox failed; see its log' }, null, ctx.clock(), 'initiate').body });
    }
    const detail = status === 415 ? 'send the body as application/json' : /JSON|body/i.test(error.message) ? 'the body is not a valid JSON object' : error.message;
    return send(reply, { status: 400, body: refusalAnswer({ code: 'D2', detail }, null, ctx.clock(), 'initiate').body });
  });
}
