import type { FastifyReply, FastifyRequest } from 'fastify';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { apiSignature, sameSignature } from '../../providers/payfast/signature.ts';
import { bodyFields, sendApi, UUID } from './http.ts';

/** The REST API's signed calls: headers merchant-id, version, timestamp and signature. */

const header = (request: FastifyRequest, name: string): string | null => {
  const v = request.headers[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
};

/**
 * A preHandler that checks the signature over headers, query and body fields plus the passphrase (sorted,
 * PHP-encoded). The `testing` query flag is accepted signed or unsigned: PayFast's SDKs disagree on it.
 */
export async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  // An async hook that answers returns the reply, so Fastify stops there.
  const merchantId = header(request, 'merchant-id');
  const version = header(request, 'version');
  const timestamp = header(request, 'timestamp');
  const signature = header(request, 'signature');
  if (!merchantId || !version || !timestamp || !signature) return sendApi(reply, 401, { message: 'Missing required headers: merchant-id, version, timestamp and signature.' });
  if (version !== 'v1') return sendApi(reply, 400, { message: `Unsupported version ${version}; use v1.` });
  if (merchantId !== MERCHANT.merchantId) return sendApi(reply, 401, { message: 'Merchant authorization failed.' });
  if (Number.isNaN(Date.parse(timestamp))) return sendApi(reply, 400, { message: 'timestamp: must be an ISO-8601 date and time.' });
  const query = bodyFields(request.query ?? {});
  const body = request.body === undefined || request.body === null || request.body === '' ? {} : bodyFields(request.body);
  if (!query || !body) return sendApi(reply, 400, { message: 'Fields must be plain strings or numbers.' });
  const { testing, ...signedQuery } = query;
  const fields = { ...signedQuery, ...body, 'merchant-id': merchantId, version, timestamp };
  const candidates = [apiSignature(fields, MERCHANT.passphrase), ...(testing !== undefined ? [apiSignature({ ...fields, testing }, MERCHANT.passphrase)] : [])];
  if (!candidates.some((c) => sameSignature(signature, c))) return sendApi(reply, 401, { message: 'Signature mismatch: generated signature does not match submitted signature.' });
  return undefined;
}

export const signed = { preHandler: authenticate };

/** The `{token}` of a path: a UUID, or null (answered as an unknown token). */
export const tokenParam = (request: FastifyRequest): string | null => {
  const token = (request.params as { token: string }).token;
  return UUID.test(token) ? token : null;
};
