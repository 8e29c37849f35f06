import type { AttemptResult, AttemptStatus, CheckoutInput, ChargeTokenInput, LookupInput, Money, NewToken, VerifiedCallback } from '../contract.ts';
import type { PayFastCredentials } from './credentials.ts';
import { FORM_FIELDS, formSignature } from './signature.ts';

/** PayFast's wire types and their pure mappings to ours. No I/O here. */

export type FormField = (typeof FORM_FIELDS)[number];

export type PaymentStatus = 'COMPLETE' | 'FAILED' | 'PENDING' | 'CANCELLED';
/** ITN statuses: PayFast's four, plus the sandbox's card-update notice (PayFast publishes none). */
export type ItnStatus = PaymentStatus | 'UPDATED';

type Failure = NonNullable<AttemptResult['failure']>;

/** Every PayFast payment status, mapped (STYLE 4). Anything else is `unknown` and the janitor asks again. */
export const PAYMENT_STATUS = { COMPLETE: 'succeeded', FAILED: 'failed', PENDING: 'pending', CANCELLED: 'failed' } as const satisfies Record<PaymentStatus, AttemptStatus>;
const STATUS_FAILURE = {
  COMPLETE: null,
  PENDING: null,
  FAILED: { code: 'FAILED', message: 'PayFast reports the payment as failed.', kind: 'declined' },
  CANCELLED: { code: 'CANCELLED', message: 'The payment was cancelled or its session expired.', kind: 'cancelled' },
} as const satisfies Record<PaymentStatus, Failure | null>;

const isPaymentStatus = (s: unknown): s is PaymentStatus => typeof s === 'string' && Object.hasOwn(PAYMENT_STATUS, s);

/** A decline's kind from PayFast's message ("DO NOT HONOUR", "INSUFFICIENT FUNDS" …); a plain decline otherwise. */
const DECLINE_KINDS: [RegExp, Failure['kind']][] = [
  [/insufficient/i, 'insufficient_funds'],
  [/expired/i, 'expired'],
  [/cancel/i, 'cancelled'],
  [/invalid|not found|does not exist/i, 'invalid'],
];

export function declineOf(message: string): Failure {
  const kind = DECLINE_KINDS.find(([re]) => re.test(message))?.[1] ?? 'declined';
  const code = /\((\w{2,3})\)\s*$/.exec(message)?.[1] ?? (message.trim().toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 40) || 'DECLINED');
  return { code, message, kind };
}

/** Cents → PayFast's rand amount with two decimals ("379.00"); exact, no float arithmetic. */
export const formatAmount = (cents: number): string => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;

