import Type from 'typebox';
import { IsoDate, Nullable, Rand, Timestamp, Uuid } from './common.ts';
import {
  BillingSchemeSchema,
  BillingStatusSchema,
  PaymentStatusSchema,
  ProviderSchema,
  MediumStatusSchema,
  MediumTypeSchema,
  PurchaseCreationEventIdSchema,
  PurchaseLineTypeIdSchema,
  PurchaseStatusIdSchema,
  ServiceStatusCategorySchema,
  ServiceStatusSchema,
} from './enums.ts';

/** A purchase line exactly as seed 000 writes it. Line amounts carry more precision than cents. */
export const PurchaseLineSchema = Type.Object({
  id: Uuid(),
  purchase_id: Uuid(),
  original_purchase_line_id: Nullable(Uuid()),
  purchase_line_type_id: PurchaseLineTypeIdSchema,
  description: Type.String(),
  total_amount: Rand('What the line costs, VAT-inclusive'),
  amount_per_quantity: Type.Number({ description: 'VAT-exclusive price of one unit (price incl / (1 + VAT rate))' }),
  net_amount_excl: Type.Number({ description: 'amount_per_quantity × quantity' }),
  tax_rate: Type.Number({ description: 'VAT rate in percent' }),
  tax_amount: Type.Number({ description: 'total_amount − net_amount_excl' }),
  quantity: Type.Integer(),
  period_contribution_per_quantity: Type.Integer({ description: 'Days each unit adds to the service period' }),
  product_price_id: Nullable(Uuid()),
});

/** A purchase exactly as seed 000 writes it, plus the buy-now statement reference and comment. */
export const PurchaseSchema = Type.Object({
  id: Uuid(),
  service_id: Uuid(),
  amount_excl: Rand('VAT-exclusive total: Σ net_amount_excl rounded half-up to the cent'),
  tax_amount: Rand('amount − amount_excl'),
  amount: Rand('Total to pay: Σ total_amount'),
  medium_id: Nullable(Uuid()),
  purchase_date: Timestamp(),
  purchase_status_id: PurchaseStatusIdSchema,
  payment_reference: Nullable(Type.String()),
  small_key: Type.Integer({ description: 'Short number for statements and support calls' }),
  purchase_plan_id: Nullable(Uuid()),
  period_applied: Type.Boolean({ description: "Whether the purchase's days have been added to the service period" }),
  purchase_source_id: Nullable(Uuid()),
  purchase_creation_event_id: PurchaseCreationEventIdSchema,
  purchase_lines: Type.Array(PurchaseLineSchema),
  customer_statement_ref: Nullable(Type.String()),
  comment: Nullable(Type.String()),
});

/** A medium as details-and-actions lists it (seed 000). */
/** A card mandate a medium carries (SPEC §11): what the customer agreed may be collected, and when. */
export const MandateSchema = Type.Object({
  frequency: Type.Literal('Monthly'),
  day: Type.Integer({ minimum: 1, maximum: 31, description: 'Day of the month (clamped to the end of shorter months)' }),
  amount: Rand('Each collection, VAT-inclusive'),
  first_payment_date: IsoDate('The first collection after the payment that set it up'),
  minimum_validity_months: Type.Integer({ description: 'The card had to stay valid this many months past the first collection' }),
  summary: Type.String({ description: 'For people: "Monthly debit of R379.00 on the 15th"' }),
});

export const ServiceMediumSchema = Type.Object({
  external_reference: Type.String(),
  customer_id: Nullable(Uuid()),
  medium_detail_id: Uuid(),
  medium_type: MediumTypeSchema,
  medium_status: MediumStatusSchema,
  created_date: Timestamp(),
  account_name: Type.String(),
  account_number: Nullable(Type.String({ description: 'Last digits only' })),
  provider: Nullable(Type.String({ description: 'Who holds it (PayFast, VodaPay …)' })),
  mandate: Nullable(MandateSchema),
});

/** A medium as GET /payment-mediums lists it (seed 000). */
export const PaymentMediumSchema = Type.Object({
  medium_detail_id: Uuid(),
  medium_type: MediumTypeSchema,
  bank_account: Type.String({ description: 'Display name of the medium' }),
  account_nr_partial: Nullable(Type.String({ description: 'Last digits only' })),
  is_linked: Type.Boolean({ description: 'Whether the medium is the active medium of one of the customer’s services' }),
  medium_status: MediumStatusSchema,
  mandate: Nullable(MandateSchema),
});

