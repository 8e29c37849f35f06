import { parseRand, type SandboxContext } from '../kit/kit.ts';
import { randomUUID } from 'node:crypto';
import { MAX_CENTS } from '../../domain/money.ts';
import type { App } from '../../http/route-kit.ts';
import { sandboxSessions } from '../kit/schema.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { bodyFields, httpUrl, sendMessage } from './http.ts';
import { PROVIDER } from './store.ts';
import { FORM_FIELDS, formSignature, sameSignature } from '../../providers/payfast/signature.ts';

/** `POST /eng/process`: the hosted form post that opens a payment page (from a browser or a merchant's server). */

export const SESSION_TTL_MS = 24 * 60 * 60_000;

type FormCheck = { ok: true; params: Record<string, string>; amountCents: number } | { ok: false; message: string };

const LIMITS: Partial<Record<string, number>> = { m_payment_id: 100, item_name: 100, item_description: 255, name_first: 100, name_last: 100, email_address: 100, cell_number: 100 };

/** PayFast's checks of a form post, in order: merchant, signature, then the fields. Unknown fields are ignored. */
export function checkProcessForm(fields: Record<string, string>): FormCheck {
  const known = FORM_FIELDS.flatMap((k): [string, string][] => (fields[k] !== undefined ? [[k, fields[k].trim()]] : []));
  const params = Object.fromEntries(known.filter(([, v]) => v !== ''));
  const fail = (message: string): FormCheck => ({ ok: false, message });
  if (params.merchant_id !== MERCHANT.merchantId) return fail('merchant_id: the merchant id is not valid.');
  if (params.merchant_key !== MERCHANT.merchantKey) return fail('merchant_key: the merchant key is not valid for this merchant.');
  if (fields.signature !== undefined && !sameSignature(fields.signature.trim(), formSignature(known, MERCHANT.passphrase))) {
    return fail('Generated signature does not match submitted signature.');
  }
  const amountCents = /^[0-9]{1,10}\.[0-9]{2}$/.test(params.amount ?? '') ? parseRand(params.amount) : null;
  if (amountCents === null || amountCents <= 0 || amountCents > MAX_CENTS) return fail('amount: must be more than 0.00, with two decimals (e.g. 379.00).');
  if (!params.item_name) return fail('item_name: is required.');
  for (const [k, max] of Object.entries(LIMITS)) if ((params[k]?.length ?? 0) > (max as number)) return fail(`${k}: must be at most ${max} characters.`);
  for (const k of ['return_url', 'cancel_url', 'notify_url']) if (params[k] !== undefined && httpUrl(params[k]) === null) return fail(`${k}: must be a valid http(s) URL.`);
  if (params.email_address !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(params.email_address)) return fail('email_address: is not a valid email address.');
  if (params.subscription_type !== undefined && params.subscription_type !== '2') {
    return fail(params.subscription_type === '1' ? 'subscription_type: this sandbox offers ad hoc tokenisation (2) only, not subscriptions (1).' : 'subscription_type: must be 1 or 2.');
  }
  return { ok: true, params, amountCents };
}

export function registerProcessRoute(scope: App, ctx: SandboxContext): void {
  const prefix = scope.prefix;
  scope.post('/eng/process', async (request, reply) => {
    const fields = bodyFields(request.body);
    if (!fields) return sendMessage(reply, 400, 'Payment error', 'The payment form was empty or could not be read.');
    const check = checkProcessForm(fields);
    if (!check.ok) return sendMessage(reply, 400, 'Payment error', check.message);
    // A repeated m_payment_id opens another page: PayFast publishes no refusal of one (PROVIDERS.md).
    const mPaymentId = check.params.m_payment_id ?? null;
    const id = randomUUID();
    const now = ctx.clock();
    await ctx.database.db.insert(sandboxSessions).values({
      id,
      provider: PROVIDER,
      kind: 'payment',
      merchantReference: mPaymentId,
      amountCents: check.amountCents,
      params: check.params,
      expiresAt: new Date(now.getTime() + SESSION_TTL_MS),
      createdAt: now,
      updatedAt: now,
    });
    return reply.redirect(`${request.protocol}://${request.host}${prefix}/eng/process/payment/${id}`, 302);
  });
}
