import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Peach Payments Checkout signatures (PROVIDERS.md): every field except `signature` — empty ones too —
 * sorted by name, each written as name+value with no separator, HMAC-SHA256 under the merchant's secret
 * token, lower-case hex. The same scheme signs requests (checkout initiate, status) and Peach's answers
 * (status, the shopper's redirect, webhooks). Pure: no I/O, no logging.
 */
export type SignedFields = Readonly<Record<string, string>>;

/** The text Peach signs. Names sort by UTF-16 code unit (`Array.prototype.sort`), as Peach's samples do. */
export function signingString(fields: SignedFields): string {
  return Object.keys(fields)
    .filter((name) => name !== 'signature')
    .sort()
    .map((name) => `${name}${fields[name]}`)
    .join('');
}

export function signFields(fields: SignedFields, secretToken: string): string {
  return createHmac('sha256', secretToken).update(signingString(fields), 'utf8').digest('hex');
}

/** The fields with their `signature` added (or replaced). */
export function withSignature(fields: SignedFields, secretToken: string): Record<string, string> & { signature: string } {
  const { signature: _ignored, ...rest } = fields;
  return { ...rest, signature: signFields(rest, secretToken) };
}

/** True when `fields.signature` is the signature of the other fields. Constant-time in the signature. */
export function signatureMatches(fields: SignedFields, secretToken: string): boolean {
  const given = fields.signature;
  if (typeof given !== 'string' || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(signFields(fields, secretToken), 'hex'), Buffer.from(given, 'hex'));
}