const BuyOptionSchema = Type.Object({
  product_price_id: Uuid(),
  purchase_line_type_id: PurchaseLineTypeIdSchema,
  description: Type.String(),
  quantity: Type.Integer({ description: 'Units in this option; buy-now may ask for 1 to max_quantity units' }),
  max_quantity: Type.Integer(),
  total_amount: Rand('Price of one unit, VAT-inclusive'),
  amount_per_quantity: Type.Number({ description: 'VAT-exclusive price of one unit' }),
  amount_per_quantity_incl: Rand('VAT-inclusive price of one unit'),
  net_amount_excl: Type.Number(),
  tax_rate: Type.Number(),
  tax_amount: Type.Number(),
  period_contribution_per_quantity: Type.Integer({ description: 'Days one unit adds' }),
});

const VariableAmountSchema = Type.Object(
  {
    product_price_id: Uuid(),
    purchase_line_type_id: PurchaseLineTypeIdSchema,
    description: Type.String(),
    amount_per_quantity: Type.Number({ description: 'VAT-exclusive price of one day' }),
    amount_per_quantity_incl: Type.Number({ description: 'VAT-inclusive price of one day' }),
    tax_rate: Type.Number(),
    period_contribution_per_quantity: Type.Integer(),
    monthly_amount: Rand('The monthly price, a natural amount to offer'),
    min_amount: Rand('The least amount that buys one day'),
    max_amount: Rand('The most one buy-now may spend'),
  },
  { description: 'Recurring services: spend any amount on days; quantity = floor(amount / daily price incl)' },
);

const UtilityAmountSchema = Type.Object(
  {
    kind: Type.Literal('utility'),
    description: Type.String(),
    meter_id: Type.String({ description: 'The meter the tokens are for' }),
    tax_rate: Type.Number(),
    min_amount: Rand('The least one purchase of tokens may be'),
    max_amount: Rand('The most one purchase of tokens may be'),
  },
  { description: 'PrepaidUtility services: tokens for any amount in the range (POST /purchases/buy-now with `amount`)' },
);

export const CanBuyInfoSchema = Type.Object({
  can_buy: Type.Boolean(),
  options: Type.Array(BuyOptionSchema, { description: 'Priced units (day bundles) to buy with POST /purchases/buy-now' }),
  variable_amount: Type.Union([VariableAmountSchema, UtilityAmountSchema, Type.Null()]),
});

export const DetailsAndActionsSchema = Type.Object({
  service_id: Uuid(),
  service_status: ServiceStatusSchema,
  service_status_category: ServiceStatusCategorySchema,
  collector_id: Uuid(),
  service_type: BillingSchemeSchema,
  billing_status: BillingStatusSchema,
  latest_period_end_date: Nullable(IsoDate('The date the paid period ends')),
  suspension_date: Nullable(IsoDate()),
  collection_day: Nullable(Type.Integer({ minimum: 1, maximum: 31 })),
  plan_id: Nullable(Uuid()),
  mediums: Type.Array(ServiceMediumSchema),
  must_pay_info: Nullable(
    Type.Object({
      must_pay: Type.Boolean(),
      arrears_purchase: PurchaseSchema,
    }),
  ),
  can_buy_info: Nullable(CanBuyInfoSchema),
  last_purchase_is_pending: Type.Boolean({ description: 'A payment for this service is in flight (pending or unknown)' }),
  on_network_date: Nullable(IsoDate()),
});

export const ServiceSchema = Type.Object({
  id: Uuid(),
  customer_id: Uuid(),
  product_id: Uuid(),
  product_name: Type.String({ description: 'The product’s name, as the customer knows it' }),
  collector_id: Uuid(),
  service_type: BillingSchemeSchema,
  service_status: ServiceStatusSchema,
  service_status_category: ServiceStatusCategorySchema,
  billing_status: BillingStatusSchema,
  collection_day: Nullable(Type.Integer()),
  plan_id: Nullable(Uuid()),
  active_medium_id: Nullable(Uuid()),
  latest_period_end_date: Nullable(IsoDate()),
  suspension_date: Nullable(IsoDate()),
  on_network_date: Nullable(IsoDate()),
  meter_id: Nullable(Type.String({ description: 'PrepaidUtility: the meter tokens are bought for' })),
  amount_due: Rand('What it owes now: the total of its Unpaid purchases (rand)'),
  created_date: Timestamp(),
});

