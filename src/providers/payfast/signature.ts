import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * PayFast's signatures (PROVIDERS.md, PayFast's PHP samples). All are MD5 over a `key=value&…` string whose
 * values are encoded with PHP's `urlencode`, so this module reproduces that encoder byte for byte. Pure: no
 * I/O, no clock.
 */

/** The hosted form's fields in PayFast's documented order: the form signature depends on it. */
export const FORM_FIELDS = [
  'merchant_id', 'merchant_key', 'return_url', 'cancel_url', 'notify_url', 'notify_method', 'name_first', 'name_last',
  'email_address', 'cell_number', 'm_payment_id', 'amount', 'item_name', 'item_description',
  'custom_int1', 'custom_int2', 'custom_int3', 'custom_int4', 'custom_int5',
  'custom_str1', 'custom_str2', 'custom_str3', 'custom_str4', 'custom_str5',
  'email_confirmation', 'confirmation_address', 'currency', 'payment_method', 'subscription_type', 'billing_date',
  'recurring_amount', 'frequency', 'cycles', 'subscription_notify_email', 'subscription_notify_webhook', 'subscription_notify_buyer',
] as const;

const UNRESERVED = /[A-Za-z0-9_.-]/;

/**
 * PHP `urlencode`: UTF-8 bytes; letters, digits and `_.-` stay; a space becomes `+`; every other byte is
 * `%XX` with upper-case hex. Unlike `encodeURIComponent` it also encodes `!'()*~` (`~` → `%7E`).
 * Lone surrogates become U+FFFD's bytes, as PHP would see the string a browser sent.
 */
export function phpUrlencode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(c)) out += c;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** `k=v&…` with PHP-encoded values; keys are PayFast's own field names and are written as they are. */
export const paramString = (pairs: readonly (readonly [string, string])[]): string => pairs.map(([k, v]) => `${k}=${phpUrlencode(v)}`).join('&');

const withPassphrase = (params: string, passphrase: string): string =>
  passphrase.trim() === '' ? params : `${params}${params === '' ? '' : '&'}passphrase=${phpUrlencode(passphrase.trim())}`;

/**
 * The hosted form's signature: the non-empty fields in the order given (PayFast's documented field order),
 * values trimmed, then `&passphrase=…`; MD5, lower-case hex.
 */
export function formSignature(fields: readonly (readonly [string, string])[], passphrase: string): string {
  const present = fields.map(([k, v]) => [k, v.trim()] as const).filter(([k, v]) => v !== '' && k !== 'signature');
  return md5(withPassphrase(paramString(present), passphrase));
}

/**
 * An ITN's parameter string: the fields in the order they were posted, up to (not including) `signature`,
 * empty values kept, values not trimmed. This is also the body of the server confirmation (/eng/query/validate).
 */
export function itnParamString(fields: readonly (readonly [string, string])[]): string {
  const cut = fields.findIndex(([k]) => k === 'signature');
  return paramString(cut === -1 ? fields : fields.slice(0, cut));
}

/** An ITN's signature: MD5 of its parameter string plus `&passphrase=…`. */
export const itnSignature = (params: string, passphrase: string): string => md5(withPassphrase(params, passphrase));

/**
 * The REST API's signature (PayFast's PHP SDK `generateApiSignature`): the header fields merchant-id, version
 * and timestamp, the query and the body fields, and `passphrase`, sorted by key, `http_build_query`-encoded
 * (keys and values PHP-encoded), MD5.
 */
export function apiSignature(fields: Record<string, string>, passphrase: string): string {
  const all: Record<string, string> = { ...fields, passphrase };
  const sorted = Object.keys(all).sort();
  return md5(sorted.map((k) => `${phpUrlencode(k)}=${phpUrlencode(all[k] as string)}`).join('&'));
}

/** Compares two hex signatures without leaking where they differ (case-insensitive, as PHP's MD5 is lower-case). */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
