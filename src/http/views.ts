import type { BuyNowOffer } from '../domain/buy-now.ts';
import { PurchaseLineType, serviceStatusCategory, type MediumType } from '../domain/enums.ts';
import { rationalToRand, toRand } from '../domain/money.ts';
import { rational } from '../domain/rational.ts';
import { exclusiveOf, lineAmounts, rateBpToPercent } from '../domain/vat.ts';
import type { MediumRow } from '../modules/mediums/repo.ts';
import type { LateSuccessRow, PaymentReturnRow, PaymentRow } from '../modules/payments/repo.ts';
import type { PurchaseLineRow, PurchaseRecord } from '../modules/purchases/repo.ts';
import type { ServiceDetails, UtilityOffer } from '../modules/services/get-details-and-actions.ts';
import type { ServiceRecord } from '../modules/services/repo.ts';

/**
 * Rows → the JSON of seed 000. Money leaves the core here: cents become rand numbers, exact fractions
 * become doubles for display. Response schemas then drop anything not documented.
 */
export function purchaseLineView(l: PurchaseLineRow) {
  const amounts = lineAmounts({
    unitPriceIncl: rational(l.unitPriceInclNum, l.unitPriceInclDen),
    quantity: l.quantity,
    totalCents: l.totalAmountCents,
    rateBp: l.taxRateBp,
  });
  return {
    id: l.id,
    purchase_id: l.purchaseId,
    original_purchase_line_id: l.originalPurchaseLineId,
    purchase_line_type_id: l.lineTypeId,
    description: l.description,
    total_amount: toRand(l.totalAmountCents),
    amount_per_quantity: rationalToRand(amounts.amountPerQuantity),
    net_amount_excl: rationalToRand(amounts.netAmountExcl),
    tax_rate: rateBpToPercent(l.taxRateBp),
    tax_amount: rationalToRand(amounts.taxAmount),
    quantity: l.quantity,
    period_contribution_per_quantity: l.periodContributionPerQuantity,
    product_price_id: l.productPriceId,
  };
}

export function purchaseView(p: PurchaseRecord) {
  return {
    id: p.id,
    service_id: p.serviceId,
    amount_excl: toRand(p.amountExclCents),
    tax_amount: toRand(p.taxCents),
    amount: toRand(p.amountCents),
    medium_id: p.mediumId,
    purchase_date: p.purchaseDate.toISOString(),
    purchase_status_id: p.statusId,
    payment_reference: p.paymentReference,
    small_key: p.smallKey,
    purchase_plan_id: p.purchasePlanId,
    period_applied: p.periodApplied,
    purchase_source_id: p.purchaseSourceId,
    purchase_creation_event_id: p.creationEventId,
    purchase_lines: p.lines.map(purchaseLineView),
    customer_statement_ref: p.customerStatementRef,
    comment: p.comment,
  };
}

export function serviceMediumView(m: MediumRow) {
  return {
    external_reference: m.externalReference,
    customer_id: m.customerId,
    medium_detail_id: m.id,
    medium_type: m.mediumType,
    medium_status: m.status,
    created_date: m.createdAt.toISOString(),
    account_name: m.accountName,
    account_number: m.accountNumber,
    provider: m.provider,
    mandate: mandateView(m.mandate),
  };
}

/** "Monthly debit of R379.00 on the 15th". */
export function mandateView(t: MediumRow['mandate']) {
  if (!t) return null;
  const rand = (t.amount.amountCents / 100).toFixed(2);
  return {
    frequency: t.frequency,
    day: t.day,
    amount: t.amount.amountCents / 100,
    first_payment_date: t.firstPaymentDate,
    minimum_validity_months: t.minimumValidityMonths,
    summary: `Monthly debit of R${rand} on the ${ordinal(t.day)}`,
  };
}

const ordinal = (n: number): string => {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
};

export function paymentMediumView(m: MediumRow, isLinked: boolean) {
  return {
    medium_detail_id: m.id,
    medium_type: m.mediumType,
    bank_account: m.accountName,
    account_nr_partial: m.accountNumber,
    is_linked: isLinked,
    medium_status: m.status,
    mandate: mandateView(m.mandate),
  };
}

export function serviceView(s: ServiceRecord) {
  return {
    id: s.id,
    customer_id: s.customerId,
    product_id: s.productId,
    product_name: s.productName,
    collector_id: s.collectorId,
    service_type: s.billingScheme,
    service_status: s.status,
    service_status_category: serviceStatusCategory[s.status],
    billing_status: s.billingStatus,
    collection_day: s.collectionDay,
    plan_id: s.planId,
    active_medium_id: s.activeMediumId,
    latest_period_end_date: s.latestPeriodEndDate,
    suspension_date: s.suspensionDate,
    on_network_date: s.onNetworkDate,
    meter_id: s.meterId,
    amount_due: toRand(s.amountDueCents),
    created_date: s.createdAt.toISOString(),
  };
}

