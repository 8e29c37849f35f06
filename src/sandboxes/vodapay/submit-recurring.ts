import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import type { App } from '../../http/route-kit.ts';
import { loseResponse, type SandboxContext } from '../kit/kit.ts';
import { sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import { behaviourNow } from './behaviour.ts';
import { cardExpired, chargeResult } from './charge.ts';
import { electronicReceiptOf, isObject, optObject, optString, optUrl, Refusal, refuse, reqInt, traceIdOf, type Json } from './fields.ts';
import { checkHeaders, postBoth, refusalAnswer, send } from './http.ts';
import { answer, messageOf, newRetrievalReference, PROVIDER, transmissionDateTime, VODAPAY_SANDBOX_MERCHANT, type Code, type ResponseData } from './merchant.ts';
import { deliverNotice, noticeBody, storeNotice } from './notify.ts';
import { todayInSouthAfrica } from './recurring-request.ts';
import { claim, finish, repeatAnswer } from './requests.ts';
import { vodapayMandates, vodapayRequests } from './schema.ts';

/**
 * `POST /V2/Pay/SubmitRecurring` (seed 001, "Submit"): a payment against a recurring payment token, charged
 * at once by the token's card. The traceId is claimed first (requests.ts): a repeat while this one is being
 * worked on answers D4, afterwards its result. The token's card decides the result; a refusal by the
 * mandate (56, 54, D2) is a result too, charging nothing.
 */
export interface SubmitRequest {
  echoData: string | null;
  traceId: string;
  paymentToken: string;
  amountCents: number;
  customerId: string | null;
  additionalData: string | null;
  notificationUrl: string | null;
}

export function parseSubmit(body: unknown): SubmitRequest {
  if (!isObject(body)) return refuse('the body must be a JSON object');
  const echoData = optString(body, 'echoData', 9999) ?? null;
  const traceId = traceIdOf(body);
  const token = (body as Json).paymentToken;
  if (token === undefined || token === null || token === '') refuse('paymentToken is required');
  // 19 digits cannot travel as a JSON number without losing some: a string only.
  if (typeof token !== 'string' || !/^[0-9]{19}$/.test(token)) refuse('paymentToken must be a string of 19 digits');
  const amount = reqInt(body, 'amount');
  if (amount <= 0) refuse('amount must be a positive number of cents');
  const customerId = optString(body, 'customerId', 255, 1) ?? null;
  const additionalData = optString(body, 'additionalData', 9999) ?? null;
  const n = optObject(body, 'notifications') ?? {};
  const notificationUrl = optUrl(n, 'notificationUrl', 'notifications.notificationUrl') ?? null;
  optUrl(n, 'callbackUrl', 'notifications.callbackUrl');
  electronicReceiptOf(body);
  return { echoData, traceId, paymentToken: token as string, amountCents: amount, customerId, additionalData, notificationUrl };
}

type Mandate = typeof vodapayMandates.$inferSelect;
type Token = typeof sandboxTokens.$inferSelect;

/** Why the mandate refuses this payment, if it does: 56 unusable token, 54 expired card, D2 beyond the mandate. */
async function mandateRefusal(ctx: SandboxContext, req: SubmitRequest, m: Mandate | undefined, t: Token | undefined, now: Date): Promise<{ code: Code; detail: string } | null> {
  if (!m || !t || m.merchant !== VODAPAY_SANDBOX_MERCHANT.apiKey || m.status === 'removed') return { code: '56', detail: 'unknown paymentToken' };
  if (m.status === 'cancelled') return { code: '56', detail: 'the paymentToken was cancelled' };
  if (m.status === 'blocked') return { code: '56', detail: 'the paymentToken is blocked' };
  if (req.customerId !== null && m.customerId !== null && req.customerId !== m.customerId) return { code: '56', detail: 'the paymentToken is not this customer’s' };
  if (cardExpired(t.expiryMonth, t.expiryYear, now)) return { code: '54', detail: `the card expired ${String(t.expiryMonth).padStart(2, '0')}/${t.expiryYear}` };
  if (m.category !== 11 && m.amountCents !== null && req.amountCents > m.amountCents) return { code: 'D2', detail: `amount exceeds the mandate's ${m.amountCents} cents` };
  if (m.category === 11 && m.amountLimitCents !== null && req.amountCents > m.amountLimitCents) return { code: 'D2', detail: `amount exceeds the mandate's limit of ${m.amountLimitCents} cents` };
  if (m.lastPaymentDate !== null && todayInSouthAfrica(now) > m.lastPaymentDate) return { code: 'D2', detail: `the mandate ended on ${m.lastPaymentDate}` };
  if (m.numberOfInstallments !== null) {
    const paid = await ctx.database.db
      .select({ id: sandboxTransactions.id })
      .from(sandboxTransactions)
      .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.kind, 'token'), eq(sandboxTransactions.token, m.paymentToken), eq(sandboxTransactions.status, 'approved')));
    if (paid.length >= m.numberOfInstallments) return { code: 'D2', detail: `all ${m.numberOfInstallments} instalments have been paid` };
  }
  return null;
}

