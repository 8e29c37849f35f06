import { and, eq } from 'drizzle-orm';
import type { SandboxContext } from '../kit/kit.ts';
import type { App } from '../../http/route-kit.ts';
import { renderCardPage, renderMessagePage } from '../kit/pages.ts';
import { formatRand, parseRand } from '../kit/kit.ts';
import { sandboxSessions } from '../kit/schema.ts';
import {
  CHECKOUT_TTL_MS,
  HEX32,
  PROVIDER,
  RESULTS,
  html,
  isWebUrl,
  loadCheckout,
  newId,
  paramsOf,
  peachError,
  sandboxMerchant,
  stateOf,
  stringFields,
  type SessionRow,
} from './shared.ts';
import { signatureMatches } from '../../providers/peach/signature.ts';

const TITLE = 'Peach Payments';

/**
 * Hosted Checkout, the provider's side: `POST /checkout/initiate` (JSON as Peach documents it, or a form),
 * the card page, and its Cancel link. Paying is in pay.ts.
 */
export function checkoutRoutes(scope: App, ctx: SandboxContext): void {
  scope.post('/checkout/initiate', async (request, reply) => {
    const fields = stringFields(request.body);
    if (!fields) return peachError(reply, 400, RESULTS.invalidParameter, [{ name: 'body', message: 'must be an object of string fields' }]);
    const errors = initiateErrors(fields);
    if (errors.length > 0) return peachError(reply, 400, RESULTS.invalidParameter, errors);
    const merchant = sandboxMerchant(ctx);
    if (fields['authentication.entityId'] !== merchant.entity_id || !signatureMatches(fields, merchant.secret_token)) {
      return peachError(reply, 401, RESULTS.unauthorised);
    }
    const now = ctx.clock();
    const checkoutId = newId();
    const { signature: _signature, ...params } = fields;
    await ctx.database.db.insert(sandboxSessions).values({
      id: checkoutId,
      provider: PROVIDER,
      kind: 'checkout',
      merchantReference: fields.merchantTransactionId,
      amountCents: parseRand(fields.amount),
      currency: 'ZAR',
      params,
      status: 'open',
      expiresAt: new Date(now.getTime() + CHECKOUT_TTL_MS),
      createdAt: now,
      updatedAt: now,
    });
    return { result: RESULTS.checkoutCreated, redirectUrl: `${ctx.config.publicUrl}/sandbox/peach/checkout/${checkoutId}`, checkoutId };
  });

  scope.get('/checkout/:checkoutId', async (request, reply) => {
    const session = await loadCheckout(ctx, (request.params as { checkoutId: string }).checkoutId);
    const closed = closedPage(session, ctx.clock(), 200);
    if (closed) return html(reply, closed.status, closed.body);
    return html(reply, 200, checkoutPage(session!, null));
  });

  // Cancel: the checkout ends unpaid (status answers 100.396.101) and the shopper goes to cancelUrl.
  scope.get('/checkout/:checkoutId/cancel', async (request, reply) => {
    const session = await loadCheckout(ctx, (request.params as { checkoutId: string }).checkoutId);
    const closed = closedPage(session, ctx.clock(), 409);
    if (closed) return html(reply, closed.status, closed.body);
    await ctx.database.db
      .update(sandboxSessions)
      .set({ status: 'cancelled', updatedAt: ctx.clock() })
      .where(and(eq(sandboxSessions.id, session!.id), eq(sandboxSessions.status, 'open')));
    const cancelUrl = paramsOf(session!).cancelUrl;
    if (cancelUrl) return reply.redirect(cancelUrl, 303);
    return html(reply, 200, renderMessagePage(TITLE, 'Payment cancelled', 'You cancelled this payment. You may close this page.'));
  });
}

/**
 * The page for a checkout that cannot be paid (unknown, completed, expired, cancelled), or null when it
 * can. Looking at a completed checkout again is fine (`completedStatus` 200); acting on one is a 409.
 */
export function closedPage(session: SessionRow | null, now: Date, completedStatus: number): { status: number; body: string } | null {
  if (!session) return { status: 404, body: renderMessagePage(TITLE, 'Checkout not found', 'There is no such checkout.') };
  const state = stateOf(session, now);
  if (state === 'completed') return { status: completedStatus, body: renderMessagePage(TITLE, 'Already completed', 'This checkout has been completed. You may close this page.') };
  if (state === 'expired') return { status: 410, body: renderMessagePage(TITLE, 'Checkout expired', 'This checkout expired. Go back to the merchant to start again.') };
  if (state === 'cancelled') return { status: 410, body: renderMessagePage(TITLE, 'Checkout cancelled', 'This checkout was cancelled.') };
  return null;
}

export function checkoutPage(session: SessionRow, error: string | null): string {
  const params = paramsOf(session);
  const tokenise = params.createRegistration === 'true';
  return renderCardPage({
    provider: TITLE,
    title: 'Pay by card',
    summary: [
      ['Reference', session.merchantReference ?? ''],
      ['Amount', `R ${formatRand(session.amountCents ?? 0)}`],
    ],
    action: `/sandbox/peach/checkout/${session.id}`,
    saveCard: tokenise,
    saveCardChecked: tokenise,
    error,
    cancelUrl: `/sandbox/peach/checkout/${session.id}/cancel`,
    submitLabel: `Pay R ${formatRand(session.amountCents ?? 0)}`,
  });
}

/** Every documented field of `POST /checkout/initiate`, as Peach validates it. */
function initiateErrors(f: Record<string, string>): { name: string; message: string }[] {
  const errors: { name: string; message: string }[] = [];
  const check = (name: string, ok: boolean, message: string, required = true) => {
    if (f[name] === undefined ? required : !ok) errors.push({ name, message: f[name] === undefined ? 'is required' : message });
  };
  const value = (name: string) => f[name] ?? '';
  check('authentication.entityId', HEX32.test(value('authentication.entityId')), 'must be 32 lower-case hex characters');
  check('merchantTransactionId', value('merchantTransactionId').length >= 8 && value('merchantTransactionId').length <= 16, 'must be 8 to 16 characters');
  check('amount', /^[0-9]{1,10}(\.[0-9]{2})?$/.test(value('amount')) && (parseRand(value('amount')) ?? 0) > 0, 'must be a positive amount with 2 decimals');
  check('paymentType', ['DB', 'PA'].includes(value('paymentType')), 'must be DB or PA');
  check('currency', value('currency') === 'ZAR', 'must be ZAR');
  check('nonce', value('nonce').length >= 1 && value('nonce').length <= 64, 'must be 1 to 64 characters');
  check('shopperResultUrl', isWebUrl(f.shopperResultUrl), 'must be an http(s) URL');
  check('cancelUrl', isWebUrl(f.cancelUrl), 'must be an http(s) URL', false);
  check('notificationUrl', isWebUrl(f.notificationUrl), 'must be an http(s) URL', false);
  check('createRegistration', ['true', 'false'].includes(value('createRegistration')), 'must be true or false', false);
  check('forceDefaultMethod', ['true', 'false'].includes(value('forceDefaultMethod')), 'must be true or false', false);
  check('defaultPaymentMethod', /^[A-Z_]{2,32}$/.test(value('defaultPaymentMethod')), 'must be a payment method name such as CARD', false);
  check('signature', /^[0-9a-f]{64}$/.test(value('signature')), 'must be 64 lower-case hex characters');
  return errors;
}
