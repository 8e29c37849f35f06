import { randomUUID } from 'node:crypto';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxSessions } from '../kit/schema.ts';
import { Refusal } from './fields.ts';
import { checkHeaders, postBoth, refusalAnswer, send } from './http.ts';
import { answer, messageOf, PROVIDER, transmissionDateTime, type ResponseData } from './merchant.ts';
import { parseRecurring, todayInSouthAfrica, type RecurringRequest } from './recurring-request.ts';
import { claim, repeatAnswer, SESSION_LIFETIME_MS } from './requests.ts';

/**
 * `POST /V2/Pay/Recurring` (seed 001, "Initiate"): the mandate and the first payment are checked, and the
 * customer is given a payment page (`initiationUrl`, on the `pay` host) for 30 minutes. Nothing is charged
 * until the customer pays there (pay-page.ts).
 */

/** What a session keeps of the request (kit `sessions.params`): every field as parsed; there is no card data in it. */
export interface SessionParams {
  request: RecurringRequest;
  transactionId: string;
}

export const pageUrl = (ctx: SandboxContext, sessionId: string): string => `${ctx.config.publicUrl}/sandbox/vodapay-pay/pay?sessionId=${sessionId}`;

export function registerRecurring(scope: App, ctx: SandboxContext): void {
  postBoth(scope, '/Pay/Recurring', async (request, reply) => {
    const now = ctx.clock();
    const refused = checkHeaders(request);
    if (refused) return send(reply, refusalAnswer(refused, request.body, now, 'initiate'));
    let parsed: RecurringRequest;
    try {
      parsed = parseRecurring(request.body, todayInSouthAfrica(now));
    } catch (err) {
      if (err instanceof Refusal) return send(reply, refusalAnswer(err, request.body, now, 'initiate'));
      throw err;
    }
    const sessionId = randomUUID();
    const transactionId = randomUUID();
    const initiationUrl = pageUrl(ctx, sessionId);
    const result: ResponseData = {
      echoData: parsed.echoData,
      responseCode: '00',
      responseMessage: messageOf('00'),
      transmissionDateTime: transmissionDateTime(now, 'initiate'),
      sessionId,
      transactionId,
      traceId: parsed.traceId,
      initiationUrl,
    };
    const created = await ctx.database.transaction(async ({ db: tx }) => {
      const claimed = await claim(tx, { kind: 'Recurring', traceId: parsed.traceId, amountCents: parsed.amountCents, paymentToken: null, status: 'open', sessionId, transactionId, result }, now);
      if (!claimed) return false;
      await tx.insert(sandboxSessions).values({
        id: sessionId,
        provider: PROVIDER,
        kind: 'recurring',
        merchantReference: parsed.traceId,
        amountCents: parsed.amountCents,
        params: { request: parsed, transactionId } satisfies SessionParams,
        status: 'open',
        expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS),
        createdAt: now,
        updatedAt: now,
      });
      return true;
    });
    if (!created) return send(reply, await repeatAnswer(ctx, { kind: 'Recurring', traceId: parsed.traceId, echoData: parsed.echoData, amountCents: parsed.amountCents, paymentToken: null }));
    return send(reply, answer(result));
  });
}
