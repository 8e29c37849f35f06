import type { BillingScheme } from './enums.ts';
import { PurchaseLineType } from './enums.ts';
import type { Cents } from './money.ts';
import { dailyPriceIncl, unitLine, type PricedLine, type ProductPrice } from './pricing.ts';
import { floor, mul, rational, type Rational } from './rational.ts';
import { lineTotalCents, type RateBp } from './vat.ts';

/**
 * What a service can buy ahead (`can_buy_info`), priced by the server. Day bundles are offered as units
 * (1 to max_quantity of them); a Recurring service's monthly price is offered as a variable amount
 * spent on whole days.
 */
export interface BundleOption {
  price: ProductPrice;
  /** One unit, priced. */
  unit: PricedLine;
}

export interface VariableAmountOffer {
  price: ProductPrice;
  dailyPriceIncl: Rational;
  monthlyCents: Cents;
  /** The least amount that buys a day. */
  minCents: Cents;
  /** The amount that buys `maxQuantity` days; more is refused. */
  maxCents: Cents;
  rateBp: RateBp;
}

export interface BuyNowOffer {
  options: BundleOption[];
  variableAmount: VariableAmountOffer | null;
}

export function buyNowOffer(scheme: BillingScheme, prices: readonly ProductPrice[], rateBp: RateBp): BuyNowOffer | null {
  const buyable = prices.filter((p) => p.buyNow);
  const options = buyable
    .filter((p) => p.lineTypeId === PurchaseLineType.Day && p.periodContributionPerQuantity > 0)
    .map((price) => ({ price, unit: unitLine(price, 1, rateBp) }));
  const monthly = scheme === 'Recurring' ? buyable.find((p) => p.lineTypeId === PurchaseLineType.Monthly && p.daysInPeriod) : undefined;
  const variableAmount = monthly ? variableOffer(monthly, rateBp) : null;
  if (options.length === 0 && variableAmount === null) return null;
  return { options, variableAmount };
}

function variableOffer(price: ProductPrice, rateBp: RateBp): VariableAmountOffer {
  const daily = dailyPriceIncl(price);
  const ceilDaily = -floor(mul(daily, rational(-1)));
  return {
    price,
    dailyPriceIncl: daily,
    monthlyCents: price.priceInclCents,
    minCents: Number(ceilDaily),
    maxCents: lineTotalCents(daily, price.maxQuantity),
    rateBp,
  };
}
