import { describe, expect, it } from 'vitest';
import { Secret } from './secret.ts';
import { TokenVault } from './token-vault.ts';

const vault = new TokenVault(new Secret('ab'.repeat(32)));

describe('token vault', () => {
  it('seals a provider token so that only its own row opens it', () => {
    const sealed = vault.seal('payfast-token-123', 'medium-a');
    expect(sealed).not.toContain('payfast-token-123');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(vault.open(sealed, 'medium-a')).toBe('payfast-token-123');
    expect(() => vault.open(sealed, 'medium-b')).toThrow();
    expect(vault.seal('payfast-token-123', 'medium-a')).not.toBe(sealed); // fresh IV every time
  });

  it('refuses tampered ciphertext and the wrong key', () => {
    const sealed = vault.seal('token', 'm');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => vault.open(parts.join('.'), 'm')).toThrow();
    expect(() => new TokenVault(new Secret('cd'.repeat(32))).open(sealed, 'm')).toThrow();
    expect(() => new TokenVault(new Secret('ab'))).toThrow(RangeError);
  });

  it('keeps secrets out of strings, JSON and inspection', () => {
    const s = new Secret('hunter2');
    expect(`${s}`).toBe('[secret]');
    expect(JSON.stringify({ s })).toBe('{"s":"[secret]"}');
    expect(s.reveal()).toBe('hunter2');
  });
});
