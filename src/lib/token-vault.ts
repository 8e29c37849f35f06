import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Secret } from './secret.ts';

/**
 * Provider tokens (card registrations, PayFast tokens, mandates) are stored encrypted with AES-256-GCM,
 * in a table no read endpoint selects from. A database dump alone does not give them away.
 * Format: `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
 */
export class TokenVault {
  readonly #key: Buffer;

  constructor(key: Secret) {
    this.#key = Buffer.from(key.reveal(), 'hex');
    if (this.#key.length !== 32) throw new RangeError('token vault key must be 32 bytes');
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), ct].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  /**
   * A keyed hash of a token, to find the medium a provider names by its token without storing the token
   * in the clear. Deterministic, and useless without the key.
   */
  fingerprint(provider: string, token: string): string {
    return createHmac('sha256', this.#key).update(`payrail-token-fingerprint\0${provider}\0${token}`).digest('base64url');
  }

  /** `context` binds a sealed value to its row (the medium id): a token copied to another row won't open. */
  open(sealed: string, context: string): string {
    const [version, iv, tag, ct] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || ct === undefined) throw new Error('not a sealed token');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