/** One collection attempt of a purchase. */
export const PaymentSchema = Type.Object({
  id: Uuid(),
  purchase_id: Uuid(),
  medium_id: Nullable(Uuid()),
  medium_type: Nullable(Type.Unsafe<string>({ ...MediumTypeSchema, description: 'What the attempt collected from: BankAccount is a debit order (pending for days until the bank clears it)' })),
  provider: ProviderSchema,
  kind: Type.Unsafe<'token' | 'hosted' | 'link' | 'allocation'>({
    type: 'string',
    enum: ['token', 'hosted', 'link', 'allocation'],
    description: 'token: a stored card/bank token charged; hosted: a checkout page; link: a payment link; allocation: off-system',
  }),
  status: PaymentStatusSchema,
  amount: Type.Number({ description: 'Rand' }),
  currency: Type.String(),
  merchant_reference: Type.String({ description: 'Our reference, sent to the provider' }),
  provider_reference: Nullable(Type.String({ description: "The provider's reference" })),
  failure_code: Nullable(
    Type.String({
      description:
        'Why it failed: declined, insufficient_funds, invalid, expired, cancelled (a page closed or superseded by a new attempt), not_sent (the request never reached the provider: past its deadline the provider had no such transaction), other',
    }),
  ),
  failure_message: Nullable(Type.String()),
  purchase_source_id: Nullable(Uuid()),
  comment: Nullable(Type.String()),
  payment_link_url: Nullable(Type.String({ description: 'A pending hosted page or payment link: where the customer can still complete it' })),
  link_expires_date: Nullable(Timestamp('When that page stops accepting payment')),
  created_medium_id: Nullable(Uuid({ description: 'The card medium a tokenising payment left behind' })),
  created_date: Timestamp(),
  settled_date: Nullable(Timestamp()),
  returned: Nullable(
    Type.Object(
      {
        reason_code: Type.String({ description: "The provider's status for it (Debitsuccess: Failed)" }),
        reason: Type.String({ description: 'Why the money came back, as the provider words it' }),
        returned_date: Nullable(Timestamp('When the provider says it came back')),
        created_date: Timestamp('When payrail recorded it'),
      },
      { description: 'The payment succeeded and its money came back afterwards (a debit order returned unpaid): the payment stays succeeded, its purchase is owed again' },
    ),
  ),
  refund: Nullable(
    Type.Object(
      {
        id: Uuid(),
        status: Type.String({ description: 'pending, unknown, succeeded or manual (GET /refunds has the rest)' }),
        amount: Rand(),
        reason: Type.String({ description: 'vend_declined, late_success or requested' }),
      },
      { description: 'The refund of this payment being made or made (a refused one is not shown here): the payment stays succeeded' },
    ),
  ),
});

/** A payment whose money came back after it succeeded (a returned debit order). */
export const PaymentReturnSchema = Type.Object({
  id: Uuid(),
  payment_id: Uuid({ description: 'The attempt that succeeded and was returned (it stays succeeded)' }),
  purchase_id: Uuid({ description: 'Owed again since the return, unless another payment paid it' }),
  provider: ProviderSchema,
  provider_reference: Nullable(Type.String()),
  amount: Type.Number({ description: 'Rand' }),
  currency: Type.String(),
  reason_code: Type.String(),
  reason: Type.String(),
  returned_date: Nullable(Timestamp('When the provider says it came back')),
  created_date: Timestamp('When payrail recorded it'),
});

/** Money a provider took for an attempt payrail had already failed, or for a purchase already paid. */
export const LateSuccessSchema = Type.Object({
  id: Uuid(),
  payment_id: Uuid({ description: 'The attempt the money came for (it stays failed)' }),
  purchase_id: Uuid(),
  provider: ProviderSchema,
  provider_reference: Nullable(Type.String()),
  amount: Type.Number({ description: 'Rand' }),
  currency: Type.String(),
  disposition: Type.Unsafe<'paid_purchase' | 'refund_due'>({
    type: 'string',
    enum: ['paid_purchase', 'refund_due'],
    description: 'paid_purchase: it paid the purchase, which was still owed; refund_due: the purchase was paid (or cancelled) already, so the money is to go back',
  }),
  reason: Type.String(),
  created_date: Timestamp(),
});
