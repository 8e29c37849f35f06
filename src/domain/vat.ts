import { centsToRational, roundCents, type Cents } from './money.ts';
import { div, floor, mul, rational, sub, sum, type Rational } from './rational.ts';

/**
 * VAT arithmetic exactly as seed 000 does it (SPEC §4):
 *   amount_per_quantity = price incl / (1 + rate)            (VAT-exclusive, more precision than cents)
 *   net_amount_excl     = amount_per_quantity × quantity
 *   tax_amount          = total_amount − net_amount_excl
 * and for the purchase:
 *   amount      = Σ total_amount                               (exact cents)
 *   amount_excl = round_half_up(Σ net_amount_excl)             (to the cent)
 *   tax_amount  = amount − amount_excl
 * Rates are basis points: 1500 = 15 %.
 */
export type RateBp = number;

export const DEFAULT_VAT_RATE_BP: RateBp = 1500;

export function assertRateBp(rateBp: number): RateBp {
  if (!Number.isInteger(rateBp) || rateBp < 0 || rateBp > 10_000) {
    throw new RangeError(`VAT rate must be 0–10000 basis points, got ${rateBp}`);
  }
  return rateBp;
}

/** 1500 → 15 (the percentage the API shows as `tax_rate`). */
export const rateBpToPercent = (rateBp: RateBp): number => rateBp / 100;

/** A VAT-inclusive unit price (in cents, possibly fractional like 37900/30 a day) without its VAT. */
export function exclusiveOf(priceIncl: Rational, rateBp: RateBp): Rational {
  return div(mul(priceIncl, rational(10_000)), rational(10_000 + assertRateBp(rateBp)));
}

export interface LineInput {
  /** VAT-inclusive price of one unit, in cents (a fraction when derived, e.g. a monthly price per day). */
  unitPriceIncl: Rational;
  quantity: number;
  /** What the customer pays for the line, in cents. Usually round(unit × quantity); a variable-amount line pays more. */
  totalCents: Cents;
  rateBp: RateBp;
}

export interface LineAmounts {
  amountPerQuantity: Rational;
  netAmountExcl: Rational;
  taxAmount: Rational;
}

export function lineAmounts(line: LineInput): LineAmounts {
  const amountPerQuantity = exclusiveOf(line.unitPriceIncl, line.rateBp);
  const netAmountExcl = mul(amountPerQuantity, rational(line.quantity));
  const taxAmount = sub(centsToRational(line.totalCents), netAmountExcl);
  return { amountPerQuantity, netAmountExcl, taxAmount };
}

/** The total of a priced line: unit price × quantity, rounded half-up to the cent. */
export const lineTotalCents = (unitPriceIncl: Rational, quantity: number): Cents =>
  roundCents(mul(unitPriceIncl, rational(quantity)));

export interface PurchaseTotals {
  amountCents: Cents;
  amountExclCents: Cents;
  taxCents: Cents;
}

export function purchaseTotals(lines: readonly LineInput[]): PurchaseTotals {
  const amountCents = lines.reduce((acc, l) => acc + l.totalCents, 0);
  const amountExclCents = roundCents(sum(lines.map((l) => lineAmounts(l).netAmountExcl)));
  return { amountCents, amountExclCents, taxCents: amountCents - amountExclCents };
}

/**
 * How many whole units a customer gets for an amount (SPEC §4: quantity = floor(total / price incl)).
 * R1000 at R379/30 a day → 79 days.
 */
export function unitsForAmount(amountCents: Cents, unitPriceIncl: Rational): number {
  return Number(floor(div(centsToRational(amountCents), unitPriceIncl)));
}
