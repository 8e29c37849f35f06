import type { FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../http/route-kit.ts';
import { loseResponse, type SandboxContext } from '../kit/kit.ts';
import { behaviourNow, takeFailure, type FailureStatus } from './behaviour.ts';
import { refusal, send, type Answer, type ErrorDetail, type RequestType } from './http.ts';
import { meterOutcome } from './merchant.ts';
import { isUuid4, Problem, purchaseRequest, type PurchaseMessage } from './messages.ts';
import type { VendorMessageRow } from './schema.ts';
import { find, record } from './store.ts';
import { ledgerDetails, purchaseResponse, refusalOf } from './vend.ts';

/**
 * `POST /tokenPurchases/{purchaseId}` (201), `…/{purchaseId}/retry` (202) and the trial purchase (200, no
 * money moves). A purchase id issues tokens once: the message row, its tokens and its ledger row are one
 * transaction (store.ts); a retry answers what the original got, or is processed as a new purchase when the
 * original never arrived.
 */

type Params = { purchaseId: string };

/** A well-formed request, or the refusal to send. */
function parsed(request: FastifyRequest, pathId: string, requestType: RequestType): { req: PurchaseMessage } | { refused: Answer } {
  if (!isUuid4(pathId)) return { refused: refusal('FORMAT_ERROR', requestType, pathId.slice(0, 100), 'the id in the path must be a version 4 UUID') };
  try {
    return { req: purchaseRequest(request.body, pathId) };
  } catch (e) {
    if (e instanceof Problem) return { refused: refusal(e.errorType, requestType, pathId, e.detail) };
    throw e;
  }
}

/** A failure the behaviour settings ask for: answered before the vendor looks at the request. */
export function failureAnswer(status: FailureStatus, requestType: RequestType, id: string, originalId: string | null = null): Answer {
  if (status === 504) return { status: 504, body: null };
  const type = status === 501 ? 'FUNCTION_NOT_SUPPORTED' : status === 503 ? 'UPSTREAM_UNAVAILABLE' : 'GENERAL_ERROR';
  return refusal(type, requestType, id, `the sandbox was told to fail this request (HTTP ${status})`, originalId);
}

/** Decides a purchase and records it with its answer and ledger row; `fresh: false` when the id was used before. */
async function vend(ctx: SandboxContext, req: PurchaseMessage, requestType: RequestType) {
  const now = ctx.clock();
  const refused = refusalOf(req, requestType);
  const answer: Answer = refused ?? { status: 201, body: purchaseResponse(req, now) };
  const amountCents = req.purchaseAmount.amount;
  const detail = refused ? (refused.body as ErrorDetail) : null;
  const response = answer.body as Record<string, unknown>;
  const { fresh, row } = await record(
    ctx,
    { id: req.id, kind: 'purchase', meterId: req.meter.meterId, amountCents, httpStatus: answer.status, response },
    {
      id: `vend:${req.id}`,
      merchantReference: req.id,
      kind: 'vend',
      amountCents,
      currency: 'ZAR',
      status: detail ? 'declined' : 'approved',
      resultCode: detail ? detail.errorType : 'APPROVED',
      resultDescription: detail ? detail.detailMessage : 'Tokens issued',
      details: detail ? { meter_id: req.meter.meterId, http_status: answer.status } : ledgerDetails(response, req.meter.meterId),
    },
  );
  return { fresh, row };
}

/** The first answer to a token issued for a meter ending 0408 never arrives (README.md). */
async function lose(ctx: SandboxContext, reply: FastifyReply): Promise<FastifyReply> {
  const b = await behaviourNow(ctx);
  const ms = b.lost_response_ms ?? ctx.config.sandboxes.lostResponseAfterMs;
  if (b.lost_response === 'drop') return loseResponse(reply, ms);
  if (ms > 0) await sleep(ms);
  return send(reply, { status: 504, body: null });
}

/** What a retry answers for a stored purchase: its answer again (a success as 202), as a retry's. */
function repeated(row: VendorMessageRow): Answer {
  if (row.httpStatus !== null && row.httpStatus >= 200 && row.httpStatus < 300) return { status: 202, body: row.response };
  return { status: row.httpStatus ?? 500, body: { ...(row.response as object), requestType: 'TOKEN_PURCHASE_RETRY_REQUEST' } };
}

function retryMismatch(row: VendorMessageRow, req: PurchaseMessage): Answer | null {
  if (row.kind !== 'purchase') return refusal('DUPLICATE_RECORD', 'TOKEN_PURCHASE_RETRY_REQUEST', req.id, `id ${req.id} was used by a ${row.kind} message`);
  if (row.meterId !== req.meter.meterId || row.amountCents !== req.purchaseAmount.amount) {
    return refusal('FORMAT_ERROR', 'TOKEN_PURCHASE_RETRY_REQUEST', req.id, 'a retry must carry the original request: its meter or amount differs');
  }
  return null;
}

export function registerPurchases(api: App, ctx: SandboxContext): void {
  api.post('/tokenPurchases/:purchaseId', async (request, reply) => {
    const { purchaseId } = request.params as Params;
    const p = parsed(request, purchaseId, 'TOKEN_PURCHASE_REQUEST');
    if ('refused' in p) return send(reply, p.refused);
    const { req } = p;
    const failure = await takeFailure(ctx, 'purchase');
    if (failure) return send(reply, failureAnswer(failure, 'TOKEN_PURCHASE_REQUEST', req.id));
    const { fresh, row } = await vend(ctx, req, 'TOKEN_PURCHASE_REQUEST');
    if (!fresh) return send(reply, refusal('DUPLICATE_RECORD', 'TOKEN_PURCHASE_REQUEST', req.id, `id ${req.id} was used before; retry a purchase with /retry`));
    if (row.httpStatus === 201 && meterOutcome(req.meter.meterId) === 'lost') return lose(ctx, reply);
    return send(reply, { status: row.httpStatus!, body: row.response });
  });

  api.post('/tokenPurchases/:purchaseId/retry', async (request, reply) => {
    const { purchaseId } = request.params as Params;
    const p = parsed(request, purchaseId, 'TOKEN_PURCHASE_RETRY_REQUEST');
    if ('refused' in p) return send(reply, p.refused);
    const { req } = p;
    const failure = await takeFailure(ctx, 'purchase');
    if (failure) return send(reply, failureAnswer(failure, 'TOKEN_PURCHASE_RETRY_REQUEST', req.id));
    const stored = await find(ctx, req.id);
    if (stored) return send(reply, retryMismatch(stored, req) ?? repeated(stored));
    // The original never arrived: processed as a new purchase (PROVIDERS.md).
    const { fresh, row } = await vend(ctx, req, 'TOKEN_PURCHASE_RETRY_REQUEST');
    if (!fresh) return send(reply, retryMismatch(row, req) ?? repeated(row));
    if (row.httpStatus === 201 && meterOutcome(req.meter.meterId) === 'lost') return lose(ctx, reply);
    return send(reply, repeated(row));
  });

  const trial = async (request: FastifyRequest, reply: FastifyReply, trialId: string) => {
    const p = parsed(request, trialId, 'TOKEN_PURCHASE_REQUEST');
    if ('refused' in p) return send(reply, p.refused);
    const { req } = p;
    const answer: Answer = refusalOf(req, 'TOKEN_PURCHASE_REQUEST') ?? { status: 200, body: purchaseResponse(req, ctx.clock(), true) };
    const { fresh } = await record(ctx, { id: req.id, kind: 'trial', meterId: req.meter.meterId, amountCents: req.purchaseAmount.amount, httpStatus: answer.status, response: answer.body as object }, null);
    if (!fresh) return send(reply, refusal('DUPLICATE_RECORD', 'TOKEN_PURCHASE_REQUEST', req.id, `id ${req.id} was used before`));
    return send(reply, answer);
  };
  api.post('/tokenPurchases/:purchaseId/trial', (request, reply) => trial(request, reply, (request.params as Params).purchaseId));
  // The interface's own path for the same operation (TokenPurchasesResource, v3.12.0).
  api.post('/tokenPurchases/trials/:trialId', (request, reply) => trial(request, reply, (request.params as { trialId: string }).trialId));
}
