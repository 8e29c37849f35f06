import { and, eq, sql } from 'drizzle-orm';
import { type SandboxContext, deliverNotification, newNotice, writeNotice, type LedgerRow, type StoredNotice, formatRand } from '../kit/kit.ts';
import type { App } from '../../http/route-kit.ts';
import { sandboxNotifications } from '../kit/schema.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { behaviourNow, type PayFastBehaviour } from './behaviour.ts';
import { sendHtml } from './http.ts';
import { PROVIDER, type AdhocCard } from './store.ts';
import { itnSignature, paramString } from '../../providers/payfast/signature.ts';

/** The sandbox's ITNs: built in PayFast's field order, signed with the merchant's passphrase, sent and confirmed. */

type Pairs = [string, string][];

/** The posted body of an ITN: its fields, then `signature` over them (empty values included). */
export function signedItnBody(pairs: Pairs): string {
  const params = paramString(pairs);
  return `${params}&signature=${itnSignature(params, MERCHANT.passphrase)}`;
}

/**
 * Sends an ITN (stored, then posted and retried by `sendNotification`) as the behaviour settings say: not at all
 * (`off`), after `itnDelayMs` (`late`), or twice, as two separate notifications of the same body (`duplicate`).
 */
export async function sendItn(ctx: SandboxContext, behaviour: PayFastBehaviour, url: string, pairs: Pairs): Promise<void> {
  for (const notice of itnNotices(behaviour, url, pairs)) {
    await writeNotice(ctx.database.db, PROVIDER, notice);
    deliverNotification(ctx, notice);
  }
}

/** The ITN's notifications as sendItn sends them (none, one or two), not yet written. */
export function itnNotices(behaviour: PayFastBehaviour, url: string, pairs: Pairs): StoredNotice[] {
  if (behaviour.itn === 'off') return [];
  const notification = { provider: PROVIDER, url, contentType: 'application/x-www-form-urlencoded', body: signedItnBody(pairs) };
  const options = behaviour.itn === 'late' ? { delayMs: behaviour.itnDelayMs } : {};
  return Array.from({ length: behaviour.itn === 'duplicate' ? 2 : 1 }, () => newNotice(notification, options));
}

/** The sandbox's fee: 3.5 % + R2.00, never more than the payment (PayFast's real fees vary by merchant and method). */
const feeOf = (gross: number): number => Math.min(gross, Math.round((gross * 35) / 1000) + 200);

export interface PaymentItn {
  /** The hosted form's fields as the merchant posted them (for an ad hoc charge: its m_payment_id, item_name, item_description). */
  params: Record<string, string>;
  txn: Pick<LedgerRow, 'id' | 'amountCents'>;
  status: 'COMPLETE' | 'FAILED';
  card: { last4: string; expiryMonth: number; expiryYear: number };
  /** The token made from this payment (subscription_type=2), with the day its ad hoc agreement starts. */
  token?: { value: string; billingDate: string };
}

const expiry = (month: number, year: number): string => `${String(month).padStart(2, '0')}/${String(year % 100).padStart(2, '0')}`;

/**
 * PayFast's ITN fields in its order. `card_last4` and `card_expiry` (MM/YY) are the sandbox's extras, placed
 * after PayFast's own fields: PayFast sends no card details, but a tokenised card medium needs them.
 */
