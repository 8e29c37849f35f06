import { randomUUID } from 'node:crypto';
import type { Actor, AppContext } from '../../context.ts';
import type { BuyNowOffer } from '../../domain/buy-now.ts';
import { PurchaseCreationEvent, PurchaseStatus } from '../../domain/enums.ts';
import { rationalToRand, roundCents, toHundredths, toRand, type Cents } from '../../domain/money.ts';
import { unitLine, variableAmountLine, type PricedLine } from '../../domain/pricing.ts';
import { mul, rational, type Rational } from '../../domain/rational.ts';
import { lineAmounts, rateBpToPercent } from '../../domain/vat.ts';
import { UnprocessableError, type FieldError } from '../../lib/errors.ts';
import { recordAudit } from '../audit/record.ts';
import { findPurchaseSource } from '../operators/repo.ts';
import { getDetailsAndActions, type ServiceDetails } from '../services/get-details-and-actions.ts';
import type { ServiceScope } from '../services/repo.ts';
import { insertPurchase, type PurchaseRecord } from './repo.ts';

/** One line as the client calculated it (seed 000's fields). Only the choice is trusted; the figures are checked. */
export interface BuyNowLineInput {
  /** A day-bundle price of can_buy_info; null for recurring months bought by amount. */
  productPriceId: string | null;
  purchaseLineTypeId: number;
  /** `total_amount` in cents: for recurring months, the amount to spend. */
  totalCents: Cents;
  amountPerQuantity: number;
  amountPerQuantityIncl: number | null;
  netAmountExcl: number;
  taxRate: number;
  taxAmount: number;
  quantity: number;
  periodContributionPerQuantity: number;
}

export interface BuyNowInput {
  serviceId: string;
  lines: BuyNowLineInput[];
  customerStatementRef: string | null;
  /** When absent: now. */
  purchaseDate: Date | null;
  purchaseSourceId: string | null;
  comment: string | null;
}

const DAY_MS = 86_400_000;
/** A quote may be dated from a day ago (a client's clock, a slow screen) to a year ahead. */
const MAX_PAST_MS = DAY_MS;
const MAX_FUTURE_MS = 366 * DAY_MS;

/**
 * `POST /purchases/buy-now` (seed 000, SPEC §4–§5): turns a choice from `can_buy_info` into a Quote
 * (status 6, creation event 6) priced by the server. A day bundle is `unitLine(price, quantity)`; recurring
 * months bought by amount are `variableAmountLine(price, amount)`. Every figure the client sent must match
 * the server's (see `mismatches`), or nothing is created. Quotes are not expired here.
 *
 * @throws NotFoundError when the service is not the caller's; UnprocessableError (422) when buy-now is
 * unavailable, the choice was not offered, or a figure was tampered with.
 */
export async function createBuyNowPurchase(
  ctx: Pick<AppContext, 'database' | 'clock'>,
  scope: ServiceScope,
  actor: Actor,
  input: BuyNowInput,
): Promise<PurchaseRecord> {
  const now = ctx.clock();
  const details = await getDetailsAndActions(ctx, scope, input.serviceId);
  const offer = availableOffer(details);
  const purchaseDate = input.purchaseDate ?? now;
  checkPurchaseDate(purchaseDate, now);

  const priced = priceLines(offer, input.lines);
  const wrong = input.lines.flatMap((line, i) => mismatches(line, priced[i]!, `body.purchase_lines[${i}]`));
  if (wrong.length > 0) {
    throw new UnprocessableError(
      'purchase.price_mismatch',
      `The figures sent are not the server's prices, so nothing was created: ${wrong.map((w) => `${w.name} ${w.reason}`).join('; ')}.`,
      { errors: wrong },
    );
  }

  if (input.purchaseSourceId !== null) {
    const source = await findPurchaseSource(ctx.database.db, scope.operatorId, input.purchaseSourceId);
    if (!source || !source.active || source.collectorId !== details.collectorId) {
      throw new UnprocessableError('purchase.unknown_source', 'purchase_source_id is not one of the purchase sources of the service’s collector.', {
        errors: [{ name: 'body.purchase_source_id', reason: `must be an active purchase source of collector ${details.collectorId}` }],
      });
    }
  }

  return ctx.database.db.transaction(async (tx) => {
    const purchase = await insertPurchase(tx, {
      id: randomUUID(),
      operatorId: scope.operatorId,
      customerId: details.customerId,
      serviceId: details.id,
      purchasePlanId: details.planId,
      statusId: PurchaseStatus.Quote,
      creationEventId: PurchaseCreationEvent.BuyNow,
      purchaseDate,
      mediumId: null,
      purchaseSourceId: input.purchaseSourceId,
      customerStatementRef: input.customerStatementRef,
      comment: input.comment,
      lines: priced.map((l) => ({ ...l, id: randomUUID() })),
    });
    await recordAudit(tx, actor, {
      operatorId: scope.operatorId,
      entityType: 'purchase',
      entityId: purchase.id,
      action: 'purchase.created',
      toState: String(PurchaseStatus.Quote),
      data: { amount_cents: purchase.amountCents, creation_event_id: PurchaseCreationEvent.BuyNow, service_id: details.id },
    });
    return purchase;
  });
}

