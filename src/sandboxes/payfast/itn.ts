import { and, eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { App } from '../../http/route-kit.ts';
import { sendNotification, type LedgerRow } from '../kit/kit.ts';
import { sandboxNotifications } from '../kit/schema.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { PROVIDER } from './store.ts';
import { itnSignature, paramString } from '../../providers/payfast/signature.ts';
import { formatAmount, type ItnStatus } from '../../providers/payfast/transformers.ts';

/** The sandbox's ITNs: built in PayFast's field order, signed with the merchant's passphrase, sent and confirmed. */

type Pairs = [string, string][];

/** The posted body of an ITN: its fields, then `signature` over them (empty values included). */
export function signedItnBody(pairs: Pairs): string {
  const params = paramString(pairs);
  return `${params}&signature=${itnSignature(params, MERCHANT.passphrase)}`;
}

export const sendItn = (ctx: AppContext, url: string, pairs: Pairs): Promise<string> =>
  sendNotification(ctx, { provider: PROVIDER, url, contentType: 'application/x-www-form-urlencoded', body: signedItnBody(pairs) });

/** The sandbox's fee: 3.5 % + R2.00, never more than the payment (PayFast's real fees vary by merchant and method). */
const feeOf = (gross: number): number => Math.min(gross, Math.round((gross * 35) / 1000) + 200);

export interface PaymentItn {
  /** The hosted form's fields as the merchant posted them. */
  params: Record<string, string>;
  txn: LedgerRow;
  status: Extract<ItnStatus, 'COMPLETE' | 'FAILED'>;
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
    ['amount_gross', formatAmount(gross)],
    ['amount_fee', formatAmount(-fee)],
    ['amount_net', formatAmount(gross - fee)],
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

/** The sandbox's card-update notice (PayFast publishes none): ITN-shaped, `payment_status=UPDATED`, a fresh pf_payment_id as event id. */
export const cardUpdateItn = (txn: LedgerRow, token: string, card: PaymentItn['card']): Pairs => [
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

/**
 * `POST /eng/query/validate`: VALID when the posted parameter string is an ITN this sandbox sent. PayFast's
 * merchants post the string without `signature` (PayFast's PHP sample); a trailing signature and anything after
 * it are ignored, and values are compared decoded, so `%20` and `+` are the same.
 */
export function registerValidateRoute(scope: App, ctx: AppContext): void {
  scope.post('/eng/query/validate', async (request, reply) => {
    const raw = request.rawBody ?? (typeof request.body === 'string' ? request.body : '');
    const pairs = [...new URLSearchParams(raw)];
    const cut = pairs.findIndex(([k]) => k === 'signature');
    const fields = cut === -1 ? pairs : pairs.slice(0, cut);
    let valid = false;
    if (fields.length > 0 && fields.every(([k]) => FIELD_NAME.test(k))) {
      const n = sandboxNotifications;
      const [hit] = await ctx.database.db.select({ id: n.id }).from(n).where(and(eq(n.provider, PROVIDER), eq(n.body, signedItnBody(fields)))).limit(1);
      valid = hit !== undefined;
    }
    return reply.type('text/plain; charset=utf-8').send(valid ? 'VALID' : 'INVALID');
  });
}
