import type { AttemptResult, AttemptStatus, Money, NewToken } from '../contract.ts';

/**
 * Peach Payments' wire types and the pure mappings from them to payrail's attempt results (STYLE 3–4).
 * Checkout (initiate, status, the shopper's redirect, webhooks) speaks flat, signed fields such as
 * `result.code` and `card.last4Digits`; the Payments API (token charges, queries) answers nested JSON.
 */

export interface PeachResult {
  code: string;
  description: string;
  parameterErrors?: { name: string; value?: string; message: string }[];
}

/** `POST /checkout/initiate`, sent as JSON: every value a string, as the signature needs. */
export interface CheckoutInitiateRequest {
  'authentication.entityId': string;
  merchantTransactionId: string;
  amount: string;
  paymentType: 'DB' | 'PA';
  currency: 'ZAR';
  nonce: string;
  shopperResultUrl: string;
  cancelUrl?: string;
  notificationUrl?: string;
  defaultPaymentMethod?: string;
  createRegistration?: 'true' | 'false';
  signature: string;
}

export interface CheckoutInitiateResponse {
  result?: PeachResult;
  redirectUrl?: string;
  checkoutId?: string;
}

/** One payment as the Payments API describes it (`/v1/registrations/{id}/payments`, `/v1/query`). */
export interface PaymentResponse {
  id?: string;
  paymentType?: string;
  amount?: string;
  currency?: string;
  merchantTransactionId?: string;
  result?: PeachResult;
  card?: { bin?: string; last4Digits?: string; holder?: string; expiryMonth?: string; expiryYear?: string };
  timestamp?: string;
}

export interface QueryResponse {
  result?: PeachResult;
  payments?: PaymentResponse[];
}

/** The shopper's redirect, webhooks and the status answer: flat string fields, signed. */
export type CheckoutFields = Record<string, string>;

/**
 * Peach's result-code groups (its "result codes" reference), in the order they are tried. Only the
 * groups payrail acts on are named; every other code is `unrecognised`.
 */
export const RESULT_CLASSES = [
  'success',
  'success_needs_review',
  'pending',
  'declined',
  'registration_invalid',
  'cancelled',
  'communication_error',
  'request_invalid',
  'unrecognised',
] as const;
export type ResultClass = (typeof RESULT_CLASSES)[number];

const PATTERNS: readonly [ResultClass, RegExp][] = [
  ['success', /^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.[1][12]0)/],
  ['success_needs_review', /^(000\.400\.0[^3]|000\.400\.100)/],
  ['pending', /^(000\.200)/],
  ['pending', /^(800\.400\.5|100\.400\.500)/],
  ['declined', /^(800\.[17]00|800\.800\.[123])/],
  ['registration_invalid', /^(100\.[13]50)/],
  // "Cancelled by user": what Checkout reports for a checkout that ended unpaid. Not final: Peach documents
  // payments that turn successful after their session ended as cancelled or uncertain.
  ['cancelled', /^100\.396\.101$/],
  ['communication_error', /^(000\.400\.030|900\.[1234]00)/],
  ['request_invalid', /^(200\.[123]|100\.[53][07]|800\.900|100\.[69]00\.500)/],
];

export function classifyResult(code: string | undefined): ResultClass {
  if (typeof code !== 'string') return 'unrecognised';
  return PATTERNS.find(([, pattern]) => pattern.test(code))?.[0] ?? 'unrecognised';
}

/**
 * Only an explicit answer is final: a success, or a decline by the bank (or of the stored card). A success
 * Peach wants reviewed by hand, a communication error with the bank and an invalid request (seen in a status
 * answer) are not answers about the money: `unknown`. A checkout reported cancelled may still turn
 * successful (PROVIDERS.md): `pending`, until the connector's settle window has passed.
 */
export const STATUS_OF_CLASS = {
  success: 'succeeded',
  success_needs_review: 'unknown',
  pending: 'pending',
  declined: 'failed',
  registration_invalid: 'failed',
  cancelled: 'pending',
  communication_error: 'unknown',
  request_invalid: 'unknown',
  unrecognised: 'unknown',
} as const satisfies Record<ResultClass, AttemptStatus>;

type FailureKind = NonNullable<AttemptResult['failure']>['kind'];

const DECLINE_KINDS: Readonly<Record<string, FailureKind>> = {
  '800.100.155': 'insufficient_funds',
  '800.100.151': 'invalid',
};

export function failureKind(code: string, cls: ResultClass): FailureKind {
  if (cls === 'cancelled') return 'cancelled';
  if (cls === 'registration_invalid') return 'invalid';
  if (cls === 'declined') return DECLINE_KINDS[code] ?? 'declined';
  return 'other';
}

