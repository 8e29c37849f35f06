import type { AttemptResult, CheckoutInput, MandateTerms, Money } from '../contract.ts';
import { isObject, jsonObject } from '../kit/http.ts';

/**
 * VodaPay Gateway's messages (seed 001; PROVIDERS.md): the `{ succeeded, data }` envelope, its response
 * codes and what each means for an attempt, and the requests payrail sends.
 */

/** `data` of an answer, as far as payrail reads it. */
export interface GatewayData {
  responseCode: string;
  responseMessage: string;
  transactionId: string | null;
  sessionId: string | null;
  traceId: string | null;
  paymentToken: string | null;
  initiationUrl: string | null;
  /** Cents, when the gateway says (the notification does; answers need not). */
  amountCents: number | null;
}

/** An answer's body: `{ succeeded, data: { responseCode … } }`, whatever its HTTP status (200 and 400 share it). */
export function parseEnvelope(text: string): GatewayData | null {
  const body = jsonObject(text);
  const data = body && isObject(body.data) ? body.data : body;
  return data ? gatewayData(data) : null;
}

/** The fields payrail reads from an answer's `data` or a notification. */
export function gatewayData(data: Record<string, unknown>): GatewayData | null {
  const code = data.responseCode;
  if (typeof code !== 'string' && typeof code !== 'number') return null;
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
  const amount = data.amount;
  return {
    responseCode: String(code).trim().toUpperCase(),
    responseMessage: str(data.responseMessage) ?? '',
    transactionId: str(data.transactionId),
    sessionId: str(data.sessionId),
    traceId: str(data.traceId),
    paymentToken: str(data.paymentToken),
    initiationUrl: str(data.initiationUrl),
    amountCents: typeof amount === 'number' && Number.isSafeInteger(amount) ? amount : null,
  };
}

type FailureKind = NonNullable<AttemptResult['failure']>['kind'];

/** What a response code means. Anything not in this table is not understood, so not final: `unknown`. */
export type CodeMeaning =
  | { is: 'approved' }
  /** 10: approved for part of the amount. The purchase is not paid; someone must look at it. */
  | { is: 'partial' }
  | { is: 'declined'; kind: FailureKind }
  /** D4: the same traceId is still being processed (or its page is still open). */
  | { is: 'in_progress' }
  /** 26: a repeated traceId answered as a duplicate, without the original's result: no verdict. */
  | { is: 'duplicate' }
  /** D3: a repeated traceId with other parameters: payrail's repeat differs from its original. */
  | { is: 'mismatch' }
  /** 03: the api-key is not a merchant's: nothing was processed. */
  | { is: 'merchant' }
  | { is: 'unrecognised' };

const CODES: Readonly<Record<string, CodeMeaning>> = {
  '00': { is: 'approved' },
  '08': { is: 'approved' },
  '11': { is: 'approved' },
  '16': { is: 'approved' },
  '10': { is: 'partial' },
  '03': { is: 'merchant' },
  '04': { is: 'declined', kind: 'declined' },
  '05': { is: 'declined', kind: 'declined' },
  '06': { is: 'declined', kind: 'other' },
  '17': { is: 'declined', kind: 'cancelled' },
  '26': { is: 'duplicate' },
  '51': { is: 'declined', kind: 'insufficient_funds' },
  '54': { is: 'declined', kind: 'expired' },
  '56': { is: 'declined', kind: 'invalid' },
  '68': { is: 'declined', kind: 'other' },
  '69': { is: 'declined', kind: 'other' },
  '91': { is: 'declined', kind: 'other' },
  '92': { is: 'declined', kind: 'other' },
  '96': { is: 'declined', kind: 'other' },
  '99': { is: 'declined', kind: 'declined' },
  D1: { is: 'declined', kind: 'invalid' },
  D2: { is: 'declined', kind: 'invalid' },
  D3: { is: 'mismatch' },
  D4: { is: 'in_progress' },
};

export const meaningOf = (code: string): CodeMeaning => CODES[code] ?? { is: 'unrecognised' };

/**
 * An answer (or a notification) as an attempt's result. `requested` is the attempt's amount: an approval
 * is for it unless the gateway names another; a partial approval (10) names what was taken, which payrail
 * refuses as this attempt's success (it stays unknown, and is logged for someone to look at).
 */
