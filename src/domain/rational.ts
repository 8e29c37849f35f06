/**
 * Exact non-negative-denominator fractions over bigint.
 *
 * VAT-exclusive amounts (price / 1.15) are not whole cents, and the seed's arithmetic keeps them exact
 * until the purchase total is rounded once. Floats would drift; fractions do not.
 */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rational(num: bigint | number, den: bigint | number = 1n): Rational {
  let n = BigInt(num);
  let d = BigInt(den);
  if (d === 0n) throw new RangeError('denominator must not be zero');
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { num: n / g, den: d / g };
}

export const ZERO = rational(0);

export const add = (a: Rational, b: Rational): Rational => rational(a.num * b.den + b.num * a.den, a.den * b.den);
export const sub = (a: Rational, b: Rational): Rational => rational(a.num * b.den - b.num * a.den, a.den * b.den);
export const mul = (a: Rational, b: Rational): Rational => rational(a.num * b.num, a.den * b.den);
export const div = (a: Rational, b: Rational): Rational => {
  if (b.num === 0n) throw new RangeError('division by zero');
  return rational(a.num * b.den, a.den * b.num);
};

export const compare = (a: Rational, b: Rational): -1 | 0 | 1 => {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
};

export const sum = (values: Iterable<Rational>): Rational => {
  let total = ZERO;
  for (const v of values) total = add(total, v);
  return total;
};

/** Largest integer ≤ the value. */
export function floor(a: Rational): bigint {
  const q = a.num / a.den; // truncates toward zero
  return a.num < 0n && q * a.den !== a.num ? q - 1n : q;
}

/** Nearest integer, halves away from zero ("half-up" as accountants use it). */
export function roundHalfUp(a: Rational): bigint {
  const twice = rational(a.num * 2n, a.den);
  if (a.num >= 0n) return floor(add(twice, rational(1))) / 2n;
  return -(floor(add(rational(-twice.num, twice.den), rational(1))) / 2n);
}

/** For display at the JSON edge only: never feed the result back into arithmetic. */
export function toNumber(a: Rational): number {
  const whole = a.num / a.den;
  const rest = a.num - whole * a.den;
  return Number(whole) + Number(rest) / Number(a.den);
}