/** can_buy_info's rule (details-and-actions): nothing to buy ahead while the service is cancelled or owes. */
function availableOffer(details: ServiceDetails): BuyNowOffer {
  if (details.canBuy) return details.canBuy;
  const why =
    details.status === 'Cancelled'
      ? 'the service is cancelled'
      : details.mustPay
        ? `purchase ${details.mustPay.id} (R${toRand(details.mustPay.amountCents).toFixed(2)}) is unpaid: pay the outstanding purchase first`
        : 'the service’s product offers nothing to buy ahead';
  throw new UnprocessableError('purchase.buy_now_unavailable', `Buy-now is not available for this service: ${why}.`);
}

function checkPurchaseDate(date: Date, now: Date): void {
  const offset = date.getTime() - now.getTime();
  if (offset < -MAX_PAST_MS || offset > MAX_FUTURE_MS) {
    throw new UnprocessableError('purchase.date_out_of_range', 'purchase_date must be from a day ago to 366 days ahead.', {
      errors: [
        {
          name: 'body.purchase_date',
          reason: `must be between ${new Date(now.getTime() - MAX_PAST_MS).toISOString()} and ${new Date(now.getTime() + MAX_FUTURE_MS).toISOString()}`,
        },
      ],
    });
  }
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The server's line for each choice. Limits hold per purchase: all lines of one bundle price together buy
 * at most its max_quantity, and all recurring amounts together at most variable_amount.max_amount.
 */
function priceLines(offer: BuyNowOffer, lines: readonly BuyNowLineInput[]): PricedLine[] {
  const unitsByPrice = new Map<string, number>();
  let variableCents = 0;
  return lines.map((line, i) => {
    const at = `body.purchase_lines[${i}]`;
    // Seed 000 writes the nil uuid for "no price"; variable_amount's own price id means the same choice.
    const priceId = line.productPriceId === NIL_UUID ? null : line.productPriceId;
    const variable = offer.variableAmount;
    if (variable && (priceId === null || priceId === variable.price.id)) {
      variableCents += line.totalCents;
      if (line.totalCents < variable.minCents || variableCents > variable.maxCents) {
        const range = `between ${rand(variable.minCents)} and ${rand(variable.maxCents)}`;
        throw new UnprocessableError('purchase.amount_out_of_range', `The amount to spend must be ${range} (for one buy-now, all lines together).`, {
          errors: [{ name: `${at}.total_amount`, reason: `must be ${range}` }],
        });
      }
      return variableAmountLine(variable.price, line.totalCents, variable.rateBp)!;
    }
    const option = priceId === null ? undefined : offer.options.find((o) => o.price.id === priceId);
    if (!option) {
      const choices = offer.options.map((o) => o.price.id).join(', ') || 'none';
      throw new UnprocessableError('purchase.option_not_offered', `Line ${i} is not one of the service’s buy-now options (can_buy_info).`, {
        errors: [{ name: `${at}.product_price_id`, reason: `must be one of can_buy_info's options: ${choices}` }],
      });
    }
    const units = (unitsByPrice.get(option.price.id) ?? 0) + line.quantity;
    unitsByPrice.set(option.price.id, units);
    if (units > option.price.maxQuantity) {
      throw new UnprocessableError('purchase.quantity_out_of_range', `"${option.price.description}" can be bought at most ${option.price.maxQuantity} at a time.`, {
        errors: [{ name: `${at}.quantity`, reason: `must be from 1 to ${option.price.maxQuantity} (all lines of this price together)` }],
      });
    }
    return unitLine(option.price, line.quantity, option.unit.rateBp);
  });
}

/*
 * NOTE: the tamper check. The client's figures are doubles computed its own way; ours are exact fractions.
 * Seed 000's recurring payload (79 days of R379/30 at 15 %) shows how far an honest client drifts: it
 * removes VAT with a rounded factor (12.633333… × 0.86956), so amount_per_quantity 10.985506666666668 is
 * 5.3e-8 relative from the exact 10.98550724637681, and net_amount_excl 867.8550266666667 and tax_amount
 * 132.14497333333327 are 0.0046 cents from the exact 867.85507246… and 132.14492753…. So:
 *   - money (net_amount_excl, tax_amount) is compared in cents, each side rounded half-up: the client's
 *     number taken as the decimal it was written as, so 4.505 is 450.5 cents, never 450.4999…;
 *   - total_amount is exact cents already (the route refuses a third decimal) and must be equal;
 *   - per-unit prices (amount_per_quantity, amount_per_quantity_incl) within one part in a million, which
 *     accepts the seed's 5.3e-8 and refuses a cent on any unit price below R10 000;
 *   - tax_rate, quantity, period_contribution_per_quantity and purchase_line_type_id exactly.
 * A changed cent anywhere therefore fails at least one comparison, while the seed's floats pass as written.
 */
const UNIT_RELATIVE_TOLERANCE = 1e-6;

function mismatches(sent: BuyNowLineInput, ours: PricedLine, at: string): FieldError[] {
  const a = lineAmounts(ours);
  const checks: [field: string, ok: boolean, expected: string, got: number][] = [
    ['total_amount', sent.totalCents === ours.totalCents, rand(ours.totalCents), sent.totalCents / 100],
    ['amount_per_quantity', closeTo(sent.amountPerQuantity, a.amountPerQuantity), String(rationalToRand(a.amountPerQuantity)), sent.amountPerQuantity],
    ['net_amount_excl', centsOf(sent.netAmountExcl) === roundCents(a.netAmountExcl), rand(roundCents(a.netAmountExcl)), sent.netAmountExcl],
    ['tax_amount', centsOf(sent.taxAmount) === roundCents(a.taxAmount), rand(roundCents(a.taxAmount)), sent.taxAmount],
    ['tax_rate', toHundredths(sent.taxRate) === ours.rateBp, String(rateBpToPercent(ours.rateBp)), sent.taxRate],
    ['quantity', sent.quantity === ours.quantity, String(ours.quantity), sent.quantity],
    ['period_contribution_per_quantity', sent.periodContributionPerQuantity === ours.periodContributionPerQuantity, String(ours.periodContributionPerQuantity), sent.periodContributionPerQuantity],
    ['purchase_line_type_id', sent.purchaseLineTypeId === ours.lineTypeId, String(ours.lineTypeId), sent.purchaseLineTypeId],
  ];
  if (sent.amountPerQuantityIncl !== null) {
    checks.push(['amount_per_quantity_incl', closeTo(sent.amountPerQuantityIncl, ours.unitPriceIncl), String(rationalToRand(ours.unitPriceIncl)), sent.amountPerQuantityIncl]);
  }
  return checks.filter(([, ok]) => !ok).map(([field, , expected, got]) => ({ name: `${at}.${field}`, reason: `should be ${expected} (sent ${got})` }));
}

const rand = (cents: Cents): string => toRand(cents).toFixed(2);

/** Rand (a double from JSON) against an exact amount of cents, within UNIT_RELATIVE_TOLERANCE. */
function closeTo(sentRand: number, exactCents: Rational): boolean {
  const ours = rationalToRand(exactCents);
  return Math.abs(sentRand - ours) <= UNIT_RELATIVE_TOLERANCE * Math.max(Math.abs(ours), 0.01);
}

/** A rand amount from JSON in whole cents, half-up, from the decimal it was written as. */
function centsOf(value: number): number {
  if (!Number.isFinite(value)) return Number.NaN; // equal to nothing; JSON cannot carry one anyway
  return roundCents(mul(decimalOf(value), rational(100)));
}

/** The exact value of a JSON number's shortest decimal form (`132.14497333333327`, `1e-7`). */
function decimalOf(value: number): Rational {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!m) throw new RangeError(`not a finite number: ${value}`);
  const [, sign = '', int = '0', frac = '', exp = '0'] = m;
  const scale = frac.length - Number(exp);
  const digits = BigInt(`${sign}${int}${frac}`);
  return scale >= 0 ? rational(digits, 10n ** BigInt(scale)) : rational(digits * 10n ** BigInt(-scale));
}
