import type { AppContext } from '../../context.ts';
import { randToCents } from '../../domain/money.ts';
import { ValidationError, type FieldError } from '../../lib/errors.ts';
import { createBuyNowPurchase } from '../../modules/purchases/create-buy-now-purchase.ts';
import { createUtilityQuote } from '../../modules/utility/utility-purchases.ts';
import { BUY_NOW_DESCRIPTION, BuyNowBody, BuyNowPurchaseSchema } from '../schemas/buy-now.ts';
import { errorResponses } from '../schemas/common.ts';
import { actorOf, scopeOf, secured, type App } from '../route-kit.ts';
import { purchaseView } from '../views.ts';

/**
 * `POST /purchases/buy-now` (seed 000 "CreateBuyNowPurchase"). Customers buy for their own services,
 * integrators and admins for any of their operator's; anyone else's service is a 404. The seed shows only
 * the response body; a created quote answers 201.
 */
export function buyNowRoutes(app: App, ctx: AppContext): void {
  app.post(
    '/purchases/buy-now',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Create a buy-now purchase (quote) from a can_buy_info option or an amount (CreateBuyNowPurchase)',
        description: BUY_NOW_DESCRIPTION,
        body: BuyNowBody,
        response: { 201: BuyNowPurchaseSchema, ...errorResponses(400, 401, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if ((b.amount === undefined) === (b.purchase_lines === undefined)) {
        throw new ValidationError('Send purchase_lines, or (for a prepaid-utility service) amount: exactly one of them.', [{ name: 'body', reason: 'exactly one of purchase_lines and amount is required' }]);
      }
      if (b.amount !== undefined) {
        const amountCents = randToCents(b.amount);
        if (amountCents === null) throw new ValidationError('Amounts are rand with at most two decimals.', [{ name: 'body.amount', reason: 'must be rand with at most two decimals' }]);
        const quote = await createUtilityQuote(ctx, scopeOf(request), actorOf(request), {
          serviceId: b.service_id.toLowerCase(),
          amountCents,
          purchaseSourceId: b.purchase_source_id?.toLowerCase() ?? null,
          comment: b.comment ?? null,
          customerStatementRef: b.customer_statement_ref ?? null,
        });
        return reply.status(201).send(purchaseView(quote));
      }
      // Money becomes cents at the edge: a rand amount with a third decimal is malformed, not a price.
      const badAmounts: FieldError[] = [];
      const lines = b.purchase_lines!.map((l, i) => {
        const totalCents = randToCents(l.total_amount);
        if (totalCents === null) badAmounts.push({ name: `body.purchase_lines[${i}].total_amount`, reason: 'must be rand with at most two decimals' });
        return {
          productPriceId: l.product_price_id?.toLowerCase() ?? null,
          purchaseLineTypeId: l.purchase_line_type_id,
          totalCents: totalCents ?? 0,
          amountPerQuantity: l.amount_per_quantity,
          amountPerQuantityIncl: l.amount_per_quantity_incl ?? null,
          netAmountExcl: l.net_amount_excl,
          taxRate: l.tax_rate,
          taxAmount: l.tax_amount,
          quantity: l.quantity,
          periodContributionPerQuantity: l.period_contribution_per_quantity,
        };
      });
      if (badAmounts.length > 0) throw new ValidationError('Amounts are rand with at most two decimals.', badAmounts);
      // RFC 3339 allows a leap second (23:59:60), which Date cannot hold.
      const purchaseDate = b.purchase_date ? new Date(b.purchase_date) : null;
      if (purchaseDate && Number.isNaN(purchaseDate.getTime())) {
        throw new ValidationError('purchase_date is not a usable instant.', [{ name: 'body.purchase_date', reason: 'must be an ISO 8601 date-time' }]);
      }

      const purchase = await createBuyNowPurchase(ctx, scopeOf(request), actorOf(request), {
        serviceId: b.service_id.toLowerCase(),
        lines,
        customerStatementRef: b.customer_statement_ref ?? null,
        purchaseDate,
        purchaseSourceId: b.purchase_source_id?.toLowerCase() ?? null,
        comment: b.comment ?? null,
      });
      return reply.status(201).send(purchaseView(purchase));
    },
  );
}
