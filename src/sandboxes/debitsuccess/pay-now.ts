import { randomUUID } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import type { Executor } from '../../db/client.ts';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { renderMessagePage } from '../kit/pages.ts';
import { sandboxSessions, sandboxTransactions } from '../kit/schema.ts';
import { behaviourNow } from './behaviour.ts';
import { checkBank, checkCard, type Detail } from './detail-check.ts';
import { TOKEN_LIFETIME_MS, type TokenParams } from './get-payment-token.ts';
import { DEBITSUCCESS_SANDBOX_MERCHANT as MERCHANT, PROVIDER, rand } from './merchant.ts';
import { renderPayNow } from './page.ts';
import { debitsuccessAccounts } from './schema.ts';
import { facilityWebhookUrl, kickWebhooks, storeWebhooks, type Webhook } from './webhooks.ts';

/**
 * The PayNow form, `GET|POST /PayNow/T/{token}` (the PaymentFormURL). The token is used once: the first GET
 * starts the operation and a second GET answers TokenExpired; the form may then be submitted (a rejected
 * field shows the form again) for 10 minutes. A token not opened within its 10 minutes, or used, sends the
 * customer to the CallbackURL with TokenExpired and creates nothing.
 */
type Session = typeof sandboxSessions.$inferSelect;
export type CallbackStatus = 'Success' | 'Declined' | 'Error' | 'AccountIsNotValid' | 'Failure' | 'TokenExpired';

const paramsOf = (s: Session): TokenParams => s.params as TokenParams;

/** Until when the token can still be used: 10 minutes from issue to open, then 10 minutes from open to submit. */
export function usableUntil(s: Session): Date {
  const started = paramsOf(s).startedAt;
  return started ? new Date(new Date(started).getTime() + TOKEN_LIFETIME_MS) : (s.expiresAt ?? new Date(0));
}
const usable = (s: Session, now: Date): boolean => s.status === 'open' && usableUntil(s) > now;