export function canBuyView(offer: BuyNowOffer) {
  return {
    can_buy: true,
    options: offer.options.map(({ price, unit }) => {
      const a = lineAmounts(unit);
      return {
        product_price_id: price.id,
        purchase_line_type_id: unit.lineTypeId,
        description: unit.description,
        quantity: 1,
        max_quantity: price.maxQuantity,
        total_amount: toRand(unit.totalCents),
        amount_per_quantity: rationalToRand(a.amountPerQuantity),
        amount_per_quantity_incl: toRand(price.priceInclCents),
        net_amount_excl: rationalToRand(a.netAmountExcl),
        tax_rate: rateBpToPercent(unit.rateBp),
        tax_amount: rationalToRand(a.taxAmount),
        period_contribution_per_quantity: unit.periodContributionPerQuantity,
      };
    }),
    variable_amount: offer.variableAmount
      ? {
          product_price_id: offer.variableAmount.price.id,
          purchase_line_type_id: PurchaseLineType.Day,
          description: offer.variableAmount.price.description,
          amount_per_quantity: rationalToRand(exclusiveOf(offer.variableAmount.dailyPriceIncl, offer.variableAmount.rateBp)),
          amount_per_quantity_incl: rationalToRand(offer.variableAmount.dailyPriceIncl),
          tax_rate: rateBpToPercent(offer.variableAmount.rateBp),
          period_contribution_per_quantity: 1,
          monthly_amount: toRand(offer.variableAmount.monthlyCents),
          min_amount: toRand(offer.variableAmount.minCents),
          max_amount: toRand(offer.variableAmount.maxCents),
        }
      : null,
  };
}

export function detailsView(d: ServiceDetails) {
  return {
    service_id: d.id,
    service_status: d.status,
    service_status_category: serviceStatusCategory[d.status],
    collector_id: d.collectorId,
    service_type: d.billingScheme,
    billing_status: d.billingStatus,
    latest_period_end_date: d.latestPeriodEndDate,
    suspension_date: d.suspensionDate,
    collection_day: d.collectionDay,
    plan_id: d.planId,
    mediums: d.mediums.map(serviceMediumView),
    must_pay_info: d.mustPay ? { must_pay: true, arrears_purchase: purchaseView(d.mustPay) } : null,
    can_buy_info: d.canBuy ? canBuyView(d.canBuy) : d.utilityOffer ? utilityBuyView(d.utilityOffer) : null,
    last_purchase_is_pending: d.paymentInFlight,
    on_network_date: d.onNetworkDate,
  };
}

/** A PrepaidUtility service's can_buy_info: any amount in the product's range, for its meter. */
export function utilityBuyView(o: UtilityOffer) {
  return {
    can_buy: true,
    options: [],
    variable_amount: { kind: 'utility' as const, description: 'Prepaid electricity', meter_id: o.meterId, tax_rate: rateBpToPercent(o.rateBp), min_amount: toRand(o.minCents), max_amount: toRand(o.maxCents) },
  };
}

export function paymentReturnView(r: PaymentReturnRow) {
  return {
    id: r.id,
    payment_id: r.paymentId,
    purchase_id: r.purchaseId,
    provider: r.provider,
    provider_reference: r.providerReference,
    amount: toRand(r.amountCents),
    currency: r.currency,
    reason_code: r.reasonCode,
    reason: r.reason,
    returned_date: r.returnedAt?.toISOString() ?? null,
    created_date: r.createdAt.toISOString(),
  };
}

export function paymentView(p: PaymentRow & { returned?: PaymentReturnRow | null; mediumType?: MediumType | null; refund?: { id: string; status: string; amountCents: number; reason: string } | null }) {
  return {
    id: p.id,
    purchase_id: p.purchaseId,
    medium_id: p.mediumId,
    medium_type: p.mediumType ?? null,
    provider: p.provider,
    kind: p.kind,
    status: p.status,
    amount: toRand(p.amountCents),
    currency: p.currency,
    merchant_reference: p.merchantReference,
    provider_reference: p.providerReference,
    failure_code: p.failureCode,
    failure_message: p.failureMessage,
    purchase_source_id: p.purchaseSourceId,
    comment: p.comment,
    payment_link_url: p.status === 'pending' ? p.redirectUrl : null,
    link_expires_date: p.status === 'pending' ? (p.expiresAt?.toISOString() ?? null) : null,
    created_medium_id: p.createdMediumId,
    created_date: p.createdAt.toISOString(),
    settled_date: p.settledAt?.toISOString() ?? null,
    returned: p.returned ? { reason_code: p.returned.reasonCode, reason: p.returned.reason, returned_date: p.returned.returnedAt?.toISOString() ?? null, created_date: p.returned.createdAt.toISOString() } : null,
    refund: p.refund ? { id: p.refund.id, status: p.refund.status, amount: toRand(p.refund.amountCents), reason: p.refund.reason } : null,
  };
}

export function lateSuccessView(l: LateSuccessRow) {
  return {
    id: l.id,
    payment_id: l.paymentId,
    purchase_id: l.purchaseId,
    provider: l.provider,
    provider_reference: l.providerReference,
    amount: toRand(l.amountCents),
    currency: l.currency,
    disposition: l.disposition,
    reason: l.reason,
    created_date: l.createdAt.toISOString(),
  };
}
