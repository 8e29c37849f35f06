import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { BillingSchemeNumber, MediumTypeNumber, type BillingScheme } from '../../domain/enums.ts';
import { rateBpToPercent } from '../../domain/vat.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { findProduct } from '../../modules/catalog/repo.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../../modules/mediums/repo.ts';
import { findOperator } from '../../modules/operators/repo.ts';
import { errorResponses, Nullable, Uuid } from '../schemas/common.ts';
import { BillingSchemeSchema, ProviderSchema } from '../schemas/enums.ts';
import { ProductPriceSchema } from '../schemas/setup.ts';
import { principalOf } from '../plugins/authentication.ts';
import { secured, type App } from '../route-kit.ts';
import { productPriceView } from '../setup-views.ts';

const BillingSchemeConfigSchema = Type.Object({
  product_id: Uuid(),
  product_name: Type.String(),
  billing_scheme: BillingSchemeSchema,
  billing_scheme_id: Type.Integer({ description: '1 = Recurring, 2 = DayBundle, 3 = HybridDayBundle' }),
  billing_period: Type.Union([Type.Literal('Monthly'), Type.Literal('Days')]),
  default_collection_day: Nullable(Type.Integer()),
  auto_recharge: Type.Boolean(),
  auto_recharge_lead_days: Type.Integer(),
  prices: Type.Array(ProductPriceSchema),
});

const RulesConfigSchema = Type.Object({
  operator_id: Uuid(),
  operator_name: Type.String(),
  currency: Type.String(),
  vat_rate: Type.Number(),
  payment_links_enabled: Type.Boolean(),
  grace_days: Type.Integer(),
  default_providers: Type.Object({ bank_account: ProviderSchema, credit_card: ProviderSchema }),
  global_opaque_medium_id: Uuid({ description: 'The "Add new payment method" medium' }),
});

const DefaultProviderSchema = Type.Object({
  medium_type: Type.Integer({ description: '1 = BankAccount, 2 = CreditCard' }),
  medium_type_name: Type.String(),
  provider: ProviderSchema,
  mandates: Type.Boolean({ description: 'The provider’s new cards are monthly mandates (VodaPay): "Add new payment method" sets one up on a Recurring service; other services pay new cards through the global medium’s provider' }),
});

export function configurationRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/configurations/billingScheme/Product/:productId',
    {
      schema: {
        ...secured('Configuration'),
        summary: "A product's billing scheme (GetConfigurationTypeBillingScheme)",
        params: Type.Object({ productId: Uuid() }),
        response: { 200: BillingSchemeConfigSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { operatorId } = principalOf(request);
      const [product, operator] = await Promise.all([
        findProduct(ctx.database.db, operatorId, request.params.productId),
        findOperator(ctx.database.db, operatorId),
      ]);
      if (!product || !operator) throw new NotFoundError('product', request.params.productId);
      const scheme = product.billingScheme as BillingScheme;
      return {
        product_id: product.id,
        product_name: product.name,
        billing_scheme: scheme,
        billing_scheme_id: BillingSchemeNumber[scheme],
        billing_period: scheme === 'Recurring' ? ('Monthly' as const) : ('Days' as const),
        default_collection_day: product.defaultCollectionDay,
        auto_recharge: product.autoRecharge,
        auto_recharge_lead_days: product.autoRechargeLeadDays,
        prices: product.prices.map((p) => productPriceView(p, operator.vatRateBp)),
      };
    },
  );

  app.get(
    '/config',
    {
      schema: {
        ...secured('Configuration'),
        summary: "The operator's rules config (GetRulesConfig)",
        description: 'Taken from the operator in the bearer token. Seed 000 notes it is being replaced by the billing scheme.',
        querystring: Type.Object({ productId: Type.Optional(Uuid({ description: 'Accepted for compatibility; not used' })) }),
        response: { 200: RulesConfigSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const operator = await findOperator(ctx.database.db, principalOf(request).operatorId);
      if (!operator) throw new NotFoundError('operator');
      return {
        operator_id: operator.id,
        operator_name: operator.name,
        currency: operator.currency,
        vat_rate: rateBpToPercent(operator.vatRateBp),
        payment_links_enabled: operator.paymentLinksEnabled,
        grace_days: operator.graceDays,
        default_providers: { bank_account: operator.defaultBankProvider, credit_card: operator.defaultCardProvider },
        global_opaque_medium_id: GLOBAL_OPAQUE_MEDIUM_ID,
      };
    },
  );

  app.get(
    '/default',
    {
      schema: {
        ...secured('Configuration'),
        summary: 'Default provider for a medium type (GetDefaultProvider, Payment Service)',
        querystring: Type.Object({
          mediumType: Type.Integer({ enum: [MediumTypeNumber.BankAccount, MediumTypeNumber.CreditCard], description: '1 = BankAccount, 2 = CreditCard' }),
        }),
        response: { 200: DefaultProviderSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const operator = await findOperator(ctx.database.db, principalOf(request).operatorId);
      if (!operator) throw new NotFoundError('operator');
      const bank = request.query.mediumType === MediumTypeNumber.BankAccount;
      const provider = bank ? operator.defaultBankProvider : operator.defaultCardProvider;
      return {
        medium_type: request.query.mediumType,
        medium_type_name: bank ? 'BankAccount' : 'CreditCard',
        provider,
        mandates: !bank && ctx.connectors.find(provider)?.capabilities?.mandates === true,
      };
    },
  );
}
