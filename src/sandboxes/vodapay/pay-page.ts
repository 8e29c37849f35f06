import { randomUUID } from 'node:crypto';
import { and, eq, gt } from 'drizzle-orm';
import type { FastifyError, FastifyReply } from 'fastify';
import type { App } from '../../http/route-kit.ts';
import { checkCardForm } from '../kit/cards.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { renderMessagePage } from '../kit/pages.ts';
import { sandboxSessions, sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import { behaviourNow } from './behaviour.ts';
import { cardExpired, chargeResult, monthsOfValidity, VODAPAY_CARDS } from './charge.ts';
import { messageOf, newPaymentToken, newRetrievalReference, PROVIDER, transmissionDateTime, VODAPAY_SANDBOX_MERCHANT, type Code, type ResponseData } from './merchant.ts';
import { deliverNotice, noticeBody, storeNotice } from './notify.ts';
import { renderPayPage } from './page.ts';
import { todayInSouthAfrica } from './recurring-request.ts';
import type { SessionParams } from './recurring.ts';
import { expireIfDue, findRequest, finish } from './requests.ts';
import { vodapayMandates } from './schema.ts';

/**
 * The payment page, `GET|POST /sandbox/vodapay-pay/pay?sessionId=…` (the initiationUrl). Pay charges the first
 * payment (`amount`) to the card and, approved, makes the recurring payment token holding the mandate; Cancel
 * ends the session (17). Either way the notification is stored with the result and the browser is sent (303)
 * to callbackUrl with `data=<base64 JSON>`. A card that expires too soon for the mandate is refused on the
 * page, as is a bad form: nothing is charged and the customer may try again.
 */
type Session = typeof sandboxSessions.$inferSelect;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const html = (reply: FastifyReply, status: number, body: string) => reply.status(status).type('text/html; charset=utf-8').send(body);
const message = (reply: FastifyReply, status: number, title: string, text: string) => html(reply, status, renderMessagePage('VodaPay', title, text));

/** The callbackUrl with `data` appended: base64 of the JSON result (standard alphabet, URL-encoded). */
export function callbackLocation(callbackUrl: string, d: { responseCode: string; responseMessage: string; echoData: string | null; transactionId: string; retrievalReferenceNumber: string | null; traceId: string }): string {
  const data = Buffer.from(JSON.stringify({ responseCode: d.responseCode, responseMessage: d.responseMessage, echoData: d.echoData, transactionId: d.transactionId, retrievalReferenceNumber: d.retrievalReferenceNumber, traceId: d.traceId }), 'utf8').toString('base64');
  return `${callbackUrl}${callbackUrl.includes('?') ? '&' : '?'}data=${encodeURIComponent(data)}`;
}

export function registerPayPage(scope: App, ctx: SandboxContext): void {
  const db = ctx.database.db;
  scope.setErrorHandler((error: FastifyError & { status?: number }, request, reply) => {
    const status = error.statusCode ?? error.status ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'VodaPay sandbox page failed');
    return message(reply, status >= 500 ? 500 : 400, status >= 500 ? 'Something went wrong' : 'Bad request', status >= 500 ? 'The sandbox failed; the error has been logged.' : 'The form could not be read.');
  });
  const action = (id: string) => `${scope.prefix}/pay?sessionId=${id}`;
  const find = async (id: unknown): Promise<Session | null> => {
    if (typeof id !== 'string' || !UUID.test(id)) return null;
    const [row] = await db.select().from(sandboxSessions).where(and(eq(sandboxSessions.provider, PROVIDER), eq(sandboxSessions.id, id))).limit(1);
    return row ?? null;
  };
  const validFrom = (p: SessionParams, now: Date) => p.request.recurring.firstPaymentDate ?? todayInSouthAfrica(now);
  const page = (reply: FastifyReply, status: number, s: Session, error: string | null) => {
    const p = s.params as SessionParams;
    return html(reply, status, renderPayPage({ action: action(s.id), request: p.request, validFrom: validFrom(p, ctx.clock()), error }));
  };
  /** The session if it can still be paid; else the page that says why (and an expired one is recorded as such). */
  const usable = async (reply: FastifyReply, id: unknown): Promise<Session | FastifyReply> => {
    const s = await find(id);
    if (!s) return message(reply, 404, 'Payment not found', 'This payment link does not exist.');
    const now = ctx.clock();
    if (s.status === 'completed') return message(reply, 409, 'Payment complete', 'This payment has already been made.');
    if (s.status === 'cancelled') return message(reply, 410, 'Payment cancelled', 'This payment was cancelled.');
    if (s.status === 'expired' || (s.expiresAt !== null && s.expiresAt <= now)) {
      const row = await findRequest(db, s.merchantReference ?? '');
      if (row) await expireIfDue(ctx, row, now);
      return message(reply, 410, 'Payment expired', 'This payment session has expired. Please return to the merchant and start again.');
    }
    return s;
  };

  scope.get('/pay', async (request, reply) => {
    const s = await usable(reply, (request.query as Record<string, unknown>).sessionId);
    return 'params' in s ? page(reply, 200, s, null) : s;
  });

  scope.post('/pay', async (request, reply) => {
    const s = await usable(reply, (request.query as Record<string, unknown>).sessionId);
    if (!('params' in s)) return s;
    const now = ctx.clock();
    const p = s.params as SessionParams;
    const form = Object.fromEntries(Object.entries((request.body ?? {}) as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    if (form.action === 'cancel') return finishPage(reply, s, { code: '17' }, now);

    const check = checkCardForm(form, now);
    if (!check.ok) return page(reply, 400, s, check.message);
    const card = check.card;
    const outcome = VODAPAY_CARDS[(form.card_number ?? '').replace(/[\s-]/g, '')] ?? card.outcome;
    const from = validFrom(p, now);
    const months = monthsOfValidity(from, card.expiryMonth, card.expiryYear);
    if (months < p.request.recurring.validityMonths || cardExpired(card.expiryMonth, card.expiryYear, now)) {
      return page(reply, 400, s, `This card expires too soon: it must be valid for at least ${p.request.recurring.validityMonths} month(s) from ${from}. Nothing was charged; please use another card.`);
    }
    if (outcome === 'unavailable_once') {
      const [earlier] = await db.select({ id: sandboxTransactions.id }).from(sandboxTransactions).where(and(eq(sandboxTransactions.sessionId, s.id), eq(sandboxTransactions.status, 'unavailable'))).limit(1);
      if (!earlier) {
        await db.insert(sandboxTransactions).values({
          id: randomUUID(), provider: PROVIDER, merchantReference: p.request.traceId, sessionId: s.id, kind: 'hosted', amountCents: p.request.amountCents,
          status: 'unavailable', resultCode: '91', resultDescription: messageOf('91'), cardBin: card.bin, cardLast4: card.last4, details: { kind: 'Recurring' }, createdAt: now,
        });
        return page(reply, 503, s, 'VodaPay could not reach your bank (91) and nothing was charged. Please try again.');
      }
    }
    return finishPage(reply, s, { code: null, card: { ...card, outcome } }, now);
  });

  /** Pays (code null: by the card's outcome) or cancels the session, once: a second submit finds it completed. */
  async function finishPage(reply: FastifyReply, s: Session, how: { code: Code; card?: undefined } | { code: null; card: { outcome: string; bin: string; last4: string; expiryMonth: number; expiryYear: number; holder: string } }, now: Date) {
    const p = s.params as SessionParams;
    const r = p.request;
    const behaviour = await behaviourNow(ctx);
    const done = await ctx.database.transaction(async ({ db: tx }) => {
      const [claimed] = await tx
        .update(sandboxSessions)
        .set({ status: how.code === '17' ? 'cancelled' : 'completed', updatedAt: now })
        .where(and(eq(sandboxSessions.id, s.id), eq(sandboxSessions.status, 'open'), gt(sandboxSessions.expiresAt, now)))
        .returning({ id: sandboxSessions.id });
      if (!claimed) return null;
      const card = how.card;
      const result = card ? chargeResult(card.outcome, r.amountCents, true) : { code: how.code!, ledger: null, approvedCents: 0 };
      const rrn = card ? newRetrievalReference() : null;
      const approved = result.ledger === 'approved';
      const paymentToken = approved ? newPaymentToken() : undefined;
      if (card) {
        await tx.insert(sandboxTransactions).values({
          id: p.transactionId, provider: PROVIDER, merchantReference: r.traceId, sessionId: s.id, kind: 'hosted',
          amountCents: approved ? result.approvedCents : r.amountCents, status: result.ledger!, resultCode: result.code, resultDescription: messageOf(result.code),
          cardBin: card.bin, cardLast4: card.last4, details: { kind: 'Recurring', requestedCents: r.amountCents, retrievalReferenceNumber: rrn, paymentToken: paymentToken ?? null }, createdAt: now,
        });
        await tx.update(sandboxSessions).set({ transactionId: p.transactionId }).where(eq(sandboxSessions.id, s.id));
      }
      if (card && paymentToken) {
        await tx.insert(sandboxTokens).values({
          token: paymentToken, provider: PROVIDER, outcome: card.outcome, cardBin: card.bin, cardLast4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear,
          holder: card.holder, notifyUrl: r.notificationUrl, createdAt: now, updatedAt: now,
        });
        const m = r.recurring;
        await tx.insert(vodapayMandates).values({
          paymentToken, merchant: VODAPAY_SANDBOX_MERCHANT.apiKey, customerId: r.customerId, digitalWalletId: r.digitalWalletId, traceId: r.traceId, sessionId: s.id,
          category: m.category, frequency: m.frequency, regularPaymentDay: m.regularPaymentDay, amountCents: m.amountCents ?? r.amountCents, amountLimitCents: m.amountLimitCents,
          firstPaymentDate: m.firstPaymentDate, lastPaymentDate: m.lastPaymentDate, numberOfInstallments: m.numberOfInstallments, validityMonths: m.validityMonths, createdAt: now, updatedAt: now,
        });
      }
      const data: ResponseData = {
        echoData: r.echoData, responseCode: result.code, responseMessage: messageOf(result.code), transmissionDateTime: transmissionDateTime(now, 'initiate'),
        sessionId: s.id, transactionId: p.transactionId, traceId: r.traceId, ...(paymentToken ? { paymentToken } : {}),
      };
      await finish(tx, p.transactionId, data, now);
      const notice = r.notificationUrl
        ? await storeNotice(
            tx,
            r.notificationUrl,
            noticeBody(
              {
                traceId: r.traceId, transactionId: p.transactionId, sessionId: s.id, echoData: r.echoData, responseCode: data.responseCode, responseMessage: data.responseMessage,
                amount: approved ? result.approvedCents : 0, ...(paymentToken ? { paymentToken } : {}),
                ...(card ? { card: { bin: card.bin, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear } } : {}),
                retrievalReferenceNumber: rrn, kind: 'Recurring',
              },
              now,
            ),
            behaviour,
          )
        : null;
      return { data, rrn, notice };
    });
    if (!done) return message(reply, 409, 'Payment already submitted', 'This payment has already been submitted.');
    deliverNotice(ctx, done.notice);
    const { data } = done;
    if (!r.callbackUrl) return message(reply, 200, data.responseCode === '00' || data.responseCode === '10' ? 'Payment successful' : 'Payment not completed', data.responseMessage);
    return reply.redirect(callbackLocation(r.callbackUrl, { ...data, transactionId: p.transactionId, traceId: r.traceId, retrievalReferenceNumber: done.rrn }), 303);
  }
}
