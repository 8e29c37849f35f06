import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { completeCapture, findCapture, startCapture, type CaptureRow } from '../../modules/mediums/capture-medium.ts';
import { cancelMedium } from '../../modules/mediums/cancel-medium.ts';
import { listPaymentMediums } from '../../modules/mediums/list-payment-mediums.ts';
import { allowedRedirect } from '../../modules/payments/return-urls.ts';
import { errorResponses, Nullable, Timestamp, Uuid } from '../schemas/common.ts';
import { PaymentMediumSchema, ServiceMediumSchema } from '../schemas/resources.ts';
import { actorOf, scopeOf, secured, type App } from '../route-kit.ts';
import { paymentMediumView, serviceMediumView } from '../views.ts';

const CaptureSchema = Type.Object(
  {
    id: Uuid({ description: 'The capture' }),
    status: Type.Union([Type.Literal('open'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('expired')]),
    medium_type: Type.Union([Type.Literal('BankAccount'), Type.Literal('CreditCard')]),
    provider: Type.String({ description: 'The operator’s default provider for the medium type, which runs the page' }),
    customer_id: Uuid(),
    service_id: Nullable(Uuid({ description: 'The service whose active medium the captured one becomes' })),
    capture_url: Nullable(Type.String({ description: 'Send the customer here (the provider’s page); null once the capture is over' })),
    expires_at: Nullable(Timestamp('Until when the page accepts the customer')),
    medium_id: Nullable(Uuid({ description: 'The Valid medium the capture left (status succeeded)' })),
    failure: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    created_at: Timestamp(),
  },
);

const captureView = (c: CaptureRow) => ({
  id: c.id,
  status: c.status,
  medium_type: c.mediumType,
  provider: c.provider,
  customer_id: c.customerId,
  service_id: c.serviceId,
  capture_url: c.status === 'open' ? c.redirectUrl : null,
  expires_at: c.expiresAt?.toISOString() ?? null,
  medium_id: c.mediumId,
  failure: c.failureCode ? { code: c.failureCode, message: c.failureMessage ?? '' } : null,
  created_at: c.createdAt.toISOString(),
});

export function paymentMediumRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/payment-mediums',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Valid mediums of a user (GetPaymentMediums)',
        description:
          "The valid payment mediums of the user's customer, followed by the global ProviderSelectedOpaque medium " +
          '`aa8b416b-a7d9-4bc0-af81-041722e11ad4` ("Add new payment method", paid through Peach Payments Checkout). ' +
          'A customer may only ask for users of their own customer.',
        querystring: Type.Object({ userId: Uuid({ description: 'The user whose mediums to list' }) }),
        response: { 200: Type.Array(PaymentMediumSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const mediums = await listPaymentMediums(ctx, scopeOf(request), request.query.userId);
      return mediums.map((m) => paymentMediumView(m.medium, m.isLinked));
    },
  );

  app.delete(
    '/payment-mediums/:id',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Withdraw a card or bank account (and cancel its mandate)',
        description:
          'Cancels the medium’s mandate or token at its provider where the provider has a way to (VodaPay: Token/Cancel), then marks the medium ' +
          'Invalid: nothing charges it again. Every service it was the active medium of is left without one (details-and-actions shows ' +
          '`active_medium_id: null`), so their next purchases stay owed until another medium is chosen or Pay Now is used. If the provider does not ' +
          'confirm the cancellation, nothing changes (503 `provider.*`; try again). Deleting an Invalid medium again answers it as it is. ' +
          'A customer may withdraw only their own mediums; outbox `medium.updated`.',
        params: Type.Object({ id: Uuid({ description: 'The medium (medium_detail_id)' }) }),
        response: { 200: ServiceMediumSchema, ...errorResponses(400, 401, 404, 422, 503) },
      },
    },
    async (request) => serviceMediumView(await cancelMedium(ctx, scopeOf(request), actorOf(request), request.params.id)),
  );

  app.post(
    '/payment-mediums/capture',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Add a bank account or card without paying (SPEC §11)',
        description:
          'Opens the hosted page of the operator’s default provider for the medium type (`GET /default?mediumType=`): Debitsuccess’s ' +
          'payment form for a bank account (holder, bank, branch code, account number, account type) or a card. Send the customer to ' +
          '`capture_url`; they come back to `return_url` with `capture_id` and `capture_status` in its query. The medium exists only once ' +
          'the provider itself says the details were kept: a Valid medium (last digits only), active on `service_id` when one was named. ' +
          'A provider that takes cards only with a payment answers 422 `capture.not_offered`; a provider refusal is its problem.',
        body: Type.Object(
          {
            customer_id: Type.Optional(Uuid({ description: 'The customer (staff; a customer’s own by default)' })),
            service_id: Type.Optional(Uuid({ description: 'The service whose active medium the new one becomes' })),
            medium_type: Type.Union([Type.Literal('BankAccount'), Type.Literal('CreditCard')]),
            return_url: Type.String({ maxLength: 2048, description: 'Where the customer is sent back: payrail or a client interface (PAYRAIL_REDIRECT_ORIGINS)' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: CaptureSchema, ...errorResponses(400, 401, 404, 422, 503) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const capture = await startCapture(ctx, scopeOf(request), actorOf(request), { customerId: b.customer_id ?? null, serviceId: b.service_id ?? null, mediumType: b.medium_type, returnUrl: b.return_url });
      return reply.code(201).send(captureView(capture));
    },
  );

  app.get(
    '/payment-mediums/captures/:id',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'A capture and what came of it',
        description: 'An open capture is asked about at its provider first, so this answers what the provider knows now.',
        params: Type.Object({ id: Uuid() }),
        response: { 200: CaptureSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const capture = await findCapture(ctx, scopeOf(request), request.params.id);
      if (!capture) throw new NotFoundError('capture', request.params.id);
      return captureView(capture.status === 'open' ? await completeCapture(ctx, capture.id) : capture);
    },
  );

  // The customer's browser back from the provider's page: a prompt to ask the provider, never the result
  // itself (its query is unsigned), then on to the client interface.
  app.get(
    '/payment-mediums/captures/:id/return',
    { config: { public: true }, schema: { hide: true, params: Type.Object({ id: Uuid() }) } },
    async (request, reply) => {
      const capture = await completeCapture(ctx, request.params.id);
      const back = allowedRedirect(ctx.config, capture.returnUrl);
      if (!back) throw new NotFoundError('capture', capture.id);
      back.searchParams.set('capture_id', capture.id);
      back.searchParams.set('capture_status', capture.status);
      return reply.redirect(back.toString(), 303);
    },
  );
}
