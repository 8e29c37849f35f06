import Type from 'typebox';
import { Nullable, Rand, Timestamp, Uuid } from './common.ts';
import { BillingSchemeSchema, ProviderSchema, PurchaseLineTypeIdSchema, RoleSchema } from './enums.ts';

export const OperatorSchema = Type.Object({
  id: Uuid(),
  name: Type.String(),
  currency: Type.String(),
  vat_rate: Type.Number({ description: 'VAT rate in percent' }),
  payment_links_enabled: Type.Boolean(),
  grace_days: Type.Integer({ description: 'Days after an unpaid purchase is due before the service is suspended' }),
  retry_days: Type.Array(Type.Integer(), { description: 'Days after a due date on which a failed monthly collection is tried again' }),
  auto_recharge_attempts: Type.Integer({ description: 'Days in a row an auto-recharge is tried before its purchase is Failed' }),
  default_providers: Type.Object({ bank_account: ProviderSchema, credit_card: ProviderSchema }),
  created_date: Timestamp(),
  updated_date: Timestamp(),
});

export const PurchaseSourceSchema = Type.Object({
  id: Uuid(),
  collector_id: Uuid(),
  name: Type.String(),
  off_system: Type.Boolean(),
  active: Type.Boolean(),
});

export const CollectorSchema = Type.Object({
  id: Uuid(),
  name: Type.String(),
  purchase_sources: Type.Array(PurchaseSourceSchema),
  created_date: Timestamp(),
});

export const ProductPriceSchema = Type.Object({
  id: Uuid(),
  description: Type.String(),
  purchase_line_type_id: PurchaseLineTypeIdSchema,
  price_incl: Rand('VAT-inclusive price of one unit (a month for monthly prices)'),
  amount_per_quantity: Type.Number({ description: 'VAT-exclusive price of one unit at the operator’s VAT rate' }),
  tax_rate: Type.Number(),
  period_contribution_per_quantity: Type.Integer({ description: 'Days one unit adds (days in the month for monthly prices)' }),
  days_in_period: Nullable(Type.Integer({ description: 'Monthly prices: days a month counts for (daily price = price / days)' })),
  on_order: Type.Boolean({ description: 'Charged on the upfront purchase of an order' }),
  buy_now: Type.Boolean({ description: 'Offered in can_buy_info' }),
  max_quantity: Type.Integer({ description: 'Most units (days, for monthly prices) one buy-now may buy' }),
});

export const ProductSchema = Type.Object({
  id: Uuid(),
  name: Type.String(),
  billing_scheme: BillingSchemeSchema,
  default_collection_day: Nullable(Type.Integer()),
  auto_recharge: Type.Boolean(),
  auto_recharge_lead_days: Type.Integer(),
  vend_min_amount: Nullable(Type.Number({ description: 'PrepaidUtility: the least one purchase of tokens may be (rand)' })),
  vend_max_amount: Nullable(Type.Number({ description: 'PrepaidUtility: the most one purchase of tokens may be (rand)' })),
  active: Type.Boolean(),
  prices: Type.Array(ProductPriceSchema),
  created_date: Timestamp(),
});

export const CustomerSchema = Type.Object({
  id: Uuid(),
  name: Type.String(),
  email: Nullable(Type.String()),
  cell_number: Nullable(Type.String()),
  external_reference: Nullable(Type.String()),
  created_date: Timestamp(),
});

export const UserSchema = Type.Object({
  id: Uuid(),
  customer_id: Nullable(Uuid()),
  role: RoleSchema,
  name: Type.String(),
  email: Nullable(Type.String()),
  created_date: Timestamp(),
});

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });
const Email = () => Type.String({ format: 'email', maxLength: 320 });

export const NewUserBody = Type.Object(
  { id: Type.Optional(Uuid()), name: Name('Display name'), email: Type.Optional(Email()) },
  { additionalProperties: false },
);

export const NewCustomerBody = Type.Object(
  {
    id: Type.Optional(Uuid({ description: 'Choose the id (e.g. to mirror another system); generated when absent' })),
    name: Name('Customer name'),
    email: Type.Optional(Email()),
    cell_number: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{9,15}$' })),
    external_reference: Type.Optional(Type.String({ maxLength: 200 })),
    users: Type.Optional(Type.Array(NewUserBody, { maxItems: 20 })),
  },
  { additionalProperties: false },
);

export const NewPurchaseSourceBody = Type.Object(
  {
    id: Type.Optional(Uuid()),
    name: Name('Shown when allocating an off-system payment, e.g. "Cash"'),
    off_system: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export const NewCollectorBody = Type.Object(
  {
    id: Type.Optional(Uuid()),
    name: Name('Collector name'),
    purchase_sources: Type.Optional(Type.Array(NewPurchaseSourceBody, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

export const NewPriceBody = Type.Object(
  {
    id: Type.Optional(Uuid()),
    description: Name('Shown on purchase lines, e.g. "7 Day bundle"'),
    purchase_line_type_id: PurchaseLineTypeIdSchema,
    price_incl: Type.Number({ exclusiveMinimum: 0, maximum: 10_000_000, description: 'VAT-inclusive price in rand, at most two decimals' }),
    period_contribution_per_quantity: Type.Optional(Type.Integer({ minimum: 0, maximum: 3660, description: 'Days one unit adds (day prices)' })),
    days_in_period: Type.Optional(Type.Integer({ minimum: 28, maximum: 31, description: 'Monthly prices only' })),
    on_order: Type.Optional(Type.Boolean()),
    buy_now: Type.Optional(Type.Boolean()),
    max_quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const NewProductBody = Type.Object(
  {
    id: Type.Optional(Uuid()),
    name: Name('Product name'),
    billing_scheme: BillingSchemeSchema,
    default_collection_day: Type.Optional(Type.Integer({ minimum: 1, maximum: 31, description: 'Recurring: 1–31; in a shorter month a later day is collected on its last day' })),
    auto_recharge_lead_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 })),
    vend_min_amount: Type.Optional(Type.Number({ minimum: 0.01, maximum: 1_000_000, description: 'PrepaidUtility: the least one purchase of tokens may be (rand)' })),
    vend_max_amount: Type.Optional(Type.Number({ minimum: 0.01, maximum: 1_000_000, description: 'PrepaidUtility: the most one purchase of tokens may be (rand)' })),
    prices: Type.Array(NewPriceBody, { minItems: 1, maxItems: 50, description: 'A PrepaidUtility product has once-off prices only (e.g. a connection fee on order)' }),
  },
  { additionalProperties: false },
);

export const OperatorSettingsBody = Type.Object(
  {
    name: Type.Optional(Name('Operator name')),
    vat_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Percent, at most two decimals' })),
    payment_links_enabled: Type.Optional(Type.Boolean()),
    grace_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
    retry_days: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 365 }), { maxItems: 10, uniqueItems: true, description: 'Increasing days after the due date, e.g. [3, 7]; [] for no retries' }),
    ),
    auto_recharge_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    default_providers: Type.Optional(
      Type.Object({ bank_account: Type.Optional(ProviderSchema), credit_card: Type.Optional(ProviderSchema) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
