import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base 32: no I, L, O, U

/**
 * Our id of one collection attempt, sent to the provider as its transaction id (Peach's
 * merchantTransactionId, PayFast's m_payment_id). 16 characters: Peach allows 8–16; 75 bits of randomness.
 */
export function newMerchantReference(): string {
  const bytes = randomBytes(15);
  let out = 'P';
  for (let i = 0; i < 15; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}
