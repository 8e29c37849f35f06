import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { PurchaseStatus } from '../../domain/enums.ts';
import { vendSoon } from '../../modules/utility/vend.ts';
import { AppError } from '../../lib/errors.ts';
import { collectPurchase } from '../../modules/payments/collect-purchase.ts';
import { principalOf } from '../plugins/authentication.ts';
import { actorOf, secured, type App } from '../route-kit.ts';
import { errorResponses, Nullable, Uuid } from '../schemas/common.ts';

const SubmitBody = Type.Object(
  {
    service_id: Uuid({ description: 'The service the purchase is for' }),
    purchase_id: Uuid({ description: 'The purchase to collect: must_pay_info’s, or a buy-now quote' }),
    medium_id: Uuid({
      description:
        'How to pay: a Valid CreditCard/BankAccount medium (its token is charged now), the global ProviderSelectedOpaque medium ' +
        'aa8b416b-a7d9-4bc0-af81-041722e11ad4 ("Add new payment method": the hosted checkout of the operator’s card provider, Peach Payments ' +
        'per seed 000), the PaymentLink medium (the link provider’s payment page) or the OffSystem medium (an allocation; integrators and admins only).',
    }),
    success_url: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 2048,
          description:
            'Hosted payments: where the browser returns. For Peach, seed 000 passes payrail’s `/peach-redirect/{collectorId}?url=<UI url ending /1>`. ' +
            'Must lead to payrail or an origin in PAYRAIL_REDIRECT_ORIGINS. Default: payrail’s own redirect to `/app/ext-pay/{userId}/{purchaseId}/1`.',
        }),
      ),
    ),
    failure_url: Type.Optional(Nullable(Type.String({ maxLength: 2048, description: 'As success_url, ending /0. Peach returns to success_url even on failure (seed 000).' }))),
    process_immediate_purchase: Type.Optional(
      Type.Boolean({ default: true, description: 'false: a future-dated (Scheduled) purchase only records the medium and is collected on its date.' }),
    ),
    purchase_source_id: Type.Optional(Nullable(Uuid({ description: 'OffSystem: where the money came from (GET /purchases/sources)' }))),
    comment: Type.Optional(Nullable(Type.String({ maxLength: 500, description: 'OffSystem: a note kept with the allocation' }))),
  },
  { additionalProperties: false },
);

const SubmitResponse = Type.Object({
  payment_link_url: Nullable(Type.String({ description: 'Send the customer here (hosted checkout, payment link); null when nothing more is needed' })),
  payment_id: Nullable(Uuid({ description: 'The collection attempt (GET /payments?purchaseId=)' })),
  payment_status: Type.Unsafe<'pending' | 'succeeded' | 'failed' | 'unknown' | null>({
    type: 'string',
    enum: ['pending', 'succeeded', 'failed', 'unknown'],
    nullable: true,
    description: 'succeeded: paid. pending: waiting for the customer or the provider. unknown: the provider did not answer; payrail finds out and settles it.',
  }),
  purchase_status_id: Type.Integer({ description: 'The purchase’s status now (2 Submitted, 4 Paid …)' }),
});

const DECLINE_CODES: Record<string, string> = { insufficient_funds: 'payment.insufficient_funds', expired: 'payment.card_expired', cancelled: 'payment.cancelled' };

export function collectionRoutes(app: App, ctx: AppContext): void {
  app.post(
    '/purchases/submit-for-collection',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Submit a purchase for collection (Pay Now)',
        description:
          'Collects a purchase with a medium, exactly once (seed 000). 200: paid now, or `payment_link_url` to send the customer to. ' +
          '202: the attempt is in flight (the provider has not said yet; payrail settles it). 402: declined — the purchase stays payable. ' +
          '409: the purchase is paid or has an attempt in flight (the problem names `payment_id`). 503: the provider is unavailable — nothing was charged.',
        body: SubmitBody,
        response: { 200: SubmitResponse, 202: SubmitResponse, ...errorResponses(400, 401, 402, 403, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const b = request.body;
      const outcome = await collectPurchase(ctx, {
        serviceId: b.service_id,
        purchaseId: b.purchase_id,
        mediumId: b.medium_id,
        actor: { ...actorOf(request), role: p.role, operatorId: p.operatorId, customerId: p.customerId },
        returnUrls: { success: b.success_url ?? null, failure: b.failure_url ?? null },
        processImmediate: b.process_immediate_purchase ?? true,
        purchaseSourceId: b.purchase_source_id ?? null,
        comment: b.comment ?? null,
      });
      const payment = outcome.payment;
      // A paid utility purchase is vended at once (a no-op for any other purchase).
      if (outcome.purchaseStatusId === PurchaseStatus.Paid) vendSoon(ctx, b.purchase_id);
      if (payment?.status === 'failed') {
        throw new AppError(402, DECLINE_CODES[payment.failureCode ?? ''] ?? 'payment.declined', `The payment was declined: ${payment.failureMessage ?? 'the provider refused it'}. The purchase is still payable.`, {
          extensions: { payment_id: payment.id, failure_code: payment.failureCode, purchase_status_id: outcome.purchaseStatusId },
        });
      }
      const inFlight = payment !== null && (payment.status === 'pending' || payment.status === 'unknown') && outcome.paymentLinkUrl === null;
      return reply.status(inFlight ? 202 : 200).send({
        payment_link_url: outcome.paymentLinkUrl,
        payment_id: payment?.id ?? null,
        payment_status: payment?.status ?? null,
        purchase_status_id: outcome.purchaseStatusId,
      });
    },
  );
}
