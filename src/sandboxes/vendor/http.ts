import { timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { VENDOR_SANDBOX_CREDENTIALS } from './merchant.ts';

/**
 * What every API route shares: HTTP Basic auth, JSON in and out, and the interface's ErrorDetail for every
 * refusal — bad input is a 400 FORMAT_ERROR, never a 500.
 */

export type ErrorType =
  | 'DUPLICATE_RECORD'
  | 'FORMAT_ERROR'
  | 'FUNCTION_NOT_SUPPORTED'
  | 'GENERAL_ERROR'
  | 'INVALID_AMOUNT'
  | 'UNABLE_TO_LOCATE_RECORD'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UNKNOWN_METER_ID'
  | 'INVALID_MERCHANT'
  | 'INVALID_MSISDN'
  | 'SYSTEM_MALFUNCTION'
  | 'AMOUNT_TOO_LOW'
  | 'AMOUNT_TOO_HIGH'
  | 'NO_FREE_UNITS_DUE';

export type RequestType = 'METER_LOOKUP_REQUEST' | 'TOKEN_PURCHASE_REQUEST' | 'TOKEN_PURCHASE_RETRY_REQUEST' | 'TOKEN_REPRINT_REQUEST' | 'CONFIRMATION_ADVICE' | 'REVERSAL_ADVICE';

/** Each error type's HTTP status and short message (the interface allows at most 20 characters). */
const ERRORS: Record<ErrorType, { status: number; message: string }> = {
  DUPLICATE_RECORD: { status: 400, message: 'Duplicate record' },
  FORMAT_ERROR: { status: 400, message: 'Format error' },
  FUNCTION_NOT_SUPPORTED: { status: 501, message: 'Not supported' },
  GENERAL_ERROR: { status: 500, message: 'General error' },
  INVALID_AMOUNT: { status: 400, message: 'Invalid amount' },
  UNABLE_TO_LOCATE_RECORD: { status: 404, message: 'Record not found' },
  UPSTREAM_UNAVAILABLE: { status: 503, message: 'Utility unavailable' },
  UNKNOWN_METER_ID: { status: 400, message: 'Unknown meter' },
  INVALID_MERCHANT: { status: 401, message: 'Not authorised' },
  INVALID_MSISDN: { status: 400, message: 'Invalid MSISDN' },
  SYSTEM_MALFUNCTION: { status: 500, message: 'System malfunction' },
  AMOUNT_TOO_LOW: { status: 400, message: 'Amount too low' },
  AMOUNT_TOO_HIGH: { status: 400, message: 'Amount too high' },
  NO_FREE_UNITS_DUE: { status: 400, message: 'No free units due' },
};

export interface ErrorDetail {
  errorType: ErrorType;
  errorMessage: string;
  requestType: RequestType;
  id: string;
  originalId: string | null;
  detailMessage: string;
}

/** A refusal: the HTTP status and ErrorDetail body, ready to send or to store for a retry to repeat. */
export interface Answer {
  status: number;
  body: unknown;
}

export function refusal(errorType: ErrorType, requestType: RequestType, id: string, detailMessage: string, originalId: string | null = null): Answer {
  const { status, message } = ERRORS[errorType];
  const body: ErrorDetail = { errorType, errorMessage: message, requestType, id, originalId, detailMessage };
  return { status, body };
}

export const send = (reply: FastifyReply, a: Answer): FastifyReply =>
  a.body === null ? reply.status(a.status).send() : reply.status(a.status).type('application/json; charset=utf-8').send(a.body);

/** The request type a URL is, for an ErrorDetail written before the route is known (auth, a bad body). */
export function requestTypeOf(url: string): RequestType {
  if (/\/confirmations\//.test(url)) return 'CONFIRMATION_ADVICE';
  if (/\/reversals\//.test(url)) return 'REVERSAL_ADVICE';
  if (/\/retry(\?|$)/.test(url)) return 'TOKEN_PURCHASE_RETRY_REQUEST';
  if (/\/meterLookups\//.test(url)) return 'METER_LOOKUP_REQUEST';
  if (/\/tokenReprints\//.test(url)) return 'TOKEN_REPRINT_REQUEST';
  return 'TOKEN_PURCHASE_REQUEST';
}

/** The last path id of a URL (the message's own id), for an ErrorDetail. */
const pathIdOf = (url: string): string => {
  const segments = url.split('?')[0]!.split('/').filter(Boolean);
  const last = segments.at(-1) ?? '';
  return decodeURIComponent(['retry', 'trial'].includes(last) ? (segments.at(-2) ?? '') : last).slice(0, 100);
};

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** True when the request carries the sandbox merchant's HTTP Basic credentials. */
export function authorised(request: FastifyRequest): boolean {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const username = same(decoded.slice(0, colon), VENDOR_SANDBOX_CREDENTIALS.username);
  const password = same(decoded.slice(colon + 1), VENDOR_SANDBOX_CREDENTIALS.password);
  return username && password;
}

/** Auth on every API call; a body that is not JSON, or any other client error, is a 400 FORMAT_ERROR. */
export function registerApiPlumbing(api: App, _ctx: SandboxContext): void {
  api.addHook('onRequest', async (request, reply) => {
    if (authorised(request)) return;
    reply.header('www-authenticate', 'Basic realm="prepaidutility"');
    return send(reply, refusal('INVALID_MERCHANT', requestTypeOf(request.url), pathIdOf(request.url), 'HTTP Basic credentials are missing or wrong'));
  });
  api.setErrorHandler((error: FastifyError & { status?: number }, request, reply) => {
    const status = error.statusCode ?? error.status ?? 500;
    const type = requestTypeOf(request.url);
    const id = pathIdOf(request.url);
    if (status >= 500) {
      request.log.error({ err: error }, 'vendor sandbox failed');
      return send(reply, refusal('SYSTEM_MALFUNCTION', type, id, 'the sandbox failed; see its log'));
    }
    const detail = status === 415 ? 'send the body as application/json' : /JSON|body/i.test(error.message) ? 'the body is not valid JSON' : error.message;
    return send(reply, refusal('FORMAT_ERROR', type, id, detail));
  });
}