/** "379.00" / "379" / "379.5" → cents; null when it is not an amount. */
export function parseAmount(value: unknown): number | null {
  if (typeof value !== 'string' || !/^[0-9]{1,10}(\.[0-9]{1,2})?$/.test(value.trim())) return null;
  const [whole = '0', frac = ''] = value.trim().split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

const money = (amountCents: number): Money => ({ amountCents, currency: 'ZAR' });

/** PayFast validates cell_number as a South African mobile (0XXXXXXXXX); anything else is left out, not refused. */
export function cellNumber(value: string | null): string | null {
  const digits = (value ?? '').replace(/[\s()-]/g, '').replace(/^\+27/, '0');
  return /^0[0-9]{9}$/.test(digits) ? digits : null;
}

/**
 * The signed hosted form of a payment link: only non-empty fields, in PayFast's order, signature last.
 * `subscription_type=2` (ad hoc) makes PayFast tokenise the card and send the token in the ITN.
 */
export function paymentLinkForm(input: CheckoutInput, creds: PayFastCredentials): [string, string][] {
  const [first = '', ...rest] = input.customer.name.trim().split(/\s+/);
  const values: Partial<Record<FormField, string | null>> = {
    merchant_id: creds.merchantId,
    merchant_key: creds.merchantKey,
    return_url: input.returnUrl,
    cancel_url: input.cancelUrl,
    notify_url: input.notificationUrl,
    name_first: first.slice(0, 100),
    name_last: rest.join(' ').slice(0, 100),
    email_address: input.customer.email?.slice(0, 100),
    cell_number: cellNumber(input.customer.cellNumber),
    m_payment_id: input.merchantReference,
    amount: formatAmount(input.amount.amountCents),
    item_name: (input.description.trim() || input.merchantReference).slice(0, 100),
    subscription_type: input.tokenise ? '2' : null,
  };
  const fields = FORM_FIELDS.flatMap((k) => (values[k] ?? '').trim() !== '' ? [[k, (values[k] as string).trim()] as [string, string]] : []);
  return [...fields, ['signature', formSignature(fields, creds.passphrase)]];
}

/**
 * `POST /subscriptions/{token}/adhoc`: amount in cents, and always our own m_payment_id: without one PayFast
 * has been seen to echo an earlier payment's in its notice (PROVIDERS.md).
 */
export interface AdhocRequest {
  amount: number;
  item_name: string;
  item_description: string;
  m_payment_id: string;
}

export const adhocRequest = (input: ChargeTokenInput): AdhocRequest => ({
  amount: input.amount.amountCents,
  item_name: (input.description.trim() || input.merchantReference).slice(0, 100),
  item_description: input.description.trim().slice(0, 255),
  m_payment_id: input.merchantReference,
});

/** Every API answer: `{ code, status: success | failed | error, data }`. */
export interface ApiAnswer {
  code?: unknown;
  status?: unknown;
  data?: { response?: unknown; message?: unknown; pf_payment_id?: unknown };
}

/** `GET /process/query/{id}`'s `data.response`. */
export interface QueryRecord {
  m_payment_id?: unknown;
  pf_payment_id?: unknown;
  payment_status?: unknown;
  amount_gross?: unknown;
  created_at?: unknown;
}

/** What an API answer means for an attempt; the connector turns the non-results into errors or logs. */
export type Verdict =
  | { kind: 'result'; result: AttemptResult; problem?: string }
  | { kind: 'misconfigured'; message: string }
  | { kind: 'unavailable'; message: string };

export function parseAnswer(text: string): ApiAnswer | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as ApiAnswer) : null;
  } catch {
    return null;
  }
}

const unknown = (raw: unknown, providerReference: string | null = null, problem?: string): Verdict => ({ kind: 'result', result: { status: 'unknown', providerReference, raw }, ...(problem ? { problem } : {}) });
const messageOf = (a: ApiAnswer | null): string => (typeof a?.data?.message === 'string' ? a.data.message : '');
const idOf = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : null);

/**
 * Bank response codes PayFast passes on in a declined ad hoc answer (`data.response: "05"`), and what each
 * means for the customer. A code not listed is a plain decline.
 */
const BANK_CODES: Readonly<Record<string, Failure['kind']>> = {
  '05': 'declined',
  '51': 'insufficient_funds',
  '54': 'expired',
  '33': 'expired',
  '14': 'invalid',
  '56': 'invalid',
  '15': 'invalid',
};

/** A decline from its bank code and message ("DO NOT HONOUR (05)"). */
function bankDecline(code: string, message: string): Failure {
  const kind = BANK_CODES[code] ?? DECLINE_KINDS.find(([re]) => re.test(message))?.[1] ?? 'declined';
  return { code, message: message.replace(/\s*\(\w{2,3}\)\s*$/, '').trim() || 'Declined by the bank', kind };
}

/**
 * Shared by every API call: 401/403 is our credentials or signature; 408, 429 and 503 were refused before
 * anything was processed; another 5xx or an unreadable 2xx leaves the outcome open. Null: a readable answer.
 */
function transportVerdict(status: number, answer: ApiAnswer | null, text: string): Verdict | null {
  if (status === 401 || status === 403) return { kind: 'misconfigured', message: `PayFast refused our credentials or signature (${status}${messageOf(answer) ? `: ${messageOf(answer)}` : ''}).` };
  if (status === 408 || status === 429 || status === 503) return { kind: 'unavailable', message: `PayFast answered ${status}; it did not process the request.` };
  if (status >= 500 || (answer === null && status < 400)) return unknown(answer ?? { http_status: status, body: text.slice(0, 200) });
  return null;
}

