import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxContext } from '../kit/kit.ts';
import { MAX_CENTS } from '../../domain/money.ts';
import type { App } from '../../http/route-kit.ts';
import { deliverNotification, loseResponse } from '../kit/kit.ts';
import { signed, tokenParam } from './api-auth.ts';
import { BEHAVIOUR_DEFAULTS, merchantNotifyUrl, type PayFastBehaviour } from './behaviour.ts';
import { sendApi, wellFormed } from './http.ts';
import { adhocItn, itnNotices, sendItn, type PaymentItn } from './itn.ts';
import { chargeApproved, hadUnavailable, nextPfPaymentId, readAdhoc, record, RESULTS, type AdhocRead } from './store.ts';

/**
 * `POST /api/subscriptions/{token}/adhoc`: a charge of a tokenised card, answered in production's shapes
 * (PROVIDERS.md): an approval and a decline are both HTTP 200, `data.response` the string "true" or a bank
 * code; only a refused request is a 4xx. Every processed charge (approved or declined) is also told by ITN,
 * unless the request says `itn: false`. Nothing is deduplicated on m_payment_id.
 */

interface Adhoc {
  amount: number;
  item_name: string;
  item_description: string | null;
  m_payment_id: string | null;
  /** PayFast's `itn` field: send an ITN for this charge (default yes). */
  itn: boolean;
}

const ITN_FLAG: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false };

function parseAdhoc(body: unknown): Adhoc | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The body must be a JSON object.';
  const b = body as Record<string, unknown>;
  const amount = typeof b.amount === 'string' && /^[0-9]{1,12}$/.test(b.amount) ? Number(b.amount) : b.amount;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_CENTS) return 'amount: must be a whole number of cents, more than 0.';
  if (typeof b.item_name !== 'string' || b.item_name.trim() === '' || b.item_name.length > 100) return 'item_name: is required (at most 100 characters).';
  if (b.item_description !== undefined && (typeof b.item_description !== 'string' || b.item_description.length > 255)) return 'item_description: at most 255 characters.';
  if (b.m_payment_id !== undefined && (typeof b.m_payment_id !== 'string' || b.m_payment_id.trim() === '' || b.m_payment_id.length > 100)) return 'm_payment_id: 1 to 100 characters.';
  const itn = b.itn === undefined ? true : (typeof b.itn === 'boolean' || typeof b.itn === 'number' || typeof b.itn === 'string') ? ITN_FLAG[String(b.itn)] : undefined;
  if (itn === undefined) return 'itn: must be true or false (1 or 0).';
  const text = (v: unknown): string | null => (typeof v === 'string' ? wellFormed(v.trim()) : null);
  return { amount, item_name: text(b.item_name) as string, item_description: text(b.item_description), m_payment_id: text(b.m_payment_id), itn };
}

/** An approval: `"response": "true"` as production sends it, or boolean `true` as PayFast's sandbox host has. */
const approval = (pfPaymentId: string, b: PayFastBehaviour) => ({
  response: b.adhocSuccess === 'boolean' ? true : 'true',
  message: `${RESULTS.approved.description}(${RESULTS.approved.code})`,
  pf_payment_id: pfPaymentId,
});

/** A decline (inside an HTTP 200): the bank's code as `data.response`, or an object `{code, reason}`. */
const decline = (pfPaymentId: string, result: { code: string; description: string }, b: PayFastBehaviour) => ({
  response: b.declineShape === 'object' ? { code: result.code, reason: result.description } : result.code,
  message: `${result.description} (${result.code})`,
  pf_payment_id: pfPaymentId,
});

