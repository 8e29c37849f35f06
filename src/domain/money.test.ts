import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randToCents, toRand } from './money.ts';

describe('money at the JSON edge', () => {
  it('rand amounts with up to two decimals become exact cents', () => {
    expect(randToCents(378.9)).toBe(37890);
    expect(randToCents(34.5)).toBe(3450);
    expect(randToCents(1000)).toBe(100000);
    expect(randToCents(0.07)).toBe(7);
    expect(randToCents(-12.34)).toBe(-1234);
    expect(randToCents(1.1 + 2.2)).toBeNull(); // 3.3000000000000003 is not a rand amount
  });

  it('refuses more than two decimals and non-finite numbers', () => {
    expect(randToCents(1.005)).toBeNull();
    expect(randToCents(10.985506666666668)).toBeNull();
    expect(randToCents(1e-7)).toBeNull();
    expect(randToCents(Number.NaN)).toBeNull();
    expect(randToCents(Number.POSITIVE_INFINITY)).toBeNull();
    expect(randToCents(1e300)).toBeNull();
  });

  it('round-trips every cents value through its rand number', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 }), (cents) => {
        expect(randToCents(toRand(cents))).toBe(cents);
      }),
    );
  });

  it('round-trips JSON text like the seed writes it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 99 }), (rand, cents) => {
        const text = `${rand}.${String(cents).padStart(2, '0')}`;
        expect(randToCents(JSON.parse(text) as number)).toBe(rand * 100 + cents);
      }),
    );
  });
});