export function resultOf(data: GatewayData, requested: Money, raw: unknown): AttemptResult {
  const meaning = meaningOf(data.responseCode);
  const providerReference = data.transactionId;
  switch (meaning.is) {
    case 'approved':
      return { status: 'succeeded', providerReference, amount: data.amountCents === null ? requested : { amountCents: data.amountCents, currency: 'ZAR' }, raw };
    case 'partial':
      return data.amountCents !== null && data.amountCents < requested.amountCents
        ? { status: 'succeeded', providerReference, amount: { amountCents: data.amountCents, currency: 'ZAR' }, raw }
        : { status: 'unknown', providerReference, raw };
    case 'declined':
      return { status: 'failed', providerReference, failure: { code: data.responseCode, message: data.responseMessage || `VodaPay declined (${data.responseCode})`, kind: meaning.kind }, raw };
    case 'in_progress':
      return { status: 'pending', providerReference, raw };
    default:
      return { status: 'unknown', providerReference, raw };
  }
}

/** What a record keeps of an answer: its codes and ids, never a token. */
export const rawOf = (data: GatewayData | null, httpStatus: number): Record<string, unknown> => ({
  http_status: httpStatus,
  response_code: data?.responseCode ?? null,
  response_message: data?.responseMessage ?? null,
  transaction_id: data?.transactionId ?? null,
  session_id: data?.sessionId ?? null,
});

/** South Africa's VAT: the basket states each line's VAT, and payrail's amounts are VAT-inclusive. */
const VAT_RATE_BP = 1500;

/** The basket of one purchase paid at once: one line, VAT split out of the inclusive amount. */
export function basketOf(reference: string, description: string, amountCents: number) {
  const excl = Math.round((amountCents * 10_000) / (10_000 + VAT_RATE_BP));
  return [{ lineNumber: '1', Id: reference, barcode: reference, quantity: 1, description: description.slice(0, 99), amountExVAT: excl, amountVAT: amountCents - excl }];
}

/** Seed 001's `recurring` block for a monthly mandate: category 6 (ongoing, fixed, scheduled by the merchant), frequency 6 (monthly). */
export function recurringOf(mandate: MandateTerms) {
  return {
    category: 6,
    frequency: 6,
    regularPaymentDay: mandate.day,
    firstPaymentDate: mandate.firstPaymentDate,
    amount: mandate.amount.amountCents,
    paymentInstrumentMinimumValidityPeriod: mandate.minimumValidityMonths,
  };
}

/** `/V2/Pay/Recurring`: the first payment now, on VodaPay's page, and the mandate for the rest. */
export function initiation(input: Pick<CheckoutInput, 'merchantReference' | 'amount' | 'description' | 'customer'>, mandate: MandateTerms, urls: { callbackUrl?: string; notificationUrl?: string | null }) {
  const notifications = { ...(urls.callbackUrl ? { callbackUrl: urls.callbackUrl } : {}), ...(urls.notificationUrl ? { notificationUrl: urls.notificationUrl } : {}) };
  return {
    echoData: input.merchantReference,
    traceId: input.merchantReference,
    amount: input.amount.amountCents,
    customerId: input.customer.id,
    delayedSettlement: false,
    basket: basketOf(input.merchantReference, input.description, input.amount.amountCents),
    ...(Object.keys(notifications).length > 0 ? { notifications } : {}),
    recurring: recurringOf(mandate),
  };
}

/** `/V2/Pay/SubmitRecurring`: one collection against the mandate's payment token. */
export function submission(input: { merchantReference: string; amount: Money; token: string; customerId: string | null; notificationUrl?: string | null }) {
  return {
    echoData: input.merchantReference,
    traceId: input.merchantReference,
    paymentToken: input.token,
    amount: input.amount.amountCents,
    ...(input.customerId ? { customerId: input.customerId } : {}),
    ...(input.notificationUrl ? { notifications: { notificationUrl: input.notificationUrl } } : {}),
  };
}

/** A card as `/V2/Token/List` describes it: last four digits and expiry, when it says. */
export function cardOfToken(entry: Record<string, unknown>): { last4: string | null; expiryMonth?: number; expiryYear?: number; name: string | null } {
  const truncated = typeof entry.truncatedPaymentInstrument === 'string' ? entry.truncatedPaymentInstrument.replace(/\D/g, '') : '';
  const last4 = truncated.length >= 4 ? truncated.slice(-4) : null;
  const expiry = typeof entry.paymentInstrumentExpiryDate === 'string' ? entry.paymentInstrumentExpiryDate.replace(/\D/g, '') : '';
  // ISO 8583 writes a card's expiry YYMM.
  const yy = Number(expiry.slice(0, 2));
  const mm = Number(expiry.slice(2, 4));
  const dated = expiry.length === 4 && mm >= 1 && mm <= 12;
  const name = typeof entry.paymentInstrumentName === 'string' && entry.paymentInstrumentName.trim() ? entry.paymentInstrumentName.trim().slice(0, 100) : null;
  return { last4, ...(dated ? { expiryMonth: mm, expiryYear: 2000 + yy } : {}), name };
}
