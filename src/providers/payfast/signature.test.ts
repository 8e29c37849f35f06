import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiSignature, formSignature, itnParamString, itnSignature, phpUrlencode, sameSignature } from './signature.ts';

/** Vectors written out by hand from PayFast's rules; their MD5s were taken with `printf '%s' … | md5sum`. */
const PASSPHRASE = 'jt7NOE43FZPn';

describe('PHP urlencode', () => {
  it('encodes like PHP, not like encodeURIComponent', () => {
    expect(phpUrlencode('Day bundle')).toBe('Day+bundle');
    expect(phpUrlencode('a~b')).toBe('a%7Eb');
    expect(phpUrlencode("!'()*")).toBe('%21%27%28%29%2A');
    expect(phpUrlencode('https://x.example/r?a=1&b=2')).toBe('https%3A%2F%2Fx.example%2Fr%3Fa%3D1%26b%3D2');
    expect(phpUrlencode('-_.')).toBe('-_.');
    expect(phpUrlencode('Café')).toBe('Caf%C3%A9');
    expect(phpUrlencode('%+')).toBe('%25%2B');
    expect(phpUrlencode('\ud800')).toBe('%EF%BF%BD'); // a lone surrogate is sent as U+FFFD
  });

  it('round-trips through form decoding for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(new URLSearchParams(`v=${phpUrlencode(s)}`).get('v')).toBe(s);
        expect(phpUrlencode(s)).toMatch(/^[A-Za-z0-9_.+%-]*$/);
      }),
    );
  });
});

describe('form signature', () => {
  it('signs the non-empty, trimmed fields in the order given, then the passphrase', () => {
    const fields: [string, string][] = [
      ['merchant_id', '10000100'],
      ['merchant_key', '46f0cd694581a'],
      ['return_url', 'https://shop.example/return?a=1&b=x y'],
      ['cancel_url', ''],
      ['m_payment_id', 'P0001'],
      ['amount', '100.00'],
      ['item_name', ' Day bundle ~ 7* '],
    ];
    // merchant_id=10000100&merchant_key=46f0cd694581a&return_url=https%3A%2F%2Fshop.example%2Freturn%3Fa%3D1%26b%3Dx+y
    //   &m_payment_id=P0001&amount=100.00&item_name=Day+bundle+%7E+7%2A&passphrase=jt7NOE43FZPn
    expect(formSignature(fields, PASSPHRASE)).toBe('d6ca6650e2665917472796bc56ebbf75');
    expect(formSignature([...fields, ['signature', 'ignored']], PASSPHRASE)).toBe('d6ca6650e2665917472796bc56ebbf75');
    expect(formSignature(fields.slice().reverse(), PASSPHRASE)).not.toBe('d6ca6650e2665917472796bc56ebbf75');
  });
});

describe('ITN signature', () => {
  it('covers the fields in received order up to signature, empty values kept', () => {
    const pairs: [string, string][] = [
      ['m_payment_id', 'P1'],
      ['pf_payment_id', '123'],
      ['payment_status', 'COMPLETE'],
      ['item_name', 'Test Item'],
      ['custom_str1', ''],
      ['amount_gross', '10.00'],
      ['merchant_id', '10000100'],
      ['signature', 'whatever'],
      ['after', 'ignored'],
    ];
    const params = itnParamString(pairs);
    expect(params).toBe('m_payment_id=P1&pf_payment_id=123&payment_status=COMPLETE&item_name=Test+Item&custom_str1=&amount_gross=10.00&merchant_id=10000100');
    expect(itnSignature(params, PASSPHRASE)).toBe('5acfe82022106be9429bddbe3cae2cbd');
  });
});

describe('API signature', () => {
  it('sorts headers and body fields with the passphrase and encodes keys and values', () => {
    const fields = { 'merchant-id': '10000100', version: 'v1', timestamp: '2024-06-06T07:09:11+00:00', amount: '37900', item_name: "Day 'bundle'", item_description: 'Café week', m_payment_id: 'P-1' };
    // amount=37900&item_description=Caf%C3%A9+week&item_name=Day+%27bundle%27&m_payment_id=P-1&merchant-id=10000100
    //   &passphrase=jt7NOE43FZPn&timestamp=2024-06-06T07%3A09%3A11%2B00%3A00&version=v1
    expect(apiSignature(fields, PASSPHRASE)).toBe('916dc2663e0baf2b6c8b9f0ea824f6bd');
  });
});

describe('signature comparison', () => {
  it('is case-insensitive and refuses different lengths', () => {
    expect(sameSignature('ABC123', 'abc123')).toBe(true);
    expect(sameSignature('abc12', 'abc123')).toBe(false);
    expect(sameSignature('', '')).toBe(true);
  });
});