/** Cents → Peach's amount: "379.00". */
export function formatAmount(cents: number): string {
  return `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** Peach's amount → cents; null when it is not one ("10", "10.5" and "10.50" are). */
export function parseAmount(value: unknown): number | null {
  if (typeof value !== 'string' || !/^[0-9]{1,10}(\.[0-9]{1,2})?$/.test(value)) return null;
  const [whole = '0', fraction = ''] = value.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** What one Peach answer says about one attempt, before it is judged. */
export interface PeachOutcome {
  code: string | undefined;
  description: string | undefined;
  providerReference: string | null;
  amount: string | undefined;
  currency: string | undefined;
  merchantTransactionId: string | undefined;
  token: NewToken | undefined;
  raw: unknown;
}

export interface Judged {
  result: AttemptResult;
  /** Why a success was not believed (amount, currency or reference differs): the caller logs it. */
  problem: string | null;
}

/**
 * An outcome as an attempt result. A success counts only when it carries the amount and currency that
 * were asked (and our reference, when Peach echoes it); otherwise it is `unknown` for a person to settle.
 */
export function judge(o: PeachOutcome, expected: { amount: Money | null; merchantReference: string | null }): Judged {
  const cls = classifyResult(o.code);
  const status: AttemptStatus = STATUS_OF_CLASS[cls];
  const cents = parseAmount(o.amount);
  const amount: Money | undefined = cents !== null && o.currency === 'ZAR' ? { amountCents: cents, currency: 'ZAR' } : undefined;
  const base = { providerReference: o.providerReference, raw: o.raw, ...(amount ? { amount } : {}) };
  if (status === 'failed') {
    const code = o.code ?? '';
    return { result: { ...base, status, failure: { code, message: o.description ?? code, kind: failureKind(code, cls) } }, problem: null };
  }
  if (status !== 'succeeded') return { result: { ...base, status }, problem: null };
  let problem: string | null = null;
  if (!amount) problem = `success without a readable ZAR amount (${o.currency ?? 'no currency'})`;
  else if (expected.amount && amount.amountCents !== expected.amount.amountCents) problem = `success for ${amount.amountCents} cents, ${expected.amount.amountCents} asked`;
  else if (expected.merchantReference && o.merchantTransactionId !== undefined && o.merchantTransactionId !== expected.merchantReference) problem = 'success for another merchantTransactionId';
  if (problem) return { result: { ...base, status: 'unknown' }, problem };
  return { result: { ...base, status, ...(o.token ? { token: o.token } : {}) }, problem: null };
}

const month = (v: string | undefined): number | undefined => (v && /^(0?[1-9]|1[0-2])$/.test(v) ? Number(v) : undefined);
const year = (v: string | undefined): number | undefined => (v && /^[0-9]{4}$/.test(v) ? Number(v) : undefined);

/** Checkout fields (redirect, webhook, status) as an outcome; `providerReference` is the checkoutId. */
export function checkoutOutcome(fields: CheckoutFields): PeachOutcome {
  const registrationId = fields.registrationId;
  const expiryMonth = month(fields['card.expiryMonth']);
  const expiryYear = year(fields['card.expiryYear']);
  const token: NewToken | undefined = registrationId
    ? {
        value: registrationId,
        mediumType: 'CreditCard',
        accountName: fields['card.holder'] ?? '',
        accountNumber: fields['card.last4Digits'] || null,
        ...(expiryMonth !== undefined ? { expiryMonth } : {}),
        ...(expiryYear !== undefined ? { expiryYear } : {}),
        // The payment that stored the card: later merchant-initiated charges cite it.
        ...(fields.id ? { agreementReference: fields.id } : {}),
      }
    : undefined;
  return {
    code: fields['result.code'],
    description: fields['result.description'],
    providerReference: fields.checkoutId || null,
    amount: fields.amount,
    currency: fields.currency,
    merchantTransactionId: fields.merchantTransactionId,
    token,
    raw: safeFields(fields),
  };
}

/** A Payments API payment as an outcome; `providerReference` is the payment id. */
export function paymentOutcome(p: PaymentResponse): PeachOutcome {
  return {
    code: p.result?.code,
    description: p.result?.description,
    providerReference: typeof p.id === 'string' && p.id !== '' ? p.id : null,
    amount: p.amount,
    currency: p.currency,
    merchantTransactionId: p.merchantTransactionId,
    token: undefined,
    raw: safePayment(p),
  };
}

/** Checkout fields fit for the payment record: no signature, registration id or card data but the last 4 digits. */
export function safeFields(fields: CheckoutFields): CheckoutFields {
  return Object.fromEntries(
    Object.entries(fields).filter(([k]) => k !== 'signature' && k !== 'registrationId' && (!k.startsWith('card.') || k === 'card.last4Digits')),
  );
}

export function safePayment(p: PaymentResponse): Record<string, unknown> {
  const { card, registrationId: _registration, ...rest } = p as PaymentResponse & { registrationId?: unknown };
  return { ...rest, ...(card?.last4Digits ? { card: { last4Digits: card.last4Digits } } : {}) };
}

/** The first-best payment of a query answer: an approval wins, then a pending one, else the latest. */
export function pickPayment(payments: readonly PaymentResponse[]): PaymentResponse | undefined {
  const by = (cls: ResultClass) => payments.find((p) => classifyResult(p.result?.code) === cls);
  return by('success') ?? by('pending') ?? payments[payments.length - 1];
}