/** The CallbackURL with the seed's fields in the seed's order, `%20` for spaces as in its example. */
export function callbackUrl(base: string, f: { Status: string; Token: string; AccountReferenceNo: string; ExternalAccountReferenceNo: string; Message: string }): string {
  const query = Object.entries(f).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

const RESULTS = {
  approve: { status: 'approved', code: '00', description: 'Approved' },
  decline: { status: 'declined', code: '05', description: 'DO NOT HONOUR' },
  insufficient_funds: { status: 'declined', code: '51', description: 'INSUFFICIENT FUNDS' },
  unavailable: { status: 'unavailable', code: '91', description: 'Issuer or switch inoperative' },
} as const;

export function registerPayNow(scope: App, ctx: SandboxContext): void {
  const db = ctx.database.db;
  const action = (token: string) => `${scope.prefix}/PayNow/T/${token}`;
  const find = async (token: string): Promise<Session | null> => {
    const [row] = /^[A-Za-z0-9]{8}$/.test(token) ? await db.select().from(sandboxSessions).where(and(eq(sandboxSessions.provider, PROVIDER), eq(sandboxSessions.id, token))).limit(1) : [];
    return row ?? null;
  };
  const notFound = (reply: FastifyReply) => reply.status(404).type('text/html; charset=utf-8').send(renderMessagePage('Debitsuccess', 'Link not found', 'This payment link does not exist.'));
  const expired = async (reply: FastifyReply, s: Session) => {
    // A link opened a second time answers TokenExpired; the page first opened may still be submitted.
    if (!usable(s, ctx.clock())) await db.update(sandboxSessions).set({ status: 'expired', updatedAt: ctx.clock() }).where(and(eq(sandboxSessions.id, s.id), eq(sandboxSessions.status, 'open')));
    const status = (await behaviourNow(ctx)).tokenExpiredStatus;
    return reply.redirect(callbackUrl(paramsOf(s).CallbackURL, { Status: status, Token: s.id, AccountReferenceNo: '', ExternalAccountReferenceNo: '', Message: '' }), 302);
  };
  /** Starts the operation: from now on the link is used. False when another request started it first. */
  const start = async (s: Session, now: Date): Promise<boolean> => {
    const rows = await db
      .update(sandboxSessions)
      .set({ params: sql`${sandboxSessions.params} || ${JSON.stringify({ startedAt: now.toISOString() })}::jsonb`, updatedAt: now })
      .where(and(eq(sandboxSessions.id, s.id), eq(sandboxSessions.status, 'open'), isNull(sql`${sandboxSessions.params}->>'startedAt'`)))
      .returning({ id: sandboxSessions.id });
    return rows.length === 1;
  };
  const methodsOf = (p: TokenParams): ('CreditCard' | 'BankAccount')[] =>
    p.RequestType === 'RealTimePayment' || p.PayMethodType === 'CreditCard' ? ['CreditCard'] : p.PayMethodType === 'BankAccount' ? ['BankAccount'] : ['CreditCard', 'BankAccount'];
  const page = (reply: FastifyReply, code: number, s: Session, error: string | null) => {
    const p = paramsOf(s);
    return reply
      .status(code)
      .type('text/html; charset=utf-8')
      .send(renderPayNow({ action: action(s.id), requestType: p.RequestType, methods: methodsOf(p), amountCents: s.amountCents, accountReferenceNo: p.AccountReferenceNo, offerSave: p.AllowSavePayMethod !== false, hideBranding: p.HideBranding, error }));
  };

  scope.get('/PayNow/T/:token', async (request, reply) => {
    const s = await find((request.params as { token: string }).token);
    if (!s) return notFound(reply);
    const now = ctx.clock();
    if (!usable(s, now) || paramsOf(s).startedAt || !(await start(s, now))) return expired(reply, s);
    return page(reply, 200, s, null);
  });

  scope.post('/PayNow/T/:token', async (request, reply) => {
    const s = await find((request.params as { token: string }).token);
    if (!s) return notFound(reply);
    const now = ctx.clock();
    // A form posted without the page having been opened starts the operation itself.
    if (!usable(s, now) || (!paramsOf(s).startedAt && !(await start(s, now)))) return expired(reply, s);
    const p = paramsOf(s);
    const form = Object.fromEntries(Object.entries((request.body ?? {}) as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const methods = methodsOf(p);
    const method = methods.length === 1 ? methods[0] : methods.find((m) => m === form.pay_method);
    if (!method) return page(reply, 400, s, 'Choose a card or a bank account.');
    const check = method === 'CreditCard' ? checkCard(form, now) : checkBank(form);
    if (!check.ok) return page(reply, 400, s, check.message);
    const save = p.RequestType === 'UpdatePaymentDetail' || (form.save_card === '1' && p.AllowSavePayMethod !== false);
    const url = await facilityWebhookUrl(ctx);
    const outcome = await ctx.database.transaction(async ({ db: tx }) => {
      const [claimed] = await tx.update(sandboxSessions).set({ status: 'completed', updatedAt: now }).where(and(eq(sandboxSessions.id, s.id), eq(sandboxSessions.status, 'open'))).returning({ id: sandboxSessions.id });
      if (!claimed) return null;
      return complete(ctx, tx, url, s, check.detail, save, now);
    });
    if (!outcome) return expired(reply, s);
    kickWebhooks(ctx);
    return reply.redirect(callbackUrl(p.CallbackURL, { Status: outcome.status, Token: s.id, AccountReferenceNo: p.AccountReferenceNo, ExternalAccountReferenceNo: p.ExternalAccountReferenceNo, Message: outcome.message }), 302);
  });
}

/** What a submitted form does: the payment (ledger), the stored detail, the webhooks; and the callback's Status and Message. */
async function complete(ctx: SandboxContext, tx: Executor, url: string, s: Session, detail: Detail, save: boolean, now: Date): Promise<{ status: CallbackStatus; message: string }> {
  const p = paramsOf(s);
  const webhooks: Webhook[] = [];
  let status: CallbackStatus;
  let message = '';
  let stores = false;
  if (p.RequestType === 'RealTimePayment' && detail.kind === 'CreditCard') {
    const result = RESULTS[detail.result];
    const amount = s.amountCents ?? 0;
    const id = randomUUID();
    await tx.insert(sandboxTransactions).values({
      id, provider: PROVIDER, merchantReference: s.id, sessionId: s.id, kind: 'hosted', amountCents: amount, status: result.status, resultCode: result.code, resultDescription: result.description,
      cardLast4: detail.last4, details: { requestType: p.RequestType, accountReference: p.AccountReferenceNo, createOneOffCharge: p.CreateOneOffCharge, paymentNote: p.PaymentNote }, createdAt: now,
    });
    await tx.update(sandboxSessions).set({ transactionId: id }).where(eq(sandboxSessions.id, s.id));
    status = result.status === 'approved' ? 'Success' : result.status === 'declined' ? 'Declined' : 'Error';
    if (status === 'Declined') message = result.description;
    if (result.status === 'approved' && !p.CreateOneOffCharge) {
      // Without a one-off charge the payment goes to the account's balance.
      await tx.update(debitsuccessAccounts).set({ balanceCents: sql`${debitsuccessAccounts.balanceCents} - ${amount}`, updatedAt: now }).where(eq(debitsuccessAccounts.accountReferenceNo, p.AccountReferenceNo));
    }
    if (result.status !== 'unavailable') {
      const approved = result.status === 'approved';
      webhooks.push({
        headers: { 'X-Token': MERCHANT.webhookXToken, 'X-EventName': approved ? 'Realtime.Account.Payment.Authorized' : 'Realtime.Account.Payment.Declined', 'X-TraceId': randomUUID() },
        body: { ExternalTransactionIdentifier: s.id, Amount: Number(rand(amount)), AccountReference: p.AccountReferenceNo, ContractPrefix: MERCHANT.contractPrefix, DeclinedReason: approved ? null : result.description },
      });
    }
    stores = save && result.status === 'approved';
  } else if (detail.kind === 'CreditCard') {
    // Capturing a card charges nothing: only Debitsuccess's REFUSED test card is refused. payrail's test cards
    // are stored with their outcome, which the card charges (card-charges.ts) answer.
    status = detail.refused ? 'Failure' : 'Success';
    stores = status === 'Success';
  } else {
    status = detail.result === 'invalid' ? 'AccountIsNotValid' : detail.result === 'load_fails' ? 'Failure' : 'Success';
    stores = status === 'Success';
  }
  if (stores) {
    // storedByToken: which form stored it, for GetAccountPaymentDetail (account-detail.ts). cardResult: what
    // charging the card does (card-charges.ts).
    const details = { ...(detail.kind === 'CreditCard' ? { holder: detail.holder, expiry: detail.expiry, cardResult: detail.result } : { holder: detail.holder, bank: detail.bank, branchCode: detail.branchCode, accountType: detail.accountType }), storedByToken: s.id };
    await tx
      .update(debitsuccessAccounts)
      .set({ payMethodType: detail.kind, payMethodToken: randomUUID(), payMethodLast4: detail.last4, payMethodDetails: details, bankOutcome: detail.kind === 'BankAccount' ? detail.result : null, updatedAt: now })
      .where(eq(debitsuccessAccounts.accountReferenceNo, p.AccountReferenceNo));
  }
  webhooks.unshift({ body: { WebhookToken: p.WebhookToken, AccountReferenceNo: p.AccountReferenceNo, ExternalAccountReferenceNo: p.ExternalAccountReferenceNo, Status: status, Message: message } });
  await storeWebhooks(ctx, tx, url, webhooks, now);
  return { status, message };
}
