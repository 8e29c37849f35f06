import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { Lru } from '../../lib/lru.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import { detailsVersion, getDetailsAndActions } from '../../modules/services/get-details-and-actions.ts';
import { changeServiceStatus } from '../../modules/services/change-status.ts';
import { findService, listServices } from '../../modules/services/repo.ts';
import { errorResponses, IsoDate, Page, PageQuery, Uuid } from '../schemas/common.ts';
import { BillingStatusSchema, StringEnum } from '../schemas/enums.ts';
import { DetailsAndActionsSchema, ServiceSchema } from '../schemas/resources.ts';
import { actorOf, scopeOf, secured, STAFF, type App } from '../route-kit.ts';
import { detailsView, serviceView } from '../views.ts';

const ServiceParams = Type.Object({ id: Uuid({ description: 'Service id' }) });

export function serviceRoutes(app: App, ctx: AppContext): void {
  // Responses by service id, with the version they were read at (see detailsVersion).
  const cache = new Lru<string, { version: string; body: string }>(ctx.config.detailsCacheSize);

  app.get(
    '/services/:id/details-and-actions',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Service details and available actions (Get Service Details and Actions)',
        description:
          'Everything the Pay-Now screen needs in one call: the service, its valid mediums (with the global ' +
          '"Add new payment method" medium), `must_pay_info` holding the oldest unpaid purchase (null when nothing ' +
          'is owed), `can_buy_info` with server-priced buy-now options (null while something is owed), and whether ' +
          'a payment is in flight. The response carries an `ETag`; send it back in `If-None-Match` to get a 304 ' +
          'when nothing has changed.',
        params: ServiceParams,
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 200: DetailsAndActionsSchema, 304: Type.Null({ description: 'Not modified since the ETag given' }), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, typedReply) => {
      // The body is sent pre-serialized (by this route's own schema), which the typed reply cannot express.
      const reply = typedReply as FastifyReply;
      const scope = scopeOf(request);
      const id = request.params.id.toLowerCase();
      // A cached response is served only when a fresh, caller-scoped lookup of its versions matches:
      // one indexed query instead of six tables, and never a stale answer.
      const cached = cache.get(id);
      let entry: { version: string; body: string } | undefined;
      if (cached) {
        const version = await detailsVersion(ctx, scope, id);
        if (version === null) throw new NotFoundError('service', request.params.id);
        if (version === cached.version) entry = cached;
      }
      if (!entry) {
        const details = await getDetailsAndActions(ctx, scope, id);
        const serialize = reply.getSerializationFunction('200') as (payload: unknown) => string;
        entry = { version: details.version, body: serialize(detailsView(details)) };
        cache.set(id, entry);
      }
      const etag = `"da-${entry.version}"`;
      reply.header('etag', etag).header('cache-control', 'private, no-cache');
      if (matchesEtag(request.headers['if-none-match'], etag)) return reply.status(304).send();
      return reply.type('application/json; charset=utf-8').send(entry.body);
    },
  );

  app.get(
    '/services',
    {
      schema: {
        ...secured('Services'),
        summary: 'List services, newest first',
        description:
          'Customers see only their own services. Integrators and admins may filter by customer. `billing_status` filters by PaidUp, InArrears or ' +
          'Suspended; every service carries `amount_due`, the total of its Unpaid purchases.',
        querystring: Type.Object({ customerId: Type.Optional(Uuid()), billing_status: Type.Optional(BillingStatusSchema), ...PageQuery }),
        response: { 200: Page(ServiceSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const page = pageRequest(request.query);
      const rows = await listServices(ctx.database.db, scopeOf(request), request.query.customerId?.toLowerCase(), page, request.query.billing_status);
      return toPage(rows, page, serviceView);
    },
  );

  app.get(
    '/services/:id',
    {
      schema: {
        ...secured('Services'),
        summary: 'A service',
        params: ServiceParams,
        response: { 200: ServiceSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const service = await findService(ctx.database.db, scopeOf(request), request.params.id);
      if (!service) throw new NotFoundError('service', request.params.id);
      return serviceView(service);
    },
  );

  app.patch(
    '/services/:id',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Services'),
        summary: 'Activate or cancel a service (integrators and admins)',
        description:
          '`Active`: the ISP activated the line (`on_network_date`, default the order\'s, else today); a Recurring service is billed monthly from its ' +
          'first collection date on or after the activation and the end of what its order charged for, paid or not (outbox `service.activated`). `Cancelled`: the customer left; the ' +
          'service is never billed again and its Scheduled purchases become Cancelled (outbox `service.cancelled`); what it already owes stays owed. ' +
          '`on_network_date` is a day that has come (today at the latest, a year back at most: else 422). Asking for the status a service already ' +
          'has changes nothing; activating an Active service with another `on_network_date` is a 409 (`service.already_active`), since its billing ' +
          'began from the first. A move the status machine does not allow (a Cancelled service back to Active, a Suspended one activated — paying ' +
          'what it owes reinstates it) is a 409.',
        params: ServiceParams,
        body: Type.Object(
          {
            service_status: StringEnum(['Active', 'Cancelled'] as const, 'The status to move the service to'),
            on_network_date: Type.Optional(IsoDate('YYYY-MM-DD: when the line went live (Active only; not later than today)')),
          },
          { additionalProperties: false },
        ),
        response: { 200: ServiceSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const { operatorId } = scopeOf(request);
      const service = await changeServiceStatus(ctx, operatorId, actorOf(request), request.params.id, {
        serviceStatus: request.body.service_status,
        ...(request.body.on_network_date === undefined ? {} : { onNetworkDate: request.body.on_network_date }),
      });
      return serviceView(service);
    },
  );
}

/** RFC 9110 If-None-Match: `*`, or a list of (possibly weak) entity tags compared weakly. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
