import { and, eq } from 'drizzle-orm';
import type { SandboxContext } from '../kit/kit.ts';
import type { App } from '../../http/route-kit.ts';
import { checkCardForm, tokenRowOf, type AcceptedCard } from '../kit/cards.ts';
import type { LedgerRow } from '../kit/kit.ts';
import { renderAutoPostPage, renderMessagePage } from '../kit/pages.ts';
import { sandboxSessions, sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import { checkoutPage, closedPage } from './checkout.ts';
import { armLateSuccess } from './late-success.ts';
import {
  DECLINES,
  PROVIDER,
  RESULTS,
  brandOf,
  checkoutFields,
  html,
  loadCheckout,
  newId,
  paramsOf,
  sandboxMerchant,
  stateOf,
  stringFields,
  type PaymentDetails,
  type SessionRow,
} from './shared.ts';
import { sendWebhook } from './webhook.ts';

const TITLE = 'Peach Payments';

type Submitted =
  | { kind: 'closed'; session: SessionRow }
  | { kind: 'unavailable' }
  | { kind: 'paid'; session: SessionRow; payment: LedgerRow; lost: boolean };

/**
 * `POST /checkout/{checkoutId}`: the shopper pays. A checkout is one attempt: approved, declined or (card
 * …0077) cancelled-for-now, it is completed. Then, as Peach does (seed 000), the browser is sent back to
 * shopperResultUrl with a form POST — always that URL, even after a decline — and the same fields go to
 * notificationUrl as a webhook (webhook.ts).
 */
export function payRoutes(scope: App, ctx: SandboxContext): void {
  scope.post('/checkout/:checkoutId', async (request, reply) => {
    const found = await loadCheckout(ctx, (request.params as { checkoutId: string }).checkoutId);
    const closed = closedPage(found, ctx.clock(), 409);
    if (closed) return html(reply, closed.status, closed.body);
    const session = found!;
    const form = stringFields(request.body) ?? {};
    const check = checkCardForm(form, ctx.clock());
    if (!check.ok) return html(reply, 400, checkoutPage(session, check.message));

    const saveCard = paramsOf(session).createRegistration === 'true' && form.save_card !== undefined && form.save_card !== '';
    const submitted = await submit(ctx, session.id, check.card, saveCard);
    if (submitted.kind === 'closed') {
      const page = closedPage(submitted.session, ctx.clock(), 409);
      return html(reply, page?.status ?? 409, page?.body ?? '');
    }
    if (submitted.kind === 'unavailable') {
      return html(reply, 503, renderMessagePage(TITLE, 'Service unavailable', 'The payment could not be processed just now. Nothing was charged: please try again.'));
    }
    if (submitted.lost) {
      // Test card …0119: charged, but the shopper never comes back and no webhook is sent.
      return html(reply, 200, renderMessagePage(TITLE, 'Connection lost', 'The connection to the merchant was lost.'));
    }
    const merchant = sandboxMerchant(ctx);
    const result = { code: submitted.payment.resultCode, description: submitted.payment.resultDescription };
    const fields = checkoutFields(submitted.session, submitted.payment, result, ctx.clock(), merchant.secret_token);
    const params = paramsOf(submitted.session);
    if (params.notificationUrl) await sendWebhook(ctx, params.notificationUrl, fields);
    if (submitted.payment.status === 'pending') armLateSuccess(ctx, submitted.payment.id);
    return html(reply, 200, renderAutoPostPage(params.shopperResultUrl ?? '', fields));
  });
}

/**
 * Records the attempt in one transaction with the checkout locked, so a double submit pays once.
 * Test card …0259 makes the first submit of a checkout fail with 503 (nothing charged). Card …0077 ends
 * the checkout "Cancelled by user" with its payment pending (late-success.ts) and stores no card.
 * A merchantTransactionId seen before is not looked at: Peach publishes no refusal of a repeated one.
 */
async function submit(ctx: SandboxContext, checkoutId: string, card: AcceptedCard, saveCard: boolean): Promise<Submitted> {
  const now = ctx.clock();
  return ctx.database.db.transaction(async (tx) => {
    const [session] = await tx.select().from(sandboxSessions).where(eq(sandboxSessions.id, checkoutId)).for('update');
    if (!session || stateOf(session, now) !== 'open') return { kind: 'closed', session: session! };
    const common = {
      provider: PROVIDER,
      merchantReference: session.merchantReference,
      sessionId: session.id,
      kind: 'hosted',
      amountCents: session.amountCents ?? 0,
      currency: session.currency,
      cardBin: card.bin,
      cardLast4: card.last4,
      createdAt: now,
    };
    if (card.outcome === 'unavailable_once') {
      const earlier = await tx
        .select({ id: sandboxTransactions.id })
        .from(sandboxTransactions)
        .where(and(eq(sandboxTransactions.sessionId, session.id), eq(sandboxTransactions.status, 'unavailable')))
        .limit(1);
      if (earlier.length === 0) {
        await tx.insert(sandboxTransactions).values({ ...common, id: newId(), status: 'unavailable', resultCode: RESULTS.unavailable.code, resultDescription: RESULTS.unavailable.description });
        return { kind: 'unavailable' };
      }
    }
    const decline = card.outcome === 'decline' || card.outcome === 'insufficient_funds' ? DECLINES[card.outcome] : null;
    const lateSuccess = card.outcome === 'cancel_then_success';
    const registrationId = !decline && !lateSuccess && saveCard ? newId() : undefined;
    const details: PaymentDetails = {
      paymentType: paramsOf(session).paymentType ?? 'DB',
      paymentBrand: brandOf(card.bin),
      holder: card.holder,
      expiryMonth: card.expiryMonth,
      expiryYear: card.expiryYear,
      ...(registrationId ? { registrationId } : {}),
      ...(lateSuccess ? { lateSuccess } : {}),
    };
    const [status, result] = decline ? (['declined', decline] as const) : lateSuccess ? (['pending', RESULTS.cancelled] as const) : (['approved', RESULTS.approved] as const);
    const [payment] = await tx
      .insert(sandboxTransactions)
      .values({ ...common, id: newId(), status, resultCode: result.code, resultDescription: result.description, details })
      .returning();
    if (registrationId) {
      await tx.insert(sandboxTokens).values(tokenRowOf(card, { value: registrationId, provider: PROVIDER, notifyUrl: paramsOf(session).notificationUrl ?? null, now }));
    }
    const [completed] = await tx
      .update(sandboxSessions)
      .set({ status: 'completed', transactionId: payment!.id, updatedAt: now })
      .where(eq(sandboxSessions.id, session.id))
      .returning();
    return { kind: 'paid', session: completed!, payment: payment!, lost: card.outcome === 'lost_response' };
  });
}
