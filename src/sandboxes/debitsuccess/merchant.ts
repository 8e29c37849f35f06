import { randomInt, randomUUID } from 'node:crypto';
import { DEBITSUCCESS_SANDBOX_CREDENTIALS } from '../../providers/debitsuccess/credentials.ts';

/**
 * The Debitsuccess sandbox's merchant (a "facility") and the facts every route shares: credentials, codes
 * and messages of seed 002, and the message envelope. Debitsuccess publishes no test credentials, so these
 * are ours (README.md).
 */
export const PROVIDER = 'Debitsuccess';

export const DEBITSUCCESS_SANDBOX_MERCHANT = {
  /** The message API (GetPaymentToken, GetCardPaymentStatusForCustomerAccount …): `User { Username, Password }`, as the connector fills them. */
  username: DEBITSUCCESS_SANDBOX_CREDENTIALS.username,
  password: DEBITSUCCESS_SANDBOX_CREDENTIALS.password,
  /** The REST API (debit orders, payment statuses): OAuth2 client credentials at /identity/connect/token. */
  clientId: DEBITSUCCESS_SANDBOX_CREDENTIALS.clientId,
  clientSecret: DEBITSUCCESS_SANDBOX_CREDENTIALS.clientSecret,
  businessId: DEBITSUCCESS_SANDBOX_CREDENTIALS.businessId,
  /** The static token agreed with the merchant, sent as `X-Token` on Realtime.* and payment-status webhooks. */
  webhookXToken: DEBITSUCCESS_SANDBOX_CREDENTIALS.webhookToken,
  /** Accounts opened by the sandbox are `TST` + 7 digits, as in the seed's examples (ContractPrefix `TST`). */
  contractPrefix: 'TST',
} as const;

/** The messages of seed 002, by code. 14044 keeps its {0} and {1}. */
export const NOTES = {
  '02': 'Invalid user credentials',
  '07': 'Multiple accounts found with this criteria',
  '08': 'There is no record found with this criteria',
  '10': 'Account is not active',
  '12016': 'Missing required reference number. Must provide either ExternalAccountReferenceNo or AccountReferenceNo or both.',
  '14034': 'RequestType is required',
  '14035': 'PayMethodType is required',
  '14036': 'Amount is required when RequestType is RealTimePayment.',
  '14038': 'Real time payments can only be processed for Credit Cards. Please ensure PayMethodType is CreditCard when RequestType is RealTimePayment.',
  '14039': 'Missing required CallBackUrl.',
  '14040': 'CallBackUrl cannot exceed 256 characters',
  '14041': 'PaymentNote is required if CreateOneOffCharge is true.',
  '14042': 'PaymentNote cannot exceed 30 characters.',
  '14043': 'Invalid CallBackUrl - Ensure URL is correctly formatted. Example: https://www.debitsuccess.com',
  '14044': 'The Amount provided is more than the maximum amount allowed to pay for this account. Please ensure amount is between {0} and {1}',
  '14045': 'Amount cannot be more than the outstanding balance when account is set to fixed term.',
  '14107': 'Cannot update the payment method as this account is an Add on Product. Please update the main account for this customer.',
} as const;
export type NoteCode = keyof typeof NOTES;

export interface ResponseNote {
  Code: string;
  Note: string;
  NoteType: 'Error' | 'Warning' | 'Info';
}

export const errorNote = (code: NoteCode, ...args: string[]): ResponseNote => ({
  Code: code,
  Note: args.reduce<string>((note, arg, i) => note.replace(`{${i}}`, arg), NOTES[code]),
  NoteType: 'Error',
});

/** The envelope every message answers in (seed 002): DateCreated, Id, ResponseNotes, Status, then the message's fields. */
export function envelope<T extends Record<string, unknown>>(now: Date, notes: ResponseNote[], fields: T) {
  return { DateCreated: now.toISOString(), Id: randomUUID(), ResponseNotes: notes, Status: notes.some((n) => n.NoteType === 'Error') ? 'Failed' : 'Succeed', ...fields };
}

/** `User { Username, Password }` as the sandbox's merchant's. */
export function validUser(user: unknown): boolean {
  if (user === null || typeof user !== 'object') return false;
  const u = user as Record<string, unknown>;
  return u.Username === DEBITSUCCESS_SANDBOX_MERCHANT.username && u.Password === DEBITSUCCESS_SANDBOX_MERCHANT.password;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Tokens and WebhookTokens: 8 letters and digits, like the seed's `QyqqjL0G`. */
export const newToken = (): string => Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/** A string field of a message, trimmed; null when absent or empty. */
export const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null);

/** Decimal(10,2) as JSON gives it (a number or a string): cents, or null when it is not such an amount. */
export function amountCents(v: unknown): number | null {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : null;
  if (s === null || !/^-?[0-9]{1,8}(\.[0-9]{1,2})?$/.test(s)) return null;
  const negative = s.startsWith('-');
  const [whole, frac = ''] = s.replace('-', '').split('.');
  const cents = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  return negative ? -cents : cents;
}

export const rand = (cents: number): string => (cents / 100).toFixed(2);
