import { rational, roundHalfUp, toNumber, type Rational } from './rational.ts';

/**
 * Money inside payrail is integer cents of the operator's currency (ZAR). Rand amounts exist only at the
 * JSON edge (`378.90`) and in connectors' unit converters.
 */
export type Cents = number;

/** Largest amount payrail accepts for a single purchase or line: R10 000 000.00. */
export const MAX_CENTS = 1_000_000_000;

export function isCents(value: unknown): value is Cents {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function assertCents(value: number, what = 'amount'): Cents {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be a whole number of cents, got ${value}`);
  return value;
}

/** Cents → rand for JSON (37890 → 378.9). Exact: every cents value maps to the nearest double of n/100. */
export const toRand = (cents: Cents): number => assertCents(cents) / 100;

/**
 * A rand amount from JSON → cents, or null when it has more than two decimals or is not a finite number.
 * Works on the number's shortest decimal representation, so 0.1 + 0.2 style artefacts never leak in:
 * `34.5` → 3450, `1.005` → null (three decimals), `1e-7` → null.
 */
export function randToCents(value: number): Cents | null {
  if (!Number.isFinite(value)) return null;
  const text = Math.abs(value).toString();
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (!match) return null;
  const [, intPart = '0', fracPart = '', expPart] = match;
  const exponent = expPart ? Number(expPart) : 0;
  const digits = intPart + fracPart;
  const scale = fracPart.length - exponent; // value = digits × 10^-scale
  let cents: bigint;
  if (scale <= 2) cents = BigInt(digits) * 10n ** BigInt(2 - scale);
  else {
    const divisor = 10n ** BigInt(scale - 2);
    const big = BigInt(digits);
    if (big % divisor !== 0n) return null;
    cents = big / divisor;
  }
  if (cents > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const result = Number(cents);
  return value < 0 ? -result : result;
}

/** Exact fraction of cents → whole cents, half-up. */
export const roundCents = (amount: Rational): Cents => Number(roundHalfUp(amount));

export const centsToRational = (cents: Cents): Rational => rational(BigInt(cents));

/** An exact fraction of cents → rand for JSON display (line amounts carry more precision than cents). */
export const rationalToRand = (amount: Rational): number => toNumber(rational(amount.num, amount.den * 100n));

/** A decimal with up to two places as an integer count of hundredths (15.5 % → 1550 basis points). */
export const toHundredths = randToCents;