export function registerAdhocRoute(scope: App, ctx: SandboxContext): void {
  scope.post('/api/subscriptions/:token/adhoc', signed, async (request, reply) => {
    const input = parseAdhoc(request.body);
    if (typeof input === 'string') return sendApi(reply, 400, { message: input });
    const token = tokenParam(request);
    if (!token) return sendApi(reply, 404, { message: 'Subscription not found.' });
    const details = { item_name: input.item_name, item_description: input.item_description };
    // A slow provider (PAYRAIL_SANDBOX_ANSWER_DELAY_MS): the card is charged and the ITN sent at once, the answer comes later.
    const answer = async (data: Record<string, unknown>) => {
      if (ctx.config.sandboxes.answerDelayMs > 0) await sleep(ctx.config.sandboxes.answerDelayMs);
      return sendApi(reply, 200, data);
    };
    /** What the charge goes on: the card, the behaviour settings, where ITNs go and what they say. */
    const chargeOn = (read: AdhocRead) => {
      const behaviour: PayFastBehaviour = { ...BEHAVIOUR_DEFAULTS, ...(read.settings ?? {}) };
      // Issue #152: the ITN may carry the token's previous charge's m_payment_id (read before this charge existed).
      const previous = input.itn && behaviour.itn === 'old_m_payment_id' ? read.previous : null;
      const mPaymentId = previous ? (previous.merchantReference ?? '') : (input.m_payment_id ?? '');
      const itnOf = (txn: PaymentItn['txn'], status: PaymentItn['status']) =>
        adhocItn({ mPaymentId, itemName: input.item_name, itemDescription: input.item_description ?? '', txn, status, token, card: read.card });
      return { card: read.card, behaviour, itnOf, notifyUrl: read.card.notifyUrl ?? merchantNotifyUrl(ctx, behaviour) };
    };

    let read = await readAdhoc(ctx, token);
    if (!read || read.card.status !== 'active') return sendApi(reply, 404, { message: 'Subscription not found.' });
    // An approving card is charged, and its ITN stored, in one statement: PayFast notifies every charge it
    // made, whatever happens to either side after.
    if (read.card.outcome === 'approve') {
      const { card, behaviour, itnOf, notifyUrl } = chargeOn(read);
      const pfPaymentId = nextPfPaymentId();
      const notices = input.itn ? itnNotices(behaviour, notifyUrl, itnOf({ id: pfPaymentId, amountCents: input.amount }, 'COMPLETE')) : [];
      if (await chargeApproved(ctx, token, card, { pfPaymentId, mPaymentId: input.m_payment_id, amountCents: input.amount, details, at: ctx.clock(), notices })) {
        for (const notice of notices) deliverNotification(ctx, notice);
        return answer(approval(pfPaymentId, behaviour));
      }
      // Nothing was recorded: the token changed since it was read (cancelled, another card), or the id was
      // drawn before. The charge goes on with the token as it is now.
      read = await readAdhoc(ctx, token);
      if (!read || read.card.status !== 'active') return sendApi(reply, 404, { message: 'Subscription not found.' });
    }
    const { card, behaviour, itnOf, notifyUrl } = chargeOn(read);
    const row = { merchantReference: input.m_payment_id, token, kind: 'token', amountCents: input.amount, cardBin: card.cardBin, cardLast4: card.cardLast4, details };
    const notify = async (txn: PaymentItn['txn'], status: PaymentItn['status']): Promise<void> => {
      if (!input.itn) return;
      await sendItn(ctx, behaviour, notifyUrl, itnOf(txn, status));
    };

    if (card.outcome === 'decline' || card.outcome === 'insufficient_funds') {
      const result = RESULTS[card.outcome];
      const txn = await record(ctx, { ...row, status: 'declined', resultCode: result.code, resultDescription: result.description });
      await notify(txn, 'FAILED');
      return answer(decline(txn.id, result, behaviour));
    }
    // Test card …0259: the token's first charge finds PayFast unavailable; nothing is processed, so no ITN.
    if (card.outcome === 'unavailable_once' && !(await hadUnavailable(ctx, { token }))) {
      await record(ctx, { ...row, status: 'unavailable', resultCode: RESULTS.unavailable.code, resultDescription: RESULTS.unavailable.description });
      return sendApi(reply, 503, { message: 'Service unavailable: nothing was charged. Try again.' });
    }
    // Approved (a lost answer's card, or an approving one the statement above did not record): charged and notified.
    const txn = await record(ctx, { ...row, status: 'approved', resultCode: RESULTS.approved.code, resultDescription: RESULTS.approved.description });
    await notify(txn, 'COMPLETE');
    if (card.outcome === 'lost_response') return loseResponse(reply, ctx.config.sandboxes.lostResponseAfterMs);
    return answer(approval(txn.id, behaviour));
  });
}
