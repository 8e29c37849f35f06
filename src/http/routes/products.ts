import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import type { BillingScheme, PurchaseLineTypeId } from '../../domain/enums.ts';
import { randToCents } from '../../domain/money.ts';
import { NotFoundError, ValidationError } from '../../lib/errors.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import { createProduct } from '../../modules/catalog/create-product.ts';
import { findProduct, listProducts } from '../../modules/catalog/repo.ts';
import { findOperator } from '../../modules/operators/repo.ts';
import { errorResponses, Page, PageQuery, Uuid } from '../schemas/common.ts';
import { NewProductBody, ProductSchema } from '../schemas/setup.ts';
import { principalOf } from '../plugins/authentication.ts';
import { actorOf, secured, STAFF, type App } from '../route-kit.ts';
import { productView } from '../setup-views.ts';

export function productRoutes(app: App, ctx: AppContext): void {
  async function vatRate(operatorId: string): Promise<number> {
    const operator = await findOperator(ctx.database.db, operatorId);
    if (!operator) throw new NotFoundError('operator');
    return operator.vatRateBp;
  }

  app.post(
    '/products',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Setup'),
        summary: 'Create a product with its prices and billing scheme',
        description:
          'Recurring products need one monthly price (purchase_line_type_id 2, days_in_period 28–31); day prices ' +
          '(type 1) add period_contribution_per_quantity days per unit; once-off charges (type 3) are never bought ahead. ' +
          'HybridDayBundle products auto-recharge.',
        body: NewProductBody,
        response: { 201: ProductSchema, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const { operatorId } = principalOf(request);
      const b = request.body;
      const prices = b.prices.map((p, i) => {
        const cents = randToCents(p.price_incl);
        if (cents === null) throw new ValidationError('Prices are in rand with at most two decimals.', [{ name: `body.prices[${i}].price_incl`, reason: 'must have at most two decimals' }]);
        return {
          id: p.id,
          description: p.description,
          lineTypeId: p.purchase_line_type_id as PurchaseLineTypeId,
          priceInclCents: cents,
          periodContributionPerQuantity: p.period_contribution_per_quantity,
          daysInPeriod: p.days_in_period,
          onOrder: p.on_order,
          buyNow: p.buy_now,
          maxQuantity: p.max_quantity,
        };
      });
      const product = await createProduct(ctx, operatorId, actorOf(request), {
        id: b.id,
        name: b.name,
        billingScheme: b.billing_scheme as BillingScheme,
        defaultCollectionDay: b.default_collection_day,
        autoRechargeLeadDays: b.auto_recharge_lead_days,
        ...(b.vend_min_amount !== undefined ? { vendMinCents: Math.round(b.vend_min_amount * 100) } : {}),
        ...(b.vend_max_amount !== undefined ? { vendMaxCents: Math.round(b.vend_max_amount * 100) } : {}),
        prices,
      });
      return reply.status(201).send(productView(product, await vatRate(operatorId)));
    },
  );

  app.get(
    '/products',
    {
      schema: { ...secured('Setup'), summary: 'List products, newest first', querystring: Type.Object(PageQuery), response: { 200: Page(ProductSchema), ...errorResponses(400, 401) } },
    },
    async (request) => {
      const { operatorId } = principalOf(request);
      const page = pageRequest(request.query);
      const [rows, rate] = await Promise.all([listProducts(ctx.database.db, operatorId, page), vatRate(operatorId)]);
      return toPage(rows, page, (p) => productView(p, rate));
    },
  );

  app.get(
    '/products/:id',
    {
      schema: { ...secured('Setup'), summary: 'A product', params: Type.Object({ id: Uuid() }), response: { 200: ProductSchema, ...errorResponses(400, 401, 404) } },
    },
    async (request) => {
      const { operatorId } = principalOf(request);
      const product = await findProduct(ctx.database.db, operatorId, request.params.id);
      if (!product) throw new NotFoundError('product', request.params.id);
      return productView(product, await vatRate(operatorId));
    },
  );
}