export function paymentItn(itn: PaymentItn): Pairs {
  const p = (k: string): string => itn.params[k] ?? '';
  const gross = itn.txn.amountCents;
  const fee = itn.status === 'COMPLETE' ? feeOf(gross) : 0;
  return [
    ['m_payment_id', p('m_payment_id')],
    ['pf_payment_id', itn.txn.id],
    ['payment_status', itn.status],
    ['item_name', p('item_name')],
    ['item_description', p('item_description')],
    ['amount_gross', formatRand(gross)],
    ['amount_fee', formatRand(-fee)],
    ['amount_net', formatRand(gross - fee)],
    ...[1, 2, 3, 4, 5].map((i): [string, string] => [`custom_str${i}`, p(`custom_str${i}`)]),
    ...[1, 2, 3, 4, 5].map((i): [string, string] => [`custom_int${i}`, p(`custom_int${i}`)]),
    ['name_first', p('name_first')],
    ['name_last', p('name_last')],
    ['email_address', p('email_address')],
    ['merchant_id', MERCHANT.merchantId],
    ...(itn.token ? ([['token', itn.token.value], ['billing_date', itn.token.billingDate]] as Pairs) : []),
    ['card_last4', itn.card.last4],
    ['card_expiry', expiry(itn.card.expiryMonth, itn.card.expiryYear)],
  ];
}

/**
 * The ITN of an ad hoc charge: the payment ITN's fields, with the charge's m_payment_id and item, and the token
 * with its billing_date. `mPaymentId` is the request's, or, with `itn: "old_m_payment_id"`, the token's
 * previous charge's.
 */
export const adhocItn = (charge: { mPaymentId: string; itemName: string; itemDescription: string; txn: PaymentItn['txn']; status: PaymentItn['status']; token: string; card: AdhocCard }): Pairs =>
  paymentItn({
    params: { m_payment_id: charge.mPaymentId, item_name: charge.itemName, item_description: charge.itemDescription },
    txn: charge.txn,
    status: charge.status,
    card: { last4: charge.card.cardLast4, expiryMonth: charge.card.expiryMonth, expiryYear: charge.card.expiryYear },
    token: { value: charge.token, billingDate: charge.card.billingDate },
  });

/** The sandbox's card-update notice (PayFast publishes none): ITN-shaped, `payment_status=UPDATED`, a fresh pf_payment_id as event id. */
export const cardUpdateItn = (txn: PaymentItn['txn'], token: string, card: PaymentItn['card']): Pairs => [
  ['m_payment_id', ''],
  ['pf_payment_id', txn.id],
  ['payment_status', 'UPDATED'],
  ['item_name', 'Card update'],
  ['amount_gross', '0.00'],
  ['merchant_id', MERCHANT.merchantId],
  ['token', token],
  ['card_last4', card.last4],
  ['card_expiry', expiry(card.expiryMonth, card.expiryYear)],
];

const FIELD_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** What PayFast's validate endpoint has been seen answering instead of VALID (issue #320): a web server's 403 page. */
const FORBIDDEN_PAGE = '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n</body>\r\n</html>\r\n';

/**
 * `POST /eng/query/validate`: VALID when the posted parameter string is an ITN this sandbox sent. PayFast's
 * merchants post the string without `signature` (PayFast's PHP sample); a trailing signature and anything after
 * it are ignored, and values are compared decoded, so `%20` and `+` are the same. With `validate: "html_403"`
 * it answers an HTML 403 page instead, as PayFast has been seen to.
 */
export function registerValidateRoute(scope: App, ctx: SandboxContext): void {
  scope.post('/eng/query/validate', async (request, reply) => {
    if ((await behaviourNow(ctx)).validate === 'html_403') return sendHtml(reply, 403, FORBIDDEN_PAGE);
    const raw = request.rawBody ?? (typeof request.body === 'string' ? request.body : '');
    const pairs = [...new URLSearchParams(raw)];
    const cut = pairs.findIndex(([k]) => k === 'signature');
    const fields = cut === -1 ? pairs : pairs.slice(0, cut);
    let valid = false;
    if (fields.length > 0 && fields.every(([k]) => FIELD_NAME.test(k))) {
      const n = sandboxNotifications;
      const body = signedItnBody(fields);
      const [hit] = await ctx.database.db.select({ id: n.id }).from(n).where(and(eq(n.provider, PROVIDER), sql`md5(${n.body}) = md5(${body})`, eq(n.body, body))).limit(1);
      valid = hit !== undefined;
    }
    return reply.type('text/plain; charset=utf-8').send(valid ? 'VALID' : 'INVALID');
  });
}
