import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, compare, floor, mul, rational, roundHalfUp, sub, toNumber } from './rational.ts';

const int = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n });
const den = fc.bigInt({ min: 1n, max: 10n ** 6n });
const frac = fc.tuple(int, den).map(([n, d]) => rational(n, d));

describe('rational', () => {
  it('normalises sign and common factors', () => {
    expect(rational(6, -4)).toEqual({ num: -3n, den: 2n });
    expect(() => rational(1, 0)).toThrow(RangeError);
  });

  it('rounds halves away from zero and everything else to nearest', () => {
    expect(roundHalfUp(rational(5, 2))).toBe(3n);
    expect(roundHalfUp(rational(-5, 2))).toBe(-3n);
    expect(roundHalfUp(rational(249, 100))).toBe(2n);
    expect(roundHalfUp(rational(251, 100))).toBe(3n);
    expect(roundHalfUp(rational(86785507, 1000))).toBe(86786n);
  });

  it('floor is the largest integer not above the value', () => {
    fc.assert(
      fc.property(frac, (a) => {
        const f = floor(a);
        expect(compare(rational(f), a)).toBeLessThanOrEqual(0);
        expect(compare(rational(f + 1n), a)).toBe(1);
      }),
    );
  });

  it('half-up rounding is within half a unit and breaks ties upward in magnitude', () => {
    fc.assert(
      fc.property(frac, (a) => {
        const r = roundHalfUp(a);
        const diff = sub(rational(r), a);
        const absDiff = diff.num < 0n ? rational(-diff.num, diff.den) : diff;
        expect(compare(absDiff, rational(1, 2))).toBeLessThanOrEqual(0);
        if (compare(absDiff, rational(1, 2)) === 0) {
          expect(r < 0n ? -r : r).toBeGreaterThan(a.num < 0n ? -floor(rational(-a.num, a.den)) - 1n : floor(a));
        }
      }),
    );
  });

  it('add and mul agree with plain arithmetic on integers', () => {
    fc.assert(
      fc.property(int, int, (a, b) => {
        expect(add(rational(a), rational(b))).toEqual(rational(a + b));
        expect(mul(rational(a), rational(b))).toEqual(rational(a * b));
      }),
    );
  });

  it('converts to a close double for display', () => {
    expect(toNumber(rational(37900 * 100, 30 * 115))).toBeCloseTo(1098.550724637681, 10);
  });
});
