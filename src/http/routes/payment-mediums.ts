import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { listPaymentMediums } from '../../modules/mediums/list-payment-mediums.ts';
import { errorResponses, Uuid } from '../schemas/common.ts';
import { PaymentMediumSchema } from '../schemas/resources.ts';
import { scopeOf, secured, type App } from '../route-kit.ts';
import { paymentMediumView } from '../views.ts';

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
}
