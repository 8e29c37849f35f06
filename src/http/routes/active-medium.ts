import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { getActiveMedium, setActiveMedium } from '../../modules/services/active-medium.ts';
import { errorResponses, Nullable, Uuid } from '../schemas/common.ts';
import { ServiceMediumSchema } from '../schemas/resources.ts';
import { actorOf, scopeOf, secured, type App } from '../route-kit.ts';
import { serviceMediumView } from '../views.ts';

const Query = Type.Object({ serviceId: Uuid({ description: 'The service' }) });

export function activeMediumRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/active-payment-medium-for-service',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'The active medium of a service (GetActiveMediumForService)',
        description:
          'The medium on the service’s purchase plan, used for its future recurring and auto-recharge purchases ' +
          '(shown with a check icon). `null` when the service has none yet.',
        querystring: Query,
        response: { 200: Nullable(ServiceMediumSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const medium = await getActiveMedium(ctx, scopeOf(request), request.query.serviceId);
      return medium ? serviceMediumView(medium) : null;
    },
  );

  app.put(
    '/active-payment-medium-for-service',
    {
      schema: {
        ...secured('Pay Now'),
        summary: 'Set the active medium of a service',
        description: 'Only a Valid CreditCard or BankAccount medium of the service’s own customer may be active; anything else is 422.',
        querystring: Query,
        body: Type.Object({ medium_id: Uuid({ description: 'medium_detail_id of the medium' }) }),
        response: { 200: ServiceMediumSchema, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request) => serviceMediumView(await setActiveMedium(ctx, scopeOf(request), actorOf(request), request.query.serviceId, request.body.medium_id)),
  );
}
