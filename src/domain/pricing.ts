import type { BillingScheme, PurchaseLineTypeId } from './enums.ts';
import { PurchaseLineType } from './enums.ts';
import type { Cents } from './money.ts';
import { proRataDays, type IsoDate } from './periods.ts';
import { rational, type Rational } from './rational.ts';
import { lineTotalCents, unitsForAmount, type LineInput, type RateBp } from './vat.ts';

/** A product price as the catalogue holds it (VAT-inclusive, whole cents). */
export interface ProductPrice {
  id: string;
  description: string;
  lineTypeId: PurchaseLineTypeId;
  priceInclCents: Cents;
  /** Days one unit adds to the service's period (7 for a 7-day bundle, 0 for an installation). */
  periodContributionPerQuantity: number;
  /** For a Monthly price: the days a month counts for (30), which gives the daily price. */
  daysInPeriod: number | null;
  onOrder: boolean;
  buyNow: boolean;
  maxQuantity: number;
}

/** A line ready to store: what it costs and what it adds, all exact. */
export interface PricedLine extends LineInput {
  lineTypeId: PurchaseLineTypeId;
  description: string;
  periodContributionPerQuantity: number;
  productPriceId: string | null;
}

/** The VAT-inclusive price of one day of a monthly price (R379 over 30 days → 37900/30 cents). */
export function dailyPriceIncl(price: ProductPrice): Rational {
  if (price.lineTypeId !== PurchaseLineType.Monthly || !price.daysInPeriod) {
    throw new RangeError(`price ${price.id} is not a monthly price with days in its period`);
  }
  return rational(price.priceInclCents, price.daysInPeriod);
}

/** `quantity` units of a unit price (a bundle, an installation). */
export function unitLine(price: ProductPrice, quantity: number, rateBp: RateBp): PricedLine {
  const unitPriceIncl = rational(price.priceInclCents);
  return {
    lineTypeId: price.lineTypeId,
    description: price.description,
    quantity,
    unitPriceIncl,
    totalCents: lineTotalCents(unitPriceIncl, quantity),
    rateBp,
    periodContributionPerQuantity: price.periodContributionPerQuantity,
    productPriceId: price.id,
  };
}

/** `days` days of a monthly price, as Day lines (upfront pro-rata, buy-now months). */
export function daysLine(price: ProductPrice, days: number, rateBp: RateBp, description = price.description): PricedLine {
  const unitPriceIncl = dailyPriceIncl(price);
  return {
    lineTypeId: PurchaseLineType.Day,
    description,
    quantity: days,
    unitPriceIncl,
    totalCents: lineTotalCents(unitPriceIncl, days),
    rateBp,
    periodContributionPerQuantity: 1,
    productPriceId: price.id,
  };
}

/**
 * A variable amount spent on days of a monthly price: the customer pays exactly `amountCents` and gets
 * floor(amount / daily price) days (SPEC §4; R1000 at R379 a month → 79 days). Null when the amount buys
 * less than one day.
 */
export function variableAmountLine(price: ProductPrice, amountCents: Cents, rateBp: RateBp): PricedLine | null {
  const unitPriceIncl = dailyPriceIncl(price);
  const days = unitsForAmount(amountCents, unitPriceIncl);
  if (days < 1) return null;
  return { ...daysLine(price, days, rateBp), totalCents: amountCents };
}

/** Seed 000's description of the pro-rata line an order charges for a monthly price. */
export const UPFRONT_MONTHLY_DESCRIPTION = 'On Order/Upfront Monthly';

export interface UpfrontInput {
  scheme: BillingScheme;
  prices: readonly ProductPrice[];
  orderDate: IsoDate;
  collectionDay: number | null;
  rateBp: RateBp;
}

/**
 * The lines of the upfront purchase an order creates: every price marked `on_order`. A Recurring
 * service's monthly price is charged pro-rata up to its first collection day; bundles and once-off
 * charges are charged once.
 */
export function upfrontLines(input: UpfrontInput): PricedLine[] {
  return input.prices
    .filter((p) => p.onOrder)
    .map((p) => {
      if (p.lineTypeId === PurchaseLineType.Monthly) {
        if (input.scheme !== 'Recurring' || input.collectionDay === null) {
          throw new RangeError(`monthly price ${p.id} needs a Recurring service with a collection day`);
        }
        const days = proRataDays(input.orderDate, input.collectionDay);
        return daysLine(p, days, input.rateBp, UPFRONT_MONTHLY_DESCRIPTION);
      }
      return unitLine(p, 1, input.rateBp);
    });
}

/** Days a line adds to the service period. */
export const periodDays = (line: Pick<PricedLine, 'quantity' | 'periodContributionPerQuantity'>): number =>
  line.quantity * line.periodContributionPerQuantity;
