import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import {
  createWebhookEndpoint,
  findDelivery,
  findWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  rotateWebhookEndpointSecret,
  sendTestEvent,
  updateWebhookEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../modules/webhooks/endpoints.ts';
import { errorResponses, Page, PageQuery, Uuid } from '../schemas/common.ts';
import {
  NewWebhookEndpointBody,
  TestEventSchema,
  WebhookDeliverySchema,
  WebhookEndpointChangeBody,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
} from '../schemas/webhooks.ts';
import { actorOf, scopeOf, secured, STAFF, type App } from '../route-kit.ts';

const Params = Type.Object({ id: Uuid({ description: 'Webhook endpoint id' }) });
const DeliveryParams = Type.Object({ id: Uuid({ description: 'Webhook delivery id' }) });
const tag = secured('Webhooks');

export const endpointView = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  event_types: e.eventTypes,
  enabled: e.enabled,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
});

export const deliveryView = (d: WebhookDelivery) => ({
  id: d.id,
  endpoint_id: d.endpointId,
  event_id: d.eventId,
  event_type: d.eventType,
  status: d.status as 'pending' | 'delivered' | 'failed',
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  delivered_at: d.deliveredAt?.toISOString() ?? null,
  created_at: d.createdAt.toISOString(),
  attempt_log: d.log.map((a) => ({
    attempt: a.attempt,
    started_at: a.startedAt.toISOString(),
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    error: a.error,
    response_excerpt: a.responseExcerpt,
  })),
});

/** The operator's webhook endpoints and their delivery log (integrators and admins). */
export function webhookRoutes(app: App, ctx: AppContext): void {
  const operatorOf = (request: Parameters<typeof scopeOf>[0]) => scopeOf(request).operatorId;
  const idOf = (request: { params: { id: string } }) => request.params.id.toLowerCase();

  app.post(
    '/webhook-endpoints',
    {
      config: { roles: STAFF, sensitiveResponse: true },
      schema: {
        ...tag,
        summary: 'Add a webhook endpoint',
        description:
          'The response carries the signing secret, which is never shown again (rotate it to get a new one). Outside sandbox mode the URL must lead to public ' +
          'internet addresses (what its host name resolves to), unless its host is listed in PAYRAIL_WEBHOOK_ALLOWED_HOSTS: 422 otherwise.',
        body: NewWebhookEndpointBody,
        response: { 201: WebhookEndpointWithSecretSchema, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const { endpoint, secret } = await createWebhookEndpoint(ctx, operatorOf(request), actorOf(request), { url: b.url, description: b.description, eventTypes: b.event_types, enabled: b.enabled });
      return reply.status(201).send({ ...endpointView(endpoint), secret });
    },
  );

  app.get(
    '/webhook-endpoints',
    {
      config: { roles: STAFF },
      schema: { ...tag, summary: 'List webhook endpoints, newest first', querystring: Type.Object(PageQuery), response: { 200: Page(WebhookEndpointSchema), ...errorResponses(400, 401, 403) } },
    },
    async (request) => {
      const page = pageRequest(request.query);
      return toPage(await listWebhookEndpoints(ctx.database.db, operatorOf(request), page), page, endpointView);
    },
  );

  app.get(
    '/webhook-endpoints/:id',
    {
      config: { roles: STAFF },
      schema: { ...tag, summary: 'A webhook endpoint (without its secret)', params: Params, response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request) => {
      const endpoint = await findWebhookEndpoint(ctx.database.db, operatorOf(request), idOf(request));
      if (!endpoint) throw new NotFoundError('webhook_endpoint', request.params.id);
      return endpointView(endpoint);
    },
  );

  app.patch(
    '/webhook-endpoints/:id',
    {
      config: { roles: STAFF },
      schema: {
        ...tag,
        summary: 'Change a webhook endpoint',
        description: 'A new URL also applies to deliveries still being retried. Disabling stops new deliveries; pending ones wait until it is enabled again.',
        params: Params,
        body: WebhookEndpointChangeBody,
        response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => {
      const b = request.body;
      const endpoint = await updateWebhookEndpoint(ctx, operatorOf(request), actorOf(request), idOf(request), { url: b.url, description: b.description, eventTypes: b.event_types, enabled: b.enabled });
      return endpointView(endpoint);
    },
  );

  app.post(
    '/webhook-endpoints/:id/rotate-secret',
    {
      config: { roles: STAFF, sensitiveResponse: true },
      schema: {
        ...tag,
        summary: 'Replace the signing secret',
        description: 'The old secret stops at once (retries of earlier events are signed with the new one). The new secret is shown only in this response.',
        params: Params,
        response: { 200: WebhookEndpointWithSecretSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { endpoint, secret } = await rotateWebhookEndpointSecret(ctx, operatorOf(request), actorOf(request), idOf(request));
      return { ...endpointView(endpoint), secret };
    },
  );

  app.post(
    '/webhook-endpoints/:id/test',
    {
      config: { roles: STAFF },
      schema: {
        ...tag,
        summary: 'Send a webhook.test event to this endpoint',
        description: 'Queued for this endpoint only, whatever its event_types; the webhook job posts it within seconds.',
        params: Params,
        response: { 202: TestEventSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { eventId, deliveryId } = await sendTestEvent(ctx, operatorOf(request), idOf(request));
      return reply.status(202).send({ event_id: eventId, delivery_id: deliveryId });
    },
  );

  app.get(
    '/webhook-endpoints/:id/deliveries',
    {
      config: { roles: STAFF },
      schema: {
        ...tag,
        summary: 'The delivery log of an endpoint, newest first',
        params: Params,
        querystring: Type.Object(PageQuery),
        response: { 200: Page(WebhookDeliverySchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const operatorId = operatorOf(request);
      if (!(await findWebhookEndpoint(ctx.database.db, operatorId, idOf(request)))) throw new NotFoundError('webhook_endpoint', request.params.id);
      const page = pageRequest(request.query);
      return toPage(await listDeliveries(ctx.database.db, operatorId, idOf(request), page), page, deliveryView);
    },
  );

  app.get(
    '/webhook-deliveries/:id',
    {
      config: { roles: STAFF },
      schema: { ...tag, summary: 'A webhook delivery and its attempts', params: DeliveryParams, response: { 200: WebhookDeliverySchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request) => {
      const delivery = await findDelivery(ctx.database.db, operatorOf(request), idOf(request));
      if (!delivery) throw new NotFoundError('webhook_delivery', request.params.id);
      return deliveryView(delivery);
    },
  );
}
