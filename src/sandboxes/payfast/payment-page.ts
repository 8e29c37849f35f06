import { randomUUID } from 'node:crypto';
import { eq, and } from 'drizzle-orm';
import type { SandboxContext } from '../kit/kit.ts';
import type { App } from '../../http/route-kit.ts';
import { checkCardForm, tokenRowOf } from '../kit/cards.ts';
import { renderCardPage } from '../kit/pages.ts';
import { sandboxSessions, sandboxTokens } from '../kit/schema.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { bodyFields, httpUrl, money, sendHtml, sendMessage, UUID } from './http.ts';
import { behaviourNow, merchantNotifyUrl } from './behaviour.ts';
import { paymentItn, sendItn } from './itn.ts';
import { hadUnavailable, isOpen, paymentSession, PROVIDER, record, RESULTS, transaction, type SessionRow } from './store.ts';

/**
 * The hosted payment page, `GET|POST /eng/process/payment/{uuid}`. One card submission settles a page: an
 * approval or a decline completes it (the ITN has told the merchant, so the outcome is final for that
 * m_payment_id); only test card …0259's 503 leaves it open for another try. Pages are not deduplicated on
 * m_payment_id: two pages of one m_payment_id can both be paid, as nothing published says PayFast refuses that.
 */

type Page = { ok: true; session: SessionRow; params: Record<string, string> } | { ok: false; status: number; title: string; message: string };

async function openPage(ctx: SandboxContext, id: string, now: Date): Promise<Page> {
  const session = UUID.test(id) ? await paymentSession(ctx, id) : null;
  if (!session) return { ok: false, status: 404, title: 'Payment not found', message: 'This payment page does not exist.' };
  if (session.status === 'completed') {
    const txn = session.transactionId ? await transaction(ctx, session.transactionId) : null;
    return txn?.status === 'declined'
      ? { ok: false, status: 410, title: 'Payment declined', message: 'This payment was declined. Return to the merchant to try again.' }
      : { ok: false, status: 410, title: 'Payment complete', message: 'This payment has already been made.' };
  }
  if (!isOpen(session, now)) return { ok: false, status: 410, title: 'Payment expired', message: 'This payment link has expired or was cancelled.' };
  return { ok: true, session, params: session.params as Record<string, string> };
}

export function registerPaymentPage(scope: App, ctx: SandboxContext): void {
  const prefix = scope.prefix;
  const db = ctx.database.db;
  const render = (session: SessionRow, params: Record<string, string>, error: string | null): string =>
    renderCardPage({
      provider: 'PayFast',
      title: 'Pay with card',
      summary: [['Merchant', `Test Merchant (${MERCHANT.merchantId})`], ['Item', params.item_name ?? ''], ['Amount', money(session.amountCents ?? 0)]],
      action: `${prefix}/eng/process/payment/${session.id}`,
      error,
      cancelUrl: httpUrl(params.cancel_url),
      submitLabel: `Pay ${money(session.amountCents ?? 0)}`,
    });

  scope.get('/eng/process/payment/:id', async (request, reply) => {
    const page = await openPage(ctx, (request.params as { id: string }).id, ctx.clock());
    if (!page.ok) return sendMessage(reply, page.status, page.title, page.message);
    return sendHtml(reply, 200, render(page.session, page.params, null));
  });

  scope.post('/eng/process/payment/:id', async (request, reply) => {
    const now = ctx.clock();
    const page = await openPage(ctx, (request.params as { id: string }).id, now);
    if (!page.ok) return sendMessage(reply, page.status, page.title, page.message);
    const { session, params } = page;
    const check = checkCardForm(bodyFields(request.body) ?? {}, now);
    if (!check.ok) return sendHtml(reply, 400, render(session, params, check.message));
    const card = check.card;
    const row = { merchantReference: session.merchantReference, sessionId: session.id, kind: 'hosted', amountCents: session.amountCents ?? 0, cardBin: card.bin, cardLast4: card.last4, details: { item_name: params.item_name } };
    const itnCard = { last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear };
    const behaviour = await behaviourNow(ctx);
    // A form without notify_url is reported to the merchant account's default notify URL, as PayFast does.
    const notifyUrl = params.notify_url ?? merchantNotifyUrl(ctx, behaviour);

    if (card.outcome === 'unavailable_once' && !(await hadUnavailable(ctx, { sessionId: session.id }))) {
      await record(ctx, { ...row, status: 'unavailable', resultCode: RESULTS.unavailable.code, resultDescription: RESULTS.unavailable.description });
      return sendHtml(reply, 503, render(session, params, 'PayFast is temporarily unavailable and nothing was charged. Please try again.'));
    }
    // Claim the page before charging: two submissions of one page can never both charge.
    const [claimed] = await db
      .update(sandboxSessions)
      .set({ status: 'completed', updatedAt: now })
      .where(and(eq(sandboxSessions.id, session.id), eq(sandboxSessions.status, 'open')))
      .returning({ id: sandboxSessions.id });
    if (!claimed) return sendMessage(reply, 409, 'Payment in progress', 'This payment has already been submitted.');

    if (card.outcome === 'decline' || card.outcome === 'insufficient_funds') {
      const result = RESULTS[card.outcome];
      const declined = await record(ctx, { ...row, status: 'declined', resultCode: result.code, resultDescription: result.description });
      await db.update(sandboxSessions).set({ transactionId: declined.id }).where(eq(sandboxSessions.id, session.id));
      await sendItn(ctx, behaviour, notifyUrl, paymentItn({ params, txn: declined, status: 'FAILED', card: itnCard }));
      const cancel = httpUrl(params.cancel_url);
      return sendMessage(reply, 200, 'Payment declined', `Your card was declined: ${result.description}. Nothing was charged.`, cancel ? { href: cancel, label: 'Return to the merchant' } : null);
    }

    const approved = await record(ctx, { ...row, status: 'approved', resultCode: RESULTS.approved.code, resultDescription: RESULTS.approved.description });
    await db.update(sandboxSessions).set({ transactionId: approved.id }).where(eq(sandboxSessions.id, session.id));
    let token: { value: string; billingDate: string } | undefined;
    if (params.subscription_type === '2') {
      token = { value: randomUUID(), billingDate: now.toISOString().slice(0, 10) };
      await db.insert(sandboxTokens).values(tokenRowOf(card, { value: token.value, provider: PROVIDER, notifyUrl: params.notify_url ?? null, now }));
    }
    await sendItn(ctx, behaviour, notifyUrl, paymentItn({ params, txn: approved, status: 'COMPLETE', card: itnCard, ...(token ? { token } : {}) }));
    if (card.outcome === 'lost_response') {
      return sendMessage(reply, 200, 'Connection lost', 'Your payment went through, but the connection to the merchant was lost. Do not pay again: the merchant will be told.');
    }
    const back = httpUrl(params.return_url);
    return back ? reply.redirect(back, 302) : sendMessage(reply, 200, 'Payment successful', 'Thank you: your payment was successful.');
  });
}