/**
 * The answer to an ad hoc charge, in every shape PayFast sends (PROVIDERS.md): only an explicit approval
 * (`data.response` the string "true", or boolean true as the sandbox host sends it) is a success. A decline
 * comes as HTTP 200 with a bank code (`"05"`) or an object `{code, reason}` in `data.response`; a refused
 * request as `{code: 4xx, status: "failed", data: {message}}`. Anything else is unknown.
 */
export function adhocVerdict(status: number, text: string, asked: Money): Verdict {
  const answer = parseAnswer(text);
  const transport = transportVerdict(status, answer, text);
  if (transport) return transport;
  const data = answer?.data ?? {};
  const reference = idOf(data.pf_payment_id);
  const response = data.response;
  const raw = answer ?? { http_status: status, body: text.slice(0, 200) };
  if (status >= 400) {
    // Refused before processing (a bad field, an unknown token): nothing was charged, and the same request would be refused again.
    const failure: Failure = status === 404 ? { code: 'token_not_found', message: messageOf(answer) || 'PayFast does not know this token.', kind: 'invalid' } : { code: `http_${status}`, message: messageOf(answer) || `PayFast refused the charge (${status}).`, kind: 'invalid' };
    return { kind: 'result', result: { status: 'failed', providerReference: reference, failure, raw } };
  }
  if (response === true || response === 'true') return { kind: 'result', result: { status: 'succeeded', providerReference: reference, amount: asked, raw } };
  if (typeof response === 'string' && /^[0-9A-Z]{2,3}$/.test(response) && response !== '00') {
    return { kind: 'result', result: { status: 'failed', providerReference: reference, failure: bankDecline(response, messageOf(answer)), raw } };
  }
  if (response !== null && typeof response === 'object' && !Array.isArray(response)) {
    const r = response as { code?: unknown; reason?: unknown };
    const code = idOf(r.code) ?? 'declined';
    return { kind: 'result', result: { status: 'failed', providerReference: reference, failure: bankDecline(code, typeof r.reason === 'string' ? r.reason : messageOf(answer)), raw } };
  }
  if (response === false) return { kind: 'result', result: { status: 'failed', providerReference: reference, failure: declineOf(messageOf(answer) || 'Declined'), raw } };
  const bodyCode = typeof answer?.code === 'number' ? answer.code : Number(answer?.code);
  if (answer?.status === 'failed' && bodyCode >= 400 && bodyCode < 500) {
    return { kind: 'result', result: { status: 'failed', providerReference: reference, failure: { code: `http_${bodyCode}`, message: messageOf(answer) || 'PayFast refused the charge.', kind: 'invalid' }, raw } };
  }
  return unknown(raw, reference, `an ad hoc answer payrail does not recognise (${JSON.stringify(response ?? null).slice(0, 40)})`);
}

/** pf_payment_id is a number; a payment page's id (a UUID) is not something PayFast's query takes. */
export const isPfPaymentId = (value: string | null | undefined): value is string => typeof value === 'string' && /^[0-9]{1,20}$/.test(value);

/**
 * The answer to `GET /process/query/{pf_payment_id or token}`. The record must be ours (its m_payment_id is
 * the attempt's reference: a token's query answers its latest payment, which may be another attempt's):
 * COMPLETE → succeeded (amount checked) · FAILED → failed (declined) · CANCELLED → failed (cancelled) ·
 * PENDING → pending · another attempt's record, 404 or anything else → `notFound` (unknown for a token charge,
 * pending for a page nobody has paid).
 */
