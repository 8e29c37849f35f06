import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import type { Provider } from '../../domain/enums.ts';
import { AppError, NotFoundError } from '../../lib/errors.ts';
import { cardMediumUpdateUrl } from '../../modules/payments/card-medium-update.ts';
import { collectorOfPayment, processCallback, receiveCallback } from '../../modules/payments/provider-callbacks.ts';
import { allowedRedirect, withOutcome } from '../../modules/payments/return-urls.ts';
import type { InboundRequest } from '../../providers/contract.ts';
import { scopeOf, secured, type App } from '../route-kit.ts';
import { errorResponses, Uuid } from '../schemas/common.ts';

const callbackRoute = { public: true, form: true } as const;

function inbound(request: FastifyRequest, channel: InboundRequest['channel']): InboundRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) if (typeof v === 'string') headers[k] = v;
  return {
    channel,
    method: request.method,
    path: request.url.split('?')[0] ?? '/',
    query: Object.fromEntries(Object.entries((request.query ?? {}) as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
    headers,
    rawBody: request.rawBody ?? (request.body === undefined ? '' : JSON.stringify(request.body)),
    remoteAddress: request.ip,
  };
}

export function providerCallbackRoutes(app: App, ctx: AppContext): void {
  app.post(
    '/peach-redirect/:collectorId',
    {
      config: callbackRoute,
      schema: {
        tags: ['Pay Now'],
        summary: 'Peach Payments’ browser return (seed 000)',
        description:
          'Peach posts the shopper’s browser here (always to the success URL, even when the payment failed). payrail verifies the ' +
          'signature, asks Peach for the real result, settles the payment and answers 303 to `url` with its last path segment set to ' +
          '1 (paid) or 0 (not paid). A forged POST is refused (400) and changes nothing; a replayed one changes nothing. `url` must lead to ' +
          'payrail or an origin in PAYRAIL_REDIRECT_ORIGINS.',
        params: Type.Object({ collectorId: Uuid({ description: 'The collector of the service being paid' }) }),
        querystring: Type.Object({ url: Type.String({ maxLength: 2048, description: 'The client interface URL to return to (ending /1 or /0)' }) }),
        response: { 303: Type.Null({ description: 'To the UI url ending /1 or /0' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const target = allowedRedirect(ctx.config, request.query.url);
      if (!target) throw new AppError(400, 'redirect.url_not_allowed', 'url must lead to payrail or to one of the operator’s client interfaces.', { errors: [{ name: 'query.url', reason: 'is not an allowed return URL' }] });
      const rowId = await receiveCallback(ctx, 'PeachPayments', inbound(request, 'redirect'));
      const outcome = await processCallback(ctx, rowId);
      if (outcome.verdict === 'rejected') throw new AppError(400, 'callback.unverified', 'The payment provider’s return could not be verified; nothing was changed.');
      const payment = outcome.payment;
      if (!payment) throw new NotFoundError('payment');
      if ((await collectorOfPayment(ctx, payment)) !== request.params.collectorId.toLowerCase()) throw new NotFoundError('collector', request.params.collectorId);
      return reply.redirect(withOutcome(target, payment.status === 'succeeded'), 303);
    },
  );

  const notification = (path: string, provider: Provider, channel: InboundRequest['channel'], summary: string, answerFirst: boolean) =>
    app.post(
      path,
      {
        config: callbackRoute,
        schema: { tags: ['Pay Now'], summary, description: 'Provider-to-payrail notification: stored raw first, verified, then processed once per provider event id.', response: { 200: Type.String(), ...errorResponses(400) } },
      },
      async (request, reply) => {
        const rowId = await receiveCallback(ctx, provider, inbound(request, channel));
        if (answerFirst) {
          // PayFast: answer 200 at once, then validate (its ITN rules). The stored row is processed even if this process dies now.
          setImmediate(() => void processCallback(ctx, rowId).catch((err) => ctx.log.error({ err, rowId }, 'processing a callback failed; the callbacks job retries it')));
          return reply.type('text/plain').send('OK');
        }
        const outcome = await processCallback(ctx, rowId);
        if (outcome.verdict === 'rejected') throw new AppError(400, 'callback.unverified', 'The notification could not be verified; nothing was changed.');
        return reply.type('text/plain').send('OK');
      },
    );
  notification('/payfast-payments/itn', 'PayFast', 'itn', 'PayFast ITN (instant transaction notification)', true);
  notification('/peach-payments/webhook', 'PeachPayments', 'webhook', 'Peach Payments webhook', false);

  app.get(
    '/payfast-payments/card-medium-update/:mediumDetailId',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Update a PayFast credit card (seed 000, Payment Service)',
        description:
          'The PayFast page where the customer replaces the card behind a tokenised medium. Append `?return=<url>` before redirecting. ' +
          'When PayFast confirms the update, the medium shows the new card.',
        params: Type.Object({ mediumDetailId: Uuid({ description: 'The medium (medium_detail_id)' }) }),
        response: { 200: Type.Object({ pay_fast_url: Type.String() }), ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => ({ pay_fast_url: await cardMediumUpdateUrl(ctx, scopeOf(request), request.params.mediumDetailId) }),
  );
}
