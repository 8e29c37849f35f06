import { and, asc, eq, inArray } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { takeFailure } from './behaviour.ts';
import { refusal, send, type RequestType } from './http.ts';
import { adviceMessage, isUuid4, Problem } from './messages.ts';
import { failureAnswer } from './purchases.ts';
import { vendorMessages } from './schema.ts';
import { countRepeat, find, record } from './store.ts';

/**
 * Confirmations and reversals of a purchase (202), recorded. As Electrum's reference test server does, an
 * advice id seen before is answered 400 DUPLICATE_RECORD (and counted), and an advice for a purchase the
 * vendor never received is 404 UNABLE_TO_LOCATE_RECORD. Tokens cannot be revoked: a reversal changes
 * nothing but the record.
 */

type Params = { purchaseId: string; adviceId: string };

export function registerAdvices(api: App, ctx: SandboxContext): void {
  const advise = (kind: 'confirmation' | 'reversal') => async (request: FastifyRequest, reply: FastifyReply) => {
    const requestType: RequestType = kind === 'confirmation' ? 'CONFIRMATION_ADVICE' : 'REVERSAL_ADVICE';
    const { purchaseId, adviceId } = request.params as Params;
    if (!isUuid4(adviceId) || !isUuid4(purchaseId)) return send(reply, refusal('FORMAT_ERROR', requestType, adviceId.slice(0, 100), 'the ids in the path must be version 4 UUIDs', purchaseId.slice(0, 100)));
    let advice;
    try {
      advice = adviceMessage(request.body, kind, { purchaseId, adviceId });
    } catch (e) {
      if (e instanceof Problem) return send(reply, refusal(e.errorType, requestType, adviceId, e.detail, purchaseId));
      throw e;
    }
    const failure = await takeFailure(ctx, 'advice');
    if (failure) return send(reply, failureAnswer(failure, requestType, adviceId, purchaseId));
    const original = await find(ctx, purchaseId);
    if (!original || original.kind !== 'purchase') return send(reply, refusal('UNABLE_TO_LOCATE_RECORD', requestType, adviceId, `no purchase ${purchaseId} was received`, purchaseId));
    const body = { id: advice.id, requestId: advice.requestId, time: ctx.clock().toISOString(), thirdPartyIdentifiers: advice.thirdPartyIdentifiers };
    const { fresh } = await record(ctx, { id: adviceId, kind, requestId: purchaseId, reason: advice.reversalReason ?? null, httpStatus: 202, response: body }, null);
    if (!fresh) {
      await countRepeat(ctx, adviceId);
      return send(reply, refusal('DUPLICATE_RECORD', requestType, adviceId, `advice ${adviceId} was received before`, purchaseId));
    }
    return send(reply, { status: 202, body });
  };
  api.post('/tokenPurchases/:purchaseId/confirmations/:adviceId', advise('confirmation'));
  api.post('/tokenPurchases/:purchaseId/reversals/:adviceId', advise('reversal'));
}

/** `GET /sandbox/vendor/advices[?request_id=]`: the confirmations and reversals received, oldest first (for tests). */
export function registerAdviceList(scope: App, ctx: SandboxContext): void {
  scope.get('/advices', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const m = vendorMessages;
    const where = [inArray(m.kind, ['confirmation', 'reversal'])];
    if (typeof q.request_id === 'string') where.push(eq(m.requestId, q.request_id));
    const rows = await ctx.database.db.select().from(m).where(and(...where)).orderBy(asc(m.createdAt), asc(m.id)).limit(10_000);
    return {
      items: rows.map((r) => ({ id: r.id, requestId: r.requestId, kind: r.kind, reason: r.reason, received: r.received, created_at: r.createdAt.toISOString() })),
    };
  });
}
