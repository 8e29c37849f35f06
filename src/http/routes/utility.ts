import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { afterCursor, pageRequest, toPage } from '../../lib/pagination.ts';
import { requestRefund, type RefundRow } from '../../modules/refunds/request-refund.ts';
import { refunds } from '../../modules/refunds/schema.ts';
import { processRefund } from '../../modules/refunds/work-refunds.ts';
import { purchaseTokens, reprintTokens, serviceMeter, type PurchaseTokens } from '../../modules/utility/utility-purchases.ts';
import { and, desc, eq } from 'drizzle-orm';
import { errorResponses, Nullable, Page, PageQuery, Rand, Timestamp, Uuid } from '../schemas/common.ts';
import { actorOf, scopeOf, secured, STAFF, type App } from '../route-kit.ts';

const MeterSchema = Type.Object({
  meter_id: Type.String(),
  customer_name: Nullable(Type.String({ description: 'Whose meter it is, as the vendor knows it' })),
  address: Nullable(Type.String()),
  utility: Nullable(Type.String()),
});

const TokenSchema = Type.Object({
  token: Type.String({ description: '20 digits, as the customer keys it in: 4-4-4-4-4' }),
  token_type: Type.String({ description: 'STD (a credit token), BSST, REFUND, KC, PWRLMT' }),
  units: Nullable(Type.String({ description: 'kWh' })),
  amount: Nullable(Rand()),
  receipt_number: Nullable(Type.String()),
});

export const RefundSchema = Type.Object({
  id: Uuid(),
  payment_id: Uuid(),
  purchase_id: Uuid(),
  provider: Type.String(),
  amount: Rand(),
  reason: Type.Union([Type.Literal('vend_declined'), Type.Literal('late_success'), Type.Literal('requested')]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('unknown'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('manual')], {
    description: 'pending: being sent or at the provider; unknown: in doubt, payrail asks the provider; manual: off-system money, to give back by hand',
  }),
  provider_reference: Nullable(Type.String()),
  failure: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  comment: Nullable(Type.String()),
  created_at: Timestamp(),
  settled_at: Nullable(Timestamp()),
});

const TokensSchema = Type.Object({
  purchase_id: Uuid(),
  meter_id: Nullable(Type.String()),
  status: Type.Union([Type.Literal('not_paid'), Type.Literal('vending'), Type.Literal('issued'), Type.Literal('failed')], {
    description: 'vending: paid, the vendor is being asked (an unknown answer is retried with the same request); issued: tokens below; failed: the vendor declined, the payment is refunded',
  }),
  tokens: Type.Array(TokenSchema),
  failure: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  refund: Nullable(RefundSchema),
});

export const refundView = (r: RefundRow) => ({
  id: r.id,
  payment_id: r.paymentId,
  purchase_id: r.purchaseId,
  provider: r.provider,
  amount: r.amountCents / 100,
  reason: r.reason as 'vend_declined' | 'late_success' | 'requested',
  status: r.status as 'pending' | 'unknown' | 'succeeded' | 'failed' | 'manual',
  provider_reference: r.providerReference,
  failure: r.failureCode ? { code: r.failureCode, message: r.failureMessage ?? '' } : null,
  comment: r.comment,
  created_at: r.createdAt.toISOString(),
  settled_at: r.settledAt?.toISOString() ?? null,
});

/** "4-4-4-4-4": how a 20-digit token is keyed in. */
const grouped = (token: string): string => (/^[0-9]{20}$/.test(token) ? token.replace(/(\d{4})(?=\d)/g, '$1-') : token);

const tokensView = (t: PurchaseTokens) => ({
  purchase_id: t.purchase.id,
  meter_id: t.vend?.meterId ?? null,
  status: !t.vend ? ('not_paid' as const) : t.vend.status === 'succeeded' ? ('issued' as const) : t.vend.status === 'failed' ? ('failed' as const) : ('vending' as const),
  tokens: t.tokens.map((k) => ({ token: grouped(k.token), token_type: k.tokenType, units: k.units, amount: k.amount ? k.amount.amountCents / 100 : null, receipt_number: k.receiptNumber })),
  failure: t.vend?.status === 'failed' ? { code: t.vend.failureCode ?? 'declined', message: t.vend.failureMessage ?? '' } : null,
  refund: t.refund ? refundView(t.refund) : null,
});

