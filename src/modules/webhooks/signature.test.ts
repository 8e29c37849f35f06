import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signatureHeader, signPayload, verifyPayrailSignature } from './signature.ts';

const secret = 'whsec_test-secret';
const body = '{"id":"e1","type":"purchase.paid","created_at":"2025-01-01T00:00:00.000Z","data":{"amount":378.9}}';
const now = new Date('2025-01-01T00:00:10Z');
const t = Math.floor(now.getTime() / 1000);

describe('payrail-signature', () => {
  it('is Stripe’s scheme: hex HMAC-SHA256 of "<t>.<body>"', () => {
    expect(signPayload(secret, body, t)).toBe(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
    expect(signatureHeader(secret, body, t)).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('verifies what it signed, and nothing else', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifyPayrailSignature(header, body, secret, { now })).toBe(true);
    expect(verifyPayrailSignature(header, Buffer.from(body), secret, { now })).toBe(true);
    expect(verifyPayrailSignature(header, body, 'whsec_other', { now })).toBe(false);
    expect(verifyPayrailSignature(header, body.replace('378.9', '1'), secret, { now })).toBe(false);
    expect(verifyPayrailSignature(header.replace(`t=${t}`, `t=${t + 1}`), body, secret, { now })).toBe(false);
  });

  it('refuses a stale or future timestamp beyond the tolerance', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifyPayrailSignature(header, body, secret, { now: new Date(now.getTime() + 300_000) })).toBe(true);
    expect(verifyPayrailSignature(header, body, secret, { now: new Date(now.getTime() + 301_000) })).toBe(false);
    expect(verifyPayrailSignature(header, body, secret, { now: new Date(now.getTime() - 301_000) })).toBe(false);
    expect(verifyPayrailSignature(header, body, secret, { now: new Date(now.getTime() + 3_600_000), toleranceSeconds: 3_600 })).toBe(true);
  });

  it('accepts any one of several v1 signatures (a secret being changed)', () => {
    const header = `t=${t},v1=${signPayload('whsec_old', body, t)},v1=${signPayload(secret, body, t)}`;
    expect(verifyPayrailSignature(header, body, secret, { now })).toBe(true);
  });

  it('refuses malformed headers without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom(undefined, null, '', 't=', 'v1=', `t=${t}`, `v1=${'0'.repeat(64)}`, `t=x,v1=${'g'.repeat(64)}`)), (header) => {
        expect(verifyPayrailSignature(header, body, secret, { now })).toBe(false);
      }),
    );
  });
});
