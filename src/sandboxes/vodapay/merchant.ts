import { createHmac, randomInt } from 'node:crypto';

/**
 * The VodaPay Gateway sandbox's merchant and the facts every route shares: the api-key, the response codes
 * and messages (PROVIDERS.md), the `{ succeeded, data }` envelope and the notification's signature.
 * VodaPay publishes no test merchant, so the api-key is ours (README.md).
 */
export const PROVIDER = 'VodaPay';

export const VODAPAY_SANDBOX_MERCHANT = {
  /** The `api-key` header: the merchant's GUID (any letter case). Also the notification signing key. */
  apiKey: '5b0f3c8e-7a41-4d2b-9e6c-1f8a2d4c7e90',
} as const;

/**
 * `x-vodapay-signature` of a notification: lower-case hex HMAC-SHA256 of the exact body bytes (UTF-8), keyed
 * with the api-key as given (its UTF-8 text).
 */
export function signVodaPayNotification(body: string, apiKey: string): string {
  return createHmac('sha256', apiKey).update(body, 'utf8').digest('hex');
}

/** The codes this sandbox answers, with their messages (PROVIDERS.md's list, ISO 8583 wording). */
export const CODES = {
  '00': 'Approved or completed successfully',
  '03': 'Invalid merchant',
  '05': 'Do not honour',
  '06': 'Error',
  '10': 'Approved for partial amount',
  '17': 'Customer cancellation',
  '26': 'Duplicate transaction',
  '51': 'Not sufficient funds',
  '54': 'Expired card',
  '56': 'No card record',
  '91': 'Issuer or switch inoperative',
  '96': 'System malfunction',
  D1: 'Invalid service level',
  D2: 'Invalid transaction parameter usage',
  D3: 'Repeat parameter mismatch',
  D4: 'Transaction already in progress',
} as const;
export type Code = keyof typeof CODES;

/** Codes of an approval (PROVIDERS.md: 00, 08, 10, 11, 16); `succeeded` is true for these only. */
const APPROVALS = new Set(['00', '08', '10', '11', '16']);
export const isApproval = (code: string): boolean => APPROVALS.has(code);

/**
 * HTTP 400 for a request the gateway refused before any charge (no ledger row); 200 for everything else: an
 * accepted initiation, a charge made or declined by the issuer, a token action, a cancelled or expired page.
 */
const REFUSALS = new Set<string>(['03', '26', '54', '56', 'D1', 'D2', 'D3', 'D4']);
export const httpStatusOf = (code: string): 200 | 400 => (REFUSALS.has(code) ? 400 : 200);

/** A responseMessage: the code's message, then what exactly; at most 99 characters (seed 001). */
export function messageOf(code: Code, detail?: string): string {
  const text = detail ? `${CODES[code]}: ${detail}` : CODES[code];
  return text.length > 99 ? `${text.slice(0, 98)}…` : text;
}

export interface ResponseData {
  echoData: string | null;
  responseCode: string;
  responseMessage: string;
  transmissionDateTime: string;
  sessionId: string | null;
  transactionId: string | null;
  traceId: string | null;
  initiationUrl?: string;
  paymentToken?: string;
}

/** What a route answers: the HTTP status and the envelope. */
export interface Answer {
  status: number;
  body: { succeeded: boolean; data: ResponseData };
}

/** The envelope, its data's fields always in this order (a stored result comes back from jsonb reordered). */
export function answer(d: ResponseData): Answer {
  const data: ResponseData = {
    echoData: d.echoData,
    responseCode: d.responseCode,
    responseMessage: d.responseMessage,
    transmissionDateTime: d.transmissionDateTime,
    sessionId: d.sessionId,
    transactionId: d.transactionId,
    traceId: d.traceId,
    ...(d.initiationUrl !== undefined ? { initiationUrl: d.initiationUrl } : {}),
    ...(d.paymentToken !== undefined ? { paymentToken: d.paymentToken } : {}),
  };
  return { status: httpStatusOf(data.responseCode), body: { succeeded: isApproval(data.responseCode), data } };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/**
 * transmissionDateTime as seed 001 shows it, which differs by message: `2020-12-13T12:02:33+0000` (24
 * characters) for Recurring and token actions, `2022-07-30T14:47:31.3819403+00:00` (7 fraction digits) for
 * SubmitRecurring. Both UTC.
 */
export function transmissionDateTime(now: Date, style: 'initiate' | 'submit'): string {
  const base = `${now.getUTCFullYear()}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}T${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  return style === 'initiate' ? `${base}+0000` : `${base}.${pad(now.getUTCMilliseconds(), 3)}0000+00:00`;
}

const digits = (n: number): string => Array.from({ length: n }, () => randomInt(10)).join('');
/** A payment token: 19 digits, never starting with 0 (ours: VodaPay publishes only the length). */
export const newPaymentToken = (): string => `${1 + randomInt(9)}${digits(18)}`;
/** A retrieval reference number: 12 digits, as ISO 8583's field 37. */
export const newRetrievalReference = (): string => digits(12);
