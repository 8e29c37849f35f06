import { describe, expect, it } from 'vitest';
import { PEACH_SANDBOX_CREDENTIALS } from './credentials.ts';
import { signFields, signatureMatches, signingString, withSignature } from './signature.ts';

// PROVIDERS.md: Peach's published example, byte for byte.
const PUBLISHED = {
  fields: {
    shopperResultUrl: 'https://webhook.site/4e9b63bf-0d99-4d62-bd24-1d36ca866e1b',
    paymentType: 'DB',
    nonce: 'JHGJSGHDSKJHGJDHGJH',
    merchantTransactionId: 'Test1234',
    defaultPaymentMethod: 'CARD',
    currency: 'ZAR',
    'authentication.entityId': '8ac7a4ca68c22c4d0168c2caab2e0025',
    amount: '2',
  },
  key: '3fcd7cf22f55119eadbe02d14de18c0c',
  string:
    'amount2authentication.entityId8ac7a4ca68c22c4d0168c2caab2e0025currencyZARdefaultPaymentMethodCARDmerchantTransactionIdTest1234nonceJHGJSGHDSKJHGJDHGJHpaymentTypeDBshopperResultUrlhttps://webhook.site/4e9b63bf-0d99-4d62-bd24-1d36ca866e1b',
  signature: '311ed8e11e2da00d98c7479ca390a5396fe643e13629d850243dada877963afd',
};

describe('Peach signatures', () => {
  it('reproduces the published vector exactly, whatever order the fields come in', () => {
    expect(signingString(PUBLISHED.fields)).toBe(PUBLISHED.string);
    expect(signFields(PUBLISHED.fields, PUBLISHED.key)).toBe(PUBLISHED.signature);
    expect(signFields(PUBLISHED.fields, PEACH_SANDBOX_CREDENTIALS.secret_token)).toBe(PUBLISHED.signature);
    expect(withSignature(PUBLISHED.fields, PUBLISHED.key).signature).toBe(PUBLISHED.signature);
  });

  it('leaves the signature field out and keeps empty fields in', () => {
    expect(signingString({ b: '', a: '1', signature: 'x' })).toBe('a1b');
    expect(signFields({ ...PUBLISHED.fields, signature: 'anything' }, PUBLISHED.key)).toBe(PUBLISHED.signature);
    expect(signFields({ ...PUBLISHED.fields, cancelUrl: '' }, PUBLISHED.key)).not.toBe(PUBLISHED.signature);
  });

  it('verifies a signature and refuses any change to a field, a missing field or a malformed signature', () => {
    const signed = withSignature(PUBLISHED.fields, PUBLISHED.key);
    expect(signatureMatches(signed, PUBLISHED.key)).toBe(true);
    expect(signatureMatches({ ...signed, signature: signed.signature.toUpperCase() }, PUBLISHED.key)).toBe(true);
    expect(signatureMatches({ ...signed, amount: '2.00' }, PUBLISHED.key)).toBe(false);
    expect(signatureMatches({ ...signed, extra: '' }, PUBLISHED.key)).toBe(false);
    const { nonce: _dropped, ...withoutNonce } = signed;
    expect(signatureMatches(withoutNonce, PUBLISHED.key)).toBe(false);
    expect(signatureMatches(signed, 'another-secret')).toBe(false);
    expect(signatureMatches({ ...signed, signature: signed.signature.slice(0, 63) }, PUBLISHED.key)).toBe(false);
    expect(signatureMatches({ ...signed, signature: `${signed.signature.slice(0, 63)}g` }, PUBLISHED.key)).toBe(false);
    expect(signatureMatches(PUBLISHED.fields, PUBLISHED.key)).toBe(false);
  });
});
