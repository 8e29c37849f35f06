import { and, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { SandboxContext } from '../kit/kit.ts';
import type { App } from '../../http/route-kit.ts';
import { checkCardForm } from '../kit/cards.ts';
import { renderCardPage } from '../kit/pages.ts';
import { sandboxTokens } from '../kit/schema.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { bodyFields, httpUrl, sendHtml, sendMessage, UUID } from './http.ts';
import { behaviourNow, merchantNotifyUrl } from './behaviour.ts';
import { cardUpdateItn, sendItn } from './itn.ts';
import { PROVIDER, record, RESULTS, tokenRow, type TokenRow } from './store.ts';

/**
 * Card update (seed 000): `GET|POST /eng/recurring/update/{token}?return={url}`. The customer enters a new card;
 * the token keeps its value and takes the new card. Nothing is charged: the ledger gets a `card_update` row of
 * R0.00, and the merchant a signed `payment_status=UPDATED` notice at the token's notify_url (or the merchant
 * account's default), sent as the ITN behaviour settings say.
 */

export function registerCardUpdate(scope: App, ctx: SandboxContext): void {
  const prefix = scope.prefix;
  const expiry = (m: number, y: number) => `${String(m).padStart(2, '0')}/${String(y % 100).padStart(2, '0')}`;
  const render = (card: TokenRow, back: string | null, error: string | null): string =>
    renderCardPage({
      provider: 'PayFast',
      title: 'Update your card',
      summary: [['Merchant', `Test Merchant (${MERCHANT.merchantId})`], ['Current card', `•••• ${card.cardLast4}`], ['Expires', expiry(card.expiryMonth, card.expiryYear)]],
      action: `${prefix}/eng/recurring/update/${card.token}`,
      hidden: back ? { return: back } : {},
      error,
      cancelUrl: back,
      submitLabel: 'Update card',
    });

  /** The token and the return URL, or the page that says what is wrong with them. */
  type Resolved = { ok: true; card: TokenRow; back: string | null } | { ok: false; error: [status: number, title: string, message: string] };
  const resolve = async (request: FastifyRequest): Promise<Resolved> => {
    const token = (request.params as { token: string }).token;
    const card = UUID.test(token) ? await tokenRow(ctx, token) : null;
    const raw = bodyFields(request.body)?.return ?? (request.query as Record<string, unknown>).return;
    const given = typeof raw === 'string' && raw.trim() !== '';
    const back = given ? httpUrl(raw) : null;
    if (!card || card.status !== 'active') return { ok: false, error: [404, 'Card not found', 'There is no active card for this token.'] };
    if (given && !back) return { ok: false, error: [400, 'Invalid return URL', 'The return URL must be an http or https URL.'] };
    return { ok: true, card, back };
  };

  scope.get('/eng/recurring/update/:token', async (request, reply) => {
    const r = await resolve(request);
    if (!r.ok) return sendMessage(reply, ...r.error);
    return sendHtml(reply, 200, render(r.card, r.back, null));
  });

  scope.post('/eng/recurring/update/:token', async (request, reply) => {
    const r = await resolve(request);
    if (!r.ok) return sendMessage(reply, ...r.error);
    const { card, back } = r;
    const now = ctx.clock();
    const check = checkCardForm(bodyFields(request.body) ?? {}, now);
    if (!check.ok) return sendHtml(reply, 400, render(card, back, check.message));
    const next = check.card;
    await ctx.database.db
      .update(sandboxTokens)
      .set({ outcome: next.outcome, cardBin: next.bin, cardLast4: next.last4, expiryMonth: next.expiryMonth, expiryYear: next.expiryYear, holder: next.holder, updatedAt: now })
      .where(and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, card.token)));
    const row = await record(ctx, {
      merchantReference: null,
      token: card.token,
      kind: 'card_update',
      amountCents: 0,
      status: 'approved',
      resultCode: RESULTS.card_update.code,
      resultDescription: RESULTS.card_update.description,
      cardBin: next.bin,
      cardLast4: next.last4,
    });
    // A token made without a notify_url (the demo card) is reported to the merchant account's default ITN URL.
    const behaviour = await behaviourNow(ctx);
    await sendItn(ctx, behaviour, card.notifyUrl ?? merchantNotifyUrl(ctx, behaviour), cardUpdateItn(row, card.token, { last4: next.last4, expiryMonth: next.expiryMonth, expiryYear: next.expiryYear }));
    return back ? reply.redirect(back, 302) : sendMessage(reply, 200, 'Card updated', `Your card ending ${next.last4} will be used from now on.`);
  });
}
