import type { FastifyRequest } from 'fastify';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { refusal, send, type Answer, type RequestType } from './http.ts';
import { MAX_AMOUNT_CENTS, meterOutcome, MIN_AMOUNT_CENTS, UTILITY, ZAR } from './merchant.ts';
import { isUuid4, meterLookupRequest, Problem, reprintRequest } from './messages.ts';
import { purchaseToReprint, record } from './store.ts';
import { baseOf, customerFor, ledgerDetails, meterOf } from './vend.ts';

/**
 * `POST /meterLookups/{id}` (201: whose meter it is, and the amounts it takes) and `POST /tokenReprints/{id}`
 * (200: the original PurchaseResponse again, under the reprint's own id). Neither moves money; a reprint is a
 * ledger row of 0 cents.
 */

function parse<T>(request: FastifyRequest, requestType: RequestType, read: (body: unknown, id: string) => T): { msg: T } | { refused: Answer } {
  const { id } = request.params as { id: string };
  if (!isUuid4(id)) return { refused: refusal('FORMAT_ERROR', requestType, id.slice(0, 100), 'the id in the path must be a version 4 UUID') };
  try {
    return { msg: read(request.body, id) };
  } catch (e) {
    if (e instanceof Problem) return { refused: refusal(e.errorType, requestType, id, e.detail) };
    throw e;
  }
}

export function registerLookups(api: App, ctx: SandboxContext): void {
  api.post('/meterLookups/:id', async (request, reply) => {
    const p = parse(request, 'METER_LOOKUP_REQUEST', meterLookupRequest);
    if ('refused' in p) return send(reply, p.refused);
    const req = p.msg;
    const meterId = req.meter.meterId;
    const answer: Answer =
      meterOutcome(meterId) === 'unknown'
        ? refusal('UNKNOWN_METER_ID', 'METER_LOOKUP_REQUEST', req.id, `meter ${meterId} is not known to any utility`)
        : {
            status: 201,
            body: {
              ...baseOf(req, ctx.clock()),
              meter: meterOf(meterId),
              customer: customerFor(meterId),
              utility: { ...UTILITY },
              minAmount: { amount: MIN_AMOUNT_CENTS, currency: ZAR },
              maxAmount: { amount: MAX_AMOUNT_CENTS, currency: ZAR },
              bsstDue: false,
            },
          };
    const { fresh } = await record(ctx, { id: req.id, kind: 'lookup', meterId, httpStatus: answer.status, response: answer.body as object }, null);
    if (!fresh) return send(reply, refusal('DUPLICATE_RECORD', 'METER_LOOKUP_REQUEST', req.id, `id ${req.id} was used before`));
    return send(reply, answer);
  });

  api.post('/tokenReprints/:id', async (request, reply) => {
    const p = parse(request, 'TOKEN_REPRINT_REQUEST', reprintRequest);
    if ('refused' in p) return send(reply, p.refused);
    const req = p.msg;
    const original = meterOutcome(req.meterId) === 'unknown' ? null : await purchaseToReprint(ctx, req.meterId, req.originalRef);
    const answer: Answer =
      meterOutcome(req.meterId) === 'unknown'
        ? refusal('UNKNOWN_METER_ID', 'TOKEN_REPRINT_REQUEST', req.id, `meter ${req.meterId} is not known to any utility`)
        : !original
          ? refusal('UNABLE_TO_LOCATE_RECORD', 'TOKEN_REPRINT_REQUEST', req.id, req.originalRef ? `no token for meter ${req.meterId} with reference ${req.originalRef}` : `no token was issued for meter ${req.meterId}`, req.originalRef ?? null)
          : { status: 200, body: { ...(original.response as object), ...baseOf(req, ctx.clock()) } };
    const response = answer.body as Record<string, unknown>;
    const { fresh } = await record(
      ctx,
      { id: req.id, kind: 'reprint', requestId: original?.id ?? null, meterId: req.meterId, httpStatus: answer.status, response },
      {
        id: `reprint:${req.id}`,
        merchantReference: original?.id ?? req.originalRef ?? req.id,
        kind: 'reprint',
        amountCents: 0,
        currency: 'ZAR',
        status: answer.status === 200 ? 'approved' : 'declined',
        resultCode: answer.status === 200 ? 'APPROVED' : (response.errorType as string),
        resultDescription: answer.status === 200 ? 'Tokens reprinted' : (response.detailMessage as string),
        details: answer.status === 200 ? { ...ledgerDetails(response, req.meterId), reprint_id: req.id } : { meter_id: req.meterId, reprint_id: req.id },
      },
    );
    if (!fresh) return send(reply, refusal('DUPLICATE_RECORD', 'TOKEN_REPRINT_REQUEST', req.id, `id ${req.id} was used before`));
    return send(reply, answer);
  });
}