/** Prepaid electricity (SPEC §12) and refunds: the meter, the tokens, reprints; staff refunds. */
export function utilityRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/services/:id/meter',
    {
      schema: {
        ...secured('Prepaid electricity'),
        summary: 'The service’s meter, as the utility vendor knows it',
        description: 'Asks the vendor’s meter lookup, so the customer sees whose meter it is before paying. 422 `meter.unknown` for a meter the vendor does not know (nothing can be bought for it); 503 when the vendor does not answer.',
        params: Type.Object({ id: Uuid() }),
        response: { 200: MeterSchema, ...errorResponses(400, 401, 404, 422, 503) },
      },
    },
    async (request) => {
      const m = await serviceMeter(ctx, scopeOf(request), request.params.id);
      return { meter_id: m.meterId, customer_name: m.customerName, address: m.address, utility: m.utility };
    },
  );

  app.get(
    '/purchases/:id/tokens',
    {
      schema: {
        ...secured('Prepaid electricity'),
        summary: 'The tokens of a prepaid-utility purchase',
        description: 'Shown only to the customer whose purchase it is and to the operator’s staff. While the vendor is being asked the status is `vending`; a declined vend says `failed` with its refund.',
        params: Type.Object({ id: Uuid() }),
        response: { 200: TokensSchema, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => tokensView(await purchaseTokens(ctx, scopeOf(request), request.params.id)),
  );

  app.post(
    '/purchases/:id/tokens/reprint',
    {
      schema: {
        ...secured('Prepaid electricity'),
        summary: 'Reprint a purchase’s tokens (the vendor’s reprint; never a new purchase)',
        params: Type.Object({ id: Uuid() }),
        response: { 200: TokensSchema, ...errorResponses(400, 401, 404, 422, 503) },
      },
    },
    async (request) => tokensView(await reprintTokens(ctx, scopeOf(request), actorOf(request), request.params.id)),
  );

  app.post(
    '/payments/:id/refunds',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Purchases'),
        summary: 'Refund a payment (integrators and admins)',
        description:
          'Gives all of a succeeded payment’s money back through the provider that took it (PayFast, Peach Payments). Never twice: a payment already ' +
          'refunded or being refunded answers that refund (200). The provider is asked at once; an answer that does not come leaves the refund ' +
          '`unknown` and payrail asks the provider until it says. Off-system money cannot be sent back by payrail: the refund is `manual`. ' +
          'Outbox `payment.refunded` when the provider confirms. 422 for a payment that did not succeed or was returned.',
        params: Type.Object({ id: Uuid() }),
        body: Type.Optional(Type.Object({ comment: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
        response: { 200: RefundSchema, 201: RefundSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const scope = scopeOf(request);
      const { refund, created } = await requestRefund(ctx, scope.operatorId, actorOf(request), request.params.id, request.body?.comment ?? null);
      if (created && refund.status === 'pending') await processRefund(ctx, refund.id);
      const [now] = await ctx.database.db.select().from(refunds).where(eq(refunds.id, refund.id));
      return reply.status(created ? 201 : 200).send(refundView(now ?? refund));
    },
  );

  app.get(
    '/refunds',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Purchases'),
        summary: 'Refunds, newest first (integrators and admins)',
        description: '`?status=manual` lists the off-system payments someone must give back by hand; `?status=failed` the ones a provider refused.',
        querystring: Type.Object({ status: Type.Optional(Type.Union(['pending', 'unknown', 'succeeded', 'failed', 'manual'].map((s) => Type.Literal(s)))), ...PageQuery }),
        response: { 200: Page(RefundSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const page = pageRequest(request.query);
      const scope = scopeOf(request);
      const rows = await ctx.database.db
        .select()
        .from(refunds)
        .where(and(eq(refunds.operatorId, scope.operatorId), request.query.status ? eq(refunds.status, request.query.status) : undefined, afterCursor(page, refunds.createdAt, refunds.id)))
        .orderBy(desc(refunds.createdAt), desc(refunds.id))
        .limit(page.limit + 1);
      return toPage(rows, page, refundView);
    },
  );
}
