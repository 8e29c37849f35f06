import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { instanceOf, problem, PROBLEM_CONTENT_TYPE, sendProblem } from './problem.ts';

/**
 * The errors that come before payrail's error handler can see a request, made problem+json like every
 * other (SPEC §3). Fastify's router refuses a path it cannot decode (a bad %-escape: 400) or with a
 * parameter longer than maxParamLength (414) through `frameworkErrors`; Node's HTTP parser refuses
 * headers or a request line over its limit (431), a malformed request (400) or one too slow (408) before
 * Fastify exists for it, through the server's `clientError` event.
 */
const ROUTER_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_BAD_URL: { status: 400, code: 'request.bad_url', detail: 'The path is not valid: it has a malformed percent-escape.' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'request.path_parameter_too_long', detail: 'A path parameter is too long.' },
};

/** Fastify's `frameworkErrors` option. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = ROUTER_ERRORS[error.code];
  const status = known?.status ?? (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 400);
  request.log.info({ code: error.code, status }, 'request refused by the router');
  reply.header('x-request-id', request.id);
  // A path that cannot be decoded is no URI reference to name as the instance.
  const instance = error.code === 'FST_ERR_BAD_URL' ? '/' : instanceOf(request);
  return sendProblem(reply, problem(status, known?.detail ?? 'The request could not be routed.', instance, { code: known?.code ?? 'request.invalid' }));
}

const CLIENT_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'request.headers_too_large', detail: 'The request line and headers are too large (at most 16 KB): shorten the query string or the headers.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request.timeout', detail: 'The request took too long to arrive.' },
  ERR_HTTP_HEADERS_TIMEOUT: { status: 408, code: 'request.timeout', detail: 'The request headers took too long to arrive.' },
};
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** Fastify's `clientErrorHandler` (Node's `clientError`): written straight to the socket, then closed. */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const known = err.code ? CLIENT_ERRORS[err.code] : undefined;
  const status = known?.status ?? 400;
  this.log.debug({ code: err.code, status }, 'malformed request refused');
  if (socket.writable) {
    const body = JSON.stringify(problem(status, known?.detail ?? 'The request is not valid HTTP.', requestPath(err), { code: known?.code ?? 'request.malformed' }));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** The path of the request line, when the parser got that far and it is short; `/` otherwise. */
function requestPath(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): string {
  const head = err.rawPacket?.subarray(0, 600).toString('latin1') ?? '';
  const match = /^[A-Z]{3,10} (\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]{0,256})[ ?]/.exec(head);
  return match?.[1] ?? '/';
}
