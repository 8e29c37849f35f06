import { rationalToRand, toRand } from '../domain/money.ts';
import { rational } from '../domain/rational.ts';
import { exclusiveOf, rateBpToPercent } from '../domain/vat.ts';
import type { ProductPriceRow, ProductWithPrices } from '../modules/catalog/repo.ts';
import type { CustomerRow, UserRow } from '../modules/customers/repo.ts';
import type { CollectorRow, OperatorRow, PurchaseSourceRow } from '../modules/operators/repo.ts';

/** Views of the setup API's resources (operators, collectors, products, customers, users). */
export function operatorView(o: OperatorRow) {
  return {
    id: o.id,
    name: o.name,
    currency: o.currency,
    vat_rate: rateBpToPercent(o.vatRateBp),
    payment_links_enabled: o.paymentLinksEnabled,
    grace_days: o.graceDays,
    retry_days: o.retryDays,
    auto_recharge_attempts: o.autoRechargeAttempts,
    default_providers: { bank_account: o.defaultBankProvider, credit_card: o.defaultCardProvider },
    created_date: o.createdAt.toISOString(),
    updated_date: o.updatedAt.toISOString(),
  };
}

export const purchaseSourceView = (s: PurchaseSourceRow) => ({
  id: s.id,
  collector_id: s.collectorId,
  name: s.name,
  off_system: s.offSystem,
  active: s.active,
});

export const collectorView = (c: CollectorRow, sources: PurchaseSourceRow[]) => ({
  id: c.id,
  name: c.name,
  purchase_sources: sources.map(purchaseSourceView),
  created_date: c.createdAt.toISOString(),
});

export function productPriceView(p: ProductPriceRow, vatRateBp: number) {
  return {
    id: p.id,
    description: p.description,
    purchase_line_type_id: p.lineTypeId,
    price_incl: toRand(p.priceInclCents),
    amount_per_quantity: rationalToRand(exclusiveOf(rational(p.priceInclCents), vatRateBp)),
    tax_rate: rateBpToPercent(vatRateBp),
    period_contribution_per_quantity: p.periodContributionPerQuantity,
    days_in_period: p.daysInPeriod,
    on_order: p.onOrder,
    buy_now: p.buyNow,
    max_quantity: p.maxQuantity,
  };
}

export const productView = (p: ProductWithPrices, vatRateBp: number) => ({
  id: p.id,
  name: p.name,
  billing_scheme: p.billingScheme,
  default_collection_day: p.defaultCollectionDay,
  auto_recharge: p.autoRecharge,
  auto_recharge_lead_days: p.autoRechargeLeadDays,
  vend_min_amount: p.vendMinCents === null ? null : p.vendMinCents / 100,
  vend_max_amount: p.vendMaxCents === null ? null : p.vendMaxCents / 100,
  active: p.active,
  prices: p.prices.map((x) => productPriceView(x, vatRateBp)),
  created_date: p.createdAt.toISOString(),
});

export const customerView = (c: CustomerRow) => ({
  id: c.id,
  name: c.name,
  email: c.email,
  cell_number: c.cellNumber,
  external_reference: c.externalReference,
  created_date: c.createdAt.toISOString(),
});

export const userView = (u: UserRow) => ({
  id: u.id,
  customer_id: u.customerId,
  role: u.role,
  name: u.name,
  email: u.email,
  created_date: u.createdAt.toISOString(),
});
