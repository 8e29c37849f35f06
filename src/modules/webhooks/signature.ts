import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `payrail-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` — Stripe's scheme.
 * The timestamp is signed with the body, so a captured request cannot be replayed later than the
 * receiver's tolerance. Operators can copy `verifyPayrailSignature` as it is (node:crypto only).
 */
export function signPayload(secret: string, body: string | Buffer, t: number): string {
  return createHmac('sha256', secret).update(`${t}.`, 'utf8').update(body).digest('hex');
}

/** The header value for a body signed at `t` (unix seconds). */
export const signatureHeader = (secret: string, body: string, t: number): string => `t=${t},v1=${signPayload(secret, body, t)}`;

export interface VerifyOptions {
  /** How old (or how far in the future) `t` may be. */
  toleranceSeconds?: number;
  /** The receiver's clock. */
  now?: Date;
}

/**
 * True when `header` carries a `v1` signature of exactly `body` (the raw request bytes, before any JSON
 * parsing) made with `secret`, and its `t` is within the tolerance. Compares in constant time. Several
 * `v1=` entries are allowed (any one may match), so a sender can sign with two secrets during a change.
 */
export function verifyPayrailSignature(header: string | undefined | null, body: string | Buffer, secret: string, options: VerifyOptions = {}): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  const { toleranceSeconds = 300, now = new Date() } = options;
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === null || signatures.length === 0) return false;
  if (Math.abs(Math.floor(now.getTime() / 1000) - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signPayload(secret, body, t), 'hex');
  let match = false;
  // Every candidate is compared, so the time taken says nothing about which one matched.
  for (const s of signatures) match = timingSafeEqual(expected, Buffer.from(s, 'hex')) || match;
  return match;
}
