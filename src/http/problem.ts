import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError, type FieldError } from '../lib/errors.ts';

/**
 * RFC 7807 problem documents, shaped like seed 000's 401 example: `type`, `title`, `status`, `detail`,
 * `instance`, then payrail's extensions (`code`, `errors`) where they help. Never a stack trace.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code?: string;
  errors?: FieldError[];
  /** RFC 7807 extension members an error chose to expose (the in-flight payment's id, say). */
  [extension: string]: unknown;
}

const TYPES: Record<number, [type: string, title: string]> = {
  400: ['https://tools.ietf.org/html/rfc7231#section-6.5.1', 'Bad Request'],
  401: ['https://tools.ietf.org/html/rfc7235#section-3.1', 'Unauthorized'],
  403: ['https://tools.ietf.org/html/rfc7231#section-6.5.3', 'Forbidden'],
  404: ['https://tools.ietf.org/html/rfc7231#section-6.5.4', 'Not Found'],
  405: ['https://tools.ietf.org/html/rfc7231#section-6.5.5', 'Method Not Allowed'],
  406: ['https://tools.ietf.org/html/rfc7231#section-6.5.6', 'Not Acceptable'],
  408: ['https://tools.ietf.org/html/rfc7231#section-6.5.7', 'Request Timeout'],
  402: ['https://tools.ietf.org/html/rfc7231#section-6.5.2', 'Payment Required'],
  409: ['https://tools.ietf.org/html/rfc7231#section-6.5.8', 'Conflict'],
  413: ['https://tools.ietf.org/html/rfc7231#section-6.5.11', 'Payload Too Large'],
  414: ['https://tools.ietf.org/html/rfc7231#section-6.5.12', 'URI Too Long'],
  415: ['https://tools.ietf.org/html/rfc7231#section-6.5.13', 'Unsupported Media Type'],
  422: ['https://tools.ietf.org/html/rfc4918#section-11.2', 'Unprocessable Entity'],
  429: ['https://tools.ietf.org/html/rfc6585#section-4', 'Too Many Requests'],
  431: ['https://tools.ietf.org/html/rfc6585#section-5', 'Request Header Fields Too Large'],
  500: ['https://tools.ietf.org/html/rfc7231#section-6.6.1', 'Internal Server Error'],
  502: ['https://tools.ietf.org/html/rfc7231#section-6.6.3', 'Bad Gateway'],
  503: ['https://tools.ietf.org/html/rfc7231#section-6.6.4', 'Service Unavailable'],
  504: ['https://tools.ietf.org/html/rfc7231#section-6.6.5', 'Gateway Timeout'],
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problem(status: number, detail: string, instance: string, extra: Pick<Problem, 'code' | 'errors'> & { extensions?: Record<string, unknown> } = {}): Problem {
  const [type, title] = TYPES[status] ?? TYPES[status >= 500 ? 500 : 400]!;
  const body: Problem = { ...(extra.extensions ?? {}), type, title, status, detail, instance };
  if (extra.code !== undefined) body.code = extra.code;
  if (extra.errors !== undefined && extra.errors.length > 0) body.errors = extra.errors;
  return body;
}

/** The path the problem is about, without its query string (which may carry ids of other people). */
export const instanceOf = (request: FastifyRequest): string => request.url.split('?')[0] ?? '/';

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.status(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** The seed's 401 body, exactly: the reason goes in WWW-Authenticate, not in the body. */
export function sendUnauthorized(request: FastifyRequest, reply: FastifyReply, reason: string): FastifyReply {
  const error = reason === 'missing' ? 'realm="payrail"' : `realm="payrail", error="invalid_token", error_description="${reason}"`;
  reply.header('www-authenticate', `Bearer ${error}`);
  return sendProblem(reply, problem(401, 'Unauthorized', instanceOf(request)));
}

/** Fastify's client errors (content-type parsing), each with payrail's code and a plain detail. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'request.unsupported_media_type', detail: 'This endpoint takes application/json bodies.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'request.invalid_content_length', detail: 'The Content-Length header does not match the body.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'request.body_too_large', detail: 'The body is too large.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'request.invalid', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'request.invalid', detail: 'The body is empty; send a JSON object.' },
};

type ValidationItem = NonNullable<FastifyError['validation']>[number];

function fieldName(part: string | undefined, item: ValidationItem): string {
  const path = (item.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('');
  const params = item.params as { missingProperty?: string; additionalProperty?: string };
  const extra =
    item.keyword === 'required' ? `.${String(params.missingProperty)}` : item.keyword === 'additionalProperties' ? `.${String(params.additionalProperty)}` : '';
  return `${part === 'querystring' ? 'query' : (part ?? 'request')}${path}${extra}`;
}

/** Fastify's error handler: every error leaves as problem+json. */
export function errorHandler(error: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const instance = instanceOf(request);
  if (error instanceof AppError) {
    if (error.status === 401) return sendUnauthorized(request, reply, error.message);
    if (error.status >= 500) request.log.warn({ err: error, code: error.code }, 'request failed');
    return sendProblem(reply, problem(error.status, error.message, instance, { code: error.code, errors: error.errors, extensions: error.extensions }));
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors = fe.validation.map((item) => ({ name: fieldName(fe.validationContext, item), reason: item.message ?? 'is invalid' }));
    return sendProblem(reply, problem(400, 'The request is malformed: see errors for the fields at fault.', instance, { code: 'request.invalid', errors }));
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors: malformed JSON, wrong content type, body too large — in payrail's words and codes.
    const known = fe.code ? FASTIFY_CLIENT_ERRORS[fe.code] : undefined;
    if (known) return sendProblem(reply, problem(known.status, known.detail, instance, { code: known.code }));
    const detail = fe.name === 'SyntaxError' ? 'The body is not valid JSON.' : fe.message;
    return sendProblem(reply, problem(fe.statusCode, detail, instance, { code: 'request.invalid' }));
  }
  if (isUniqueViolation(error)) {
    // A race the use-case did not foresee (two creates with one client-chosen id): a conflict, not a crash.
    request.log.warn({ err: error }, 'unique violation');
    return sendProblem(reply, problem(409, 'This conflicts with a record that already exists.', instance, { code: 'conflict' }));
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, problem(500, 'Something went wrong on our side. It has been logged; please try again.', instance, { code: 'internal' }));
}
