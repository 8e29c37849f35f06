import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import { getDetailsAndActions } from '../../modules/services/get-details-and-actions.ts';
import { findService, listServices } from '../../modules/services/repo.ts';
import { errorResponses, Page, PageQuery, Uuid } from '../schemas/common.ts';
import { DetailsAndActionsSchema, ServiceSchema } from '../schemas/resources.ts';
import { scopeOf, secured, type App } from '../route-kit.ts';
import { detailsView, serviceView } from '../views.ts';

const ServiceParams = Type.Object({ id: Uuid({ description: 'Service id' }) });

export function serviceRoutes(app: App, ctx: AppContext): void {
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
          'a payment is in flight.',
        params: ServiceParams,
        response: { 200: DetailsAndActionsSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => detailsView(await getDetailsAndActions(ctx, scopeOf(request), request.params.id)),
  );

  app.get(
    '/services',
    {
      schema: {
        ...secured('Services'),
        summary: 'List services, newest first',
        description: 'Customers see only their own services. Integrators and admins may filter by customer.',
        querystring: Type.Object({ customerId: Type.Optional(Uuid()), ...PageQuery }),
        response: { 200: Page(ServiceSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const page = pageRequest(request.query);
      const rows = await listServices(ctx.database.db, scopeOf(request), request.query.customerId?.toLowerCase(), page);
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
}
