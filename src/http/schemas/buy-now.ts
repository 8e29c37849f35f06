import Type from 'typebox';
import { MAX_CENTS } from '../../domain/money.ts';
import { Nullable, Timestamp, Uuid } from './common.ts';
import { PurchaseLineTypeIdSchema } from './enums.ts';
import { PurchaseSchema } from './resources.ts';

const MAX_RAND = MAX_CENTS / 100;

/**
 * One line of a buy-now request, with seed 000's field names. The figures are the client's own
 * calculation: the server prices the line itself and refuses the request when they differ.
 */
export const BuyNowLineBody = Type.Object(
  {
    id: Type.Optional(Nullable(Uuid({ description: 'Ignored: the server gives every line its own id' }))),
    purchase_line_type_id: PurchaseLineTypeIdSchema,
    description: Type.String({ maxLength: 500, description: 'Ignored: the line takes the price’s description' }),
    total_amount: Type.Number({ minimum: 0, maximum: MAX_RAND, description: 'Rand, at most two decimals. For recurring months: the amount to spend' }),
    amount_per_quantity: Type.Number({ description: 'VAT-exclusive price of one unit' }),
    amount_per_quantity_incl: Type.Optional(Nullable(Type.Number({ description: 'VAT-inclusive price of one unit' }))),
    net_amount_excl: Type.Number(),
    tax_rate: Type.Number({ description: 'VAT rate in percent' }),
    tax_amount: Type.Number(),
    quantity: Type.Integer({ minimum: 1, maximum: 100_000 }),
    period_contribution_per_quantity: Type.Integer({ minimum: 0, maximum: 100_000 }),
    product_price_id: Type.Optional(
      Nullable(
        Uuid({
          description:
            'A day-bundle option of can_buy_info. Absent, null or the nil uuid for recurring months bought by amount ' +
            '(variable_amount.product_price_id is accepted too).',
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const BuyNowBody = Type.Object(
  {
    service_id: Uuid(),
    purchase_lines: Type.Optional(Type.Array(BuyNowLineBody, { minItems: 1, maxItems: 20, description: 'Required except for PrepaidUtility services' })),
    amount: Type.Optional(Type.Number({ minimum: 0.01, maximum: MAX_RAND, description: 'PrepaidUtility services (instead of purchase_lines): rand to spend on tokens, within can_buy_info.variable_amount; a Quote with creation event 7 (Utility vend)' })),
    customer_statement_ref: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    purchase_date: Type.Optional(Nullable(Timestamp('Purchase date of the quote; now when absent. From a day ago to 366 days ahead'))),
    purchase_source_id: Type.Optional(Nullable(Uuid({ description: 'One of the service collector’s purchase sources' }))),
    comment: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
  },
  { additionalProperties: false },
);

/** The quote exactly as seed 000's response shows it (GET /purchases/{id} adds the reference and comment). */
export const BuyNowPurchaseSchema = Type.Omit(PurchaseSchema, ['customer_statement_ref', 'comment']);

export const BUY_NOW_DESCRIPTION =
  'Creates a Quote (purchase_status_id 6, purchase_creation_event_id 6) to submit with /purchases/submit-for-collection. ' +
  'Day bundles: a `product_price_id` of can_buy_info.options and a quantity from 1 to max_quantity. Recurring months: ' +
  'no product_price_id; `total_amount` is the amount to spend (between variable_amount.min_amount and max_amount) and ' +
  'buys floor(total / daily price incl) days. The server prices every line itself: each figure sent must equal its own ' +
  '(money to the cent, per-unit prices within one part in a million) or the request is refused with 422 ' +
  '`purchase.price_mismatch` and nothing is created. Refused with 422 `purchase.buy_now_unavailable` while something is ' +
  'owed or when the service is cancelled. Answers 201 with the purchase.';
