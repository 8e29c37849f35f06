import { randomUUID } from 'node:crypto';
import type { Actor, AppContext } from '../../context.ts';
import { PurchaseLineType, type BillingScheme, type PurchaseLineTypeId } from '../../domain/enums.ts';
import type { Cents } from '../../domain/money.ts';
import { IdTakenError, UnprocessableError, type FieldError } from '../../lib/errors.ts';
import { recordAudit } from '../audit/record.ts';
import { insertProduct, type ProductWithPrices } from './repo.ts';

export interface NewPrice {
  id?: string;
  description: string;
  lineTypeId: PurchaseLineTypeId;
  priceInclCents: Cents;
  periodContributionPerQuantity?: number;
  daysInPeriod?: number;
  onOrder?: boolean;
  buyNow?: boolean;
  maxQuantity?: number;
}

export interface NewProduct {
  id?: string;
  name: string;
  billingScheme: BillingScheme;
  defaultCollectionDay?: number;
  autoRechargeLeadDays?: number;
  /** PrepaidUtility: the least and most one purchase of tokens may be (cents). */
  vendMinCents?: number;
  vendMaxCents?: number;
  prices: NewPrice[];
}

/** The shape rules of a billing scheme (SPEC §4), checked before anything is stored. */
export function productProblems(p: NewProduct): FieldError[] {
  const errors: FieldError[] = [];
  const monthly = p.prices.filter((x) => x.lineTypeId === PurchaseLineType.Monthly);
  p.prices.forEach((price, i) => {
    const at = `body.prices[${i}]`;
    if (price.lineTypeId === PurchaseLineType.Monthly) {
      if (p.billingScheme !== 'Recurring') errors.push({ name: `${at}.purchase_line_type_id`, reason: 'monthly prices belong to Recurring products' });
      if (price.daysInPeriod === undefined) errors.push({ name: `${at}.days_in_period`, reason: 'is required for a monthly price (28–31)' });
    } else if (price.daysInPeriod !== undefined) {
      errors.push({ name: `${at}.days_in_period`, reason: 'applies to monthly prices only' });
    }
    if (price.lineTypeId === PurchaseLineType.Day && !(price.periodContributionPerQuantity! > 0)) {
      errors.push({ name: `${at}.period_contribution_per_quantity`, reason: 'a day price must add at least one day' });
    }
    if (price.lineTypeId === PurchaseLineType.Once && price.buyNow) {
      errors.push({ name: `${at}.buy_now`, reason: 'once-off charges cannot be bought ahead' });
    }
  });
  if (p.billingScheme === 'Recurring' && monthly.length === 0) errors.push({ name: 'body.prices', reason: 'a Recurring product needs a monthly price' });
  if (monthly.filter((x) => x.onOrder).length > 1) errors.push({ name: 'body.prices', reason: 'at most one monthly price can be charged on order' });
  if (monthly.filter((x) => x.buyNow).length > 1) errors.push({ name: 'body.prices', reason: 'at most one monthly price can be offered for buy-now' });
  if (p.billingScheme !== 'Recurring' && p.defaultCollectionDay !== undefined) {
    errors.push({ name: 'body.default_collection_day', reason: 'applies to Recurring products only' });
  }
  if (p.billingScheme !== 'HybridDayBundle' && p.autoRechargeLeadDays !== undefined) {
    errors.push({ name: 'body.auto_recharge_lead_days', reason: 'applies to HybridDayBundle products only' });
  }
  if (p.billingScheme === 'PrepaidUtility') {
    if (p.prices.some((x) => x.lineTypeId !== PurchaseLineType.Once || x.buyNow)) errors.push({ name: 'body.prices', reason: 'a PrepaidUtility product sells tokens by amount: only once-off charges (a connection fee on order), none bought ahead' });
    if (p.vendMinCents === undefined || p.vendMaxCents === undefined) errors.push({ name: 'body.vend_min_amount', reason: 'vend_min_amount and vend_max_amount are required for PrepaidUtility products' });
    else if (p.vendMinCents <= 0 || p.vendMaxCents < p.vendMinCents) errors.push({ name: 'body.vend_max_amount', reason: 'must be at least vend_min_amount, which must be more than 0' });
  } else if (p.vendMinCents !== undefined || p.vendMaxCents !== undefined) {
    errors.push({ name: 'body.vend_min_amount', reason: 'applies to PrepaidUtility products only' });
  }
  return errors;
}

export async function createProduct(ctx: Pick<AppContext, 'database'>, operatorId: string, actor: Actor, input: NewProduct): Promise<ProductWithPrices> {
  const errors = productProblems(input);
  if (errors.length > 0) throw new UnprocessableError('product.invalid', 'The product does not fit its billing scheme.', { errors });
  return ctx.database.db.transaction(async (tx) => {
    const id = input.id?.toLowerCase() ?? randomUUID();
    const product = await insertProduct(
      tx,
      {
        id,
        operatorId,
        name: input.name,
        billingScheme: input.billingScheme,
        defaultCollectionDay: input.defaultCollectionDay ?? null,
        autoRecharge: input.billingScheme === 'HybridDayBundle',
        autoRechargeLeadDays: input.autoRechargeLeadDays ?? 1,
        vendMinCents: input.vendMinCents ?? null,
        vendMaxCents: input.vendMaxCents ?? null,
      },
      input.prices.map((p, position) => ({
        id: p.id?.toLowerCase() ?? randomUUID(),
        productId: id,
        description: p.description,
        lineTypeId: p.lineTypeId,
        priceInclCents: p.priceInclCents,
        periodContributionPerQuantity: p.lineTypeId === PurchaseLineType.Monthly ? p.daysInPeriod! : (p.periodContributionPerQuantity ?? 0),
        daysInPeriod: p.daysInPeriod ?? null,
        onOrder: p.onOrder ?? false,
        buyNow: p.buyNow ?? false,
        maxQuantity: p.maxQuantity ?? (p.lineTypeId === PurchaseLineType.Monthly ? 366 : 52),
        position,
      })),
    );
    if ('taken' in product) throw new IdTakenError(product.taken, product.id);
    await recordAudit(tx, actor, { operatorId, entityType: 'product', entityId: id, action: 'product.created', data: { billing_scheme: input.billingScheme } });
    return product;
  });
}
