import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { AppError, NotFoundError } from '../../lib/errors.ts';
import { cardMediumUpdateUrl } from '../../modules/payments/card-medium-update.ts';
import { collectorOfPayment, processCallback, receiveCallback } from '../../modules/payments/provider-callbacks.ts';
import { allowedRedirect, withOutcome } from '../../modules/payments/return-urls.ts';
import { vendSoon } from '../../modules/utility/vend.ts';
import type { CallbackDeclaration, Connector, InboundRequest } from '../../providers/contract.ts';
import { scopeOf, secured, type App } from '../route-kit.ts';
import { errorResponses, Uuid } from '../schemas/common.ts';

const callbackRoute = { public: true, form: true } as const;

/** A provider's request as received: the raw body (signatures cover it), headers, and the sender's address. */
function inbound(ctx: AppContext, request: FastifyRequest, channel: InboundRequest['channel']): InboundRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) if (typeof v === 'string') headers[k] = v;
  const rawBody = request.rawBody ?? request.rawJson ?? '';
  return {
    channel,
    method: request.method,
    path: request.url.split('?')[0] ?? '/',
    url: `${ctx.config.publicUrl}${request.url}`,
    query: Object.fromEntries(Object.entries((request.query ?? {}) as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
    headers,
    rawBody,
    // With PAYRAIL_TRUSTED_PROXIES, the X-Forwarded-For client of a trusted proxy (app.ts).
    remoteAddress: request.ip,
  };
}

/**
 * Every callback every connector declares, served at its path (and its legacy paths): stored raw first,
 * then verified and processed (modules/payments/provider-callbacks). Nothing here names a provider.
 */
export function providerCallbackRoutes(app: App, ctx: AppContext): void {
  // Callbacks answered before they are processed are processed in the background: closing waits for them,
  // so none is cut off halfway (a cut one would be processed again by the callbacks job, but later).
  const processing = new Set<Promise<unknown>>();
  app.addHook('onClose', async () => {
    await Promise.allSettled([...processing]);
  });
  for (const { connector, callback } of ctx.connectors.callbacks()) {
    for (const path of [callback.path, ...(callback.legacyPaths ?? [])]) {
      if (callback.channel === 'redirect') browserReturnRoute(app, ctx, connector, callback, path);
      else notificationRoute(app, ctx, connector, callback, path, processing);
    }
  }

  app.get(
    '/payfast-payments/card-medium-update/:mediumDetailId',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Update a tokenised credit card (seed 000, Payment Service)',
        description:
          'The provider’s page where the customer replaces the card behind a tokenised medium (PayFast’s, per seed 000). Append `?return=<url>` before redirecting. ' +
          'When the provider confirms the update, the medium shows the new card. 422 for a medium whose provider has no such page.',
        params: Type.Object({ mediumDetailId: Uuid({ description: 'The medium (medium_detail_id)' }) }),
        response: { 200: Type.Object({ pay_fast_url: Type.String() }), ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => ({ pay_fast_url: await cardMediumUpdateUrl(ctx, scopeOf(request), request.params.mediumDetailId) }),
  );
}

/**
 * The customer's browser coming back from a provider's page (seed 000's `/peach-redirect/{collectorId}?url=`):
 * verified, the provider asked for the real result, then 303 to `url` with its last segment 1 (paid) or 0.
 */
function browserReturnRoute(app: App, ctx: AppContext, connector: Connector, callback: CallbackDeclaration, path: string): void {
  const namesCollector = path.includes(':collectorId');
  const method = callback.method ?? 'POST';
  app.route({
    method,
    url: path,
    config: callbackRoute,
      schema: {
        tags: ['Pay Now'],
        summary: `${connector.id}: the customer’s browser returning from its payment page`,
        description:
          'The provider posts the shopper’s browser here (Peach always to the success URL, even when the payment failed, per seed 000). payrail verifies the ' +
          'post, asks the provider for the real result, settles the payment and answers 303 to `url` with its last path segment set to ' +
          '1 (paid) or 0 (not paid yet, or not paid). A forged post is refused (400) and changes nothing; a replayed one changes nothing. `url` must lead to ' +
          'payrail or an origin in PAYRAIL_REDIRECT_ORIGINS.',
        ...(namesCollector ? { params: Type.Object({ collectorId: Uuid({ description: 'The collector of the service being paid' }) }) } : {}),
        querystring: Type.Object({
          url: Type.String({ maxLength: 2048, description: 'The client interface URL to return to (ending /1 or /0)' }),
          ...(method === 'GET' ? { data: Type.Optional(Type.String({ maxLength: 8192, description: 'The provider’s result, as it encodes it (VodaPay: base64 JSON). Unsigned: only a prompt to ask the provider.' })) } : {}),
        }, { additionalProperties: true }), // the provider appends its own (Peach: id, resourcePath)
        response: { 303: Type.Null({ description: 'To the UI url ending /1 or /0' }), ...errorResponses(400, 404) },
      },
    handler: async (request, reply) => {
      const { url } = request.query as { url: string };
      const target = allowedRedirect(ctx.config, url);
      if (!target) throw new AppError(400, 'redirect.url_not_allowed', 'url must lead to payrail or to one of the operator’s client interfaces.', { errors: [{ name: 'query.url', reason: 'is not an allowed return URL' }] });
      const stored = await receiveCallback(ctx, connector.id, inbound(ctx, request, callback.channel));
      const outcome = await processCallback(ctx, stored);
      if (outcome.verdict === 'rejected') throw new AppError(400, 'callback.unverified', 'The payment provider’s return could not be verified; nothing was changed.');
      const payment = outcome.payment;
      if (payment?.status === 'succeeded') vendSoon(ctx, payment.purchaseId);
      if (!payment) throw new NotFoundError('payment');
      const collectorId = (request.params as { collectorId?: string }).collectorId;
      if (namesCollector && (await collectorOfPayment(ctx, payment)) !== collectorId?.toLowerCase()) throw new NotFoundError('collector', collectorId);
      return reply.redirect(withOutcome(target, payment.status === 'succeeded'), 303);
    },
  });
}

/** A provider's server-to-server notification. */
function notificationRoute(app: App, ctx: AppContext, connector: Connector, callback: CallbackDeclaration, path: string, processing: Set<Promise<unknown>>): void {
  const answerFirst = callback.answer === 'first';
  app.post(
    path,
    {
      config: callbackRoute,
      schema: {
        tags: ['Pay Now'],
        summary: `${connector.id}: ${callback.channel} notification${path === callback.path ? '' : ' (earlier address)'}`,
        description:
          'Provider-to-payrail notification: stored raw first, verified, then processed once per provider event id. ' +
          (answerFirst ? 'Answered 200 at once (the provider’s rule); verification follows, and a forged one changes nothing.' : 'A notification that does not verify is answered 400 and changes nothing.'),
        response: { 200: Type.String(), ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const stored = await receiveCallback(ctx, connector.id, inbound(ctx, request, callback.channel));
      // It repeated what its attempt had settled already: recorded as processed as it was stored.
      if (stored.processedAt) return reply.type('text/plain').send('OK');
      if (answerFirst) {
        // The stored row is processed even if this process dies now: the callbacks job takes it later.
        const run = new Promise((resolve) => setImmediate(resolve))
          .then(() => processCallback(ctx, stored))
          .then((outcome) => {
            if (outcome.payment?.status === 'succeeded') vendSoon(ctx, outcome.payment.purchaseId);
          })
          .catch((err) => ctx.log.error({ err, rowId: stored.id }, 'processing a callback failed; the callbacks job retries it'))
          .finally(() => processing.delete(run));
        processing.add(run);
        return reply.type('text/plain').send('OK');
      }
      const outcome = await processCallback(ctx, stored);
      if (outcome.verdict === 'rejected') throw new AppError(400, 'callback.unverified', 'The notification could not be verified; nothing was changed.');
      if (outcome.payment?.status === 'succeeded') vendSoon(ctx, outcome.payment.purchaseId);
      return reply.type('text/plain').send('OK');
    },
  );
}