export function queryVerdict(status: number, text: string, input: LookupInput): Verdict {
  const answer = parseAnswer(text);
  const notFound: AttemptStatus = input.kind === 'token' ? 'unknown' : 'pending';
  if (status === 404) return { kind: 'result', result: { status: notFound, providerReference: input.providerReference, absent: true, raw: answer } };
  const transport = transportVerdict(status, answer, text);
  if (transport) return transport;
  const record = (answer?.data?.response ?? null) as QueryRecord | null;
  if (status !== 200 || record === null || typeof record !== 'object' || !isPaymentStatus(record.payment_status)) return unknown(answer, input.providerReference);
  if (idOf(record.m_payment_id) !== input.merchantReference) {
    // The token's latest payment is another attempt's: PayFast cannot show this one by our reference. Its
    // absence is judged by the ITN it would have sent (the connector's deadline covers its ITN retries).
    return { kind: 'result', result: { status: notFound, providerReference: input.providerReference, absent: true, raw: { reason: 'the record found is another payment', pf_payment_id: idOf(record.pf_payment_id) } } };
  }
  const reference = idOf(record.pf_payment_id) ?? input.providerReference;
  const paymentStatus = record.payment_status;
  const failure = STATUS_FAILURE[paymentStatus];
  if (paymentStatus === 'COMPLETE') {
    const cents = typeof record.amount_gross === 'string' ? parseAmount(record.amount_gross) : null;
    if (cents !== input.amount.amountCents) return unknown(answer, reference, `PayFast reports ${String(record.amount_gross)} for an attempt of ${formatAmount(input.amount.amountCents)}`);
    return { kind: 'result', result: { status: 'succeeded', providerReference: reference, amount: money(cents), raw: answer } };
  }
  return { kind: 'result', result: { status: PAYMENT_STATUS[paymentStatus], providerReference: reference, ...(failure ? { failure } : {}), raw: answer } };
}

/** "MM/YY" (the sandbox's card_expiry) → month and four-digit year. */
function expiryOf(value: string | undefined): { expiryMonth?: number; expiryYear?: number } {
  const m = /^(0[1-9]|1[0-2])\/([0-9]{2})$/.exec(value ?? '');
  return m ? { expiryMonth: Number(m[1]), expiryYear: 2000 + Number(m[2]) } : {};
}

const last4 = (value: string | undefined): string | null => (value && /^[0-9]{4}$/.test(value) ? value : null);

/**
 * A verified ITN's fields → our callback. `card_last4` and `card_expiry` are the sandbox's extras (PayFast
 * sends no card details); the token and the signature never reach `raw`.
 */
export function itnCallback(fields: Record<string, string>): { ok: true; callback: VerifiedCallback } | { ok: false; reason: string } {
  const { signature: _signature, token, ...rest } = fields;
  const raw = { ...rest, ...(token ? { token: '[token]' } : {}) };
  const status = fields.payment_status;
  const pfPaymentId = fields.pf_payment_id ?? '';
  if (!pfPaymentId) return { ok: false, reason: 'The ITN carries no pf_payment_id.' };
  const eventId = `${pfPaymentId}:${status}`;
  if (status === 'UPDATED') {
    if (!token) return { ok: false, reason: 'A card-update notice without a token.' };
    const tokenUpdate = { token, accountNumber: last4(fields.card_last4), ...expiryOf(fields.card_expiry) };
    return { ok: true, callback: { eventId, kind: 'token_update', merchantReference: null, providerReference: null, result: { status: 'succeeded', providerReference: null, raw }, tokenUpdate, occurredAt: null } };
  }
  if (!isPaymentStatus(status)) return { ok: false, reason: `Unknown payment_status ${JSON.stringify(status ?? null)}.` };
  if (!fields.m_payment_id) return { ok: false, reason: 'The ITN carries no m_payment_id.' };
  const cents = parseAmount(fields.amount_gross);
  if (status === 'COMPLETE' && cents === null) return { ok: false, reason: 'amount_gross is not an amount.' };
  const failure = STATUS_FAILURE[status];
  const name = `${fields.name_first ?? ''} ${fields.name_last ?? ''}`.trim();
  const newToken: NewToken | undefined =
    token && status === 'COMPLETE'
      ? { value: token, mediumType: 'CreditCard', accountName: name || 'PayFast card', accountNumber: last4(fields.card_last4), ...expiryOf(fields.card_expiry) }
      : undefined;
  const result: AttemptResult = {
    status: PAYMENT_STATUS[status],
    providerReference: pfPaymentId,
    ...(cents !== null ? { amount: money(cents) } : {}),
    ...(failure ? { failure } : {}),
    ...(newToken ? { token: newToken } : {}),
    raw,
  };
  return { ok: true, callback: { eventId, kind: 'payment', merchantReference: fields.m_payment_id, providerReference: pfPaymentId, result, occurredAt: null } };
}