export function registerSubmitRecurring(scope: App, ctx: SandboxContext): void {
  const db = ctx.database.db;
  postBoth(scope, '/Pay/SubmitRecurring', async (request, reply) => {
    const now = ctx.clock();
    const refused = checkHeaders(request);
    if (refused) return send(reply, refusalAnswer(refused, request.body, now, 'submit'));
    let req: SubmitRequest;
    try {
      req = parseSubmit(request.body);
    } catch (err) {
      if (err instanceof Refusal) return send(reply, refusalAnswer(err, request.body, now, 'submit'));
      throw err;
    }
    const sessionId = randomUUID();
    const transactionId = randomUUID();
    const claimed = await claim(db, { kind: 'SubmitRecurring', traceId: req.traceId, amountCents: req.amountCents, paymentToken: req.paymentToken, status: 'processing', sessionId, transactionId }, now);
    if (!claimed) return send(reply, await repeatAnswer(ctx, { kind: 'SubmitRecurring', traceId: req.traceId, echoData: req.echoData, amountCents: req.amountCents, paymentToken: req.paymentToken }));

    try {
      return await submitClaimed(req, sessionId, transactionId, now, reply);
    } catch (err) {
      // Nothing was charged (the charge's transaction rolled back): the traceId is free again.
      await db.delete(vodapayRequests).where(and(eq(vodapayRequests.id, transactionId), eq(vodapayRequests.status, 'processing')));
      throw err;
    }
  });

  async function submitClaimed(req: SubmitRequest, sessionId: string, transactionId: string, now: Date, reply: FastifyReply) {
    const base = { echoData: req.echoData, transmissionDateTime: transmissionDateTime(now, 'submit'), sessionId, transactionId, traceId: req.traceId };
    const [m] = await db.select().from(vodapayMandates).where(eq(vodapayMandates.paymentToken, req.paymentToken)).limit(1);
    const [t] = await db.select().from(sandboxTokens).where(and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, req.paymentToken))).limit(1);
    const refusal = await mandateRefusal(ctx, req, m, t, now);
    if (refusal) {
      const data: ResponseData = { ...base, responseCode: refusal.code, responseMessage: messageOf(refusal.code, refusal.detail), paymentToken: req.paymentToken };
      await finish(db, transactionId, data, now);
      return send(reply, answer(data));
    }
    const card = t!;
    const [earlier] =
      card.outcome === 'unavailable_once'
        ? await db.select({ id: sandboxTransactions.id }).from(sandboxTransactions).where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.token, req.paymentToken), inArray(sandboxTransactions.status, ['unavailable']))).limit(1)
        : [];
    const result = chargeResult(card.outcome, req.amountCents, earlier !== undefined);
    const rrn = newRetrievalReference();
    const behaviour = await behaviourNow(ctx);
    const data: ResponseData = { ...base, responseCode: result.code, responseMessage: messageOf(result.code), paymentToken: req.paymentToken };
    const notice = await ctx.database.transaction(async ({ db: tx }) => {
      await tx.insert(sandboxTransactions).values({
        id: transactionId, provider: PROVIDER, merchantReference: req.traceId, sessionId, token: req.paymentToken, kind: 'token',
        amountCents: result.ledger === 'approved' ? result.approvedCents : req.amountCents, status: result.ledger, resultCode: result.code, resultDescription: messageOf(result.code),
        cardBin: card.cardBin, cardLast4: card.cardLast4, details: { kind: 'SubmitRecurring', requestedCents: req.amountCents, retrievalReferenceNumber: rrn }, createdAt: now,
      });
      await finish(tx, transactionId, data, now);
      if (!req.notificationUrl) return null;
      const body = noticeBody(
        {
          traceId: req.traceId, transactionId, sessionId, echoData: req.echoData, responseCode: result.code, responseMessage: data.responseMessage, amount: result.approvedCents, paymentToken: req.paymentToken,
          card: { bin: card.cardBin, last4: card.cardLast4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear }, retrievalReferenceNumber: rrn, kind: 'SubmitRecurring',
        },
        now,
      );
      return storeNotice(tx, req.notificationUrl, body, behaviour);
    });
    deliverNotice(ctx, notice);
    // A slow gateway (PAYRAIL_SANDBOX_ANSWER_DELAY_MS): the charge is made, the answer comes later.
    if (ctx.config.sandboxes.answerDelayMs > 0) await new Promise((r) => setTimeout(r, ctx.config.sandboxes.answerDelayMs));
    if (card.outcome === 'lost_response' && result.ledger === 'approved') return loseResponse(reply, ctx.config.sandboxes.lostResponseAfterMs);
    return send(reply, answer(data));
  }
}
