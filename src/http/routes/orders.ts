import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { isIsoDate } from '../../domain/periods.ts';
import { UnprocessableError } from '../../lib/errors.ts';
import { lookupMeter } from '../../modules/utility/utility-purchases.ts';
import { placeOrder } from '../../modules/orders/place-order.ts';
import { errorResponses, IsoDate, Nullable, Uuid } from '../schemas/common.ts';
import { PurchaseSchema, ServiceMediumSchema, ServiceSchema } from '../schemas/resources.ts';
import { actorOf, scopeOf, secured, STAFF, type App } from '../route-kit.ts';
import { purchaseView, serviceMediumView, serviceView } from '../views.ts';

const OrderBody = Type.Object(
  {
    service_id: Type.Optional(Uuid({ description: 'Choose the new service’s id; generated when absent' })),
    customer_id: Uuid(),
    product_id: Uuid(),
    collector_id: Uuid(),
    collection_day: Type.Optional(Type.Integer({ minimum: 1, maximum: 31, description: 'Recurring only; the product’s default when absent. 29–31 are collected on the last day of shorter months.' })),
    meter_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{1,20}$', description: 'PrepaidUtility only (required there): the meter tokens are bought for; the vendor must know it' })),
    order_date: Type.Optional(IsoDate('Civil date of the order (South African time); today when absent')),
    on_network_date: Type.Optional(IsoDate('YYYY-MM-DD: the line is live already, since this day (not later than today, a year back at most); activation uses it when it names no date')),
  },
  { additionalProperties: false },
);

export function orderRoutes(app: App, ctx: AppContext): void {
  app.post(
    '/orders',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Setup'),
        summary: 'Place an order: a new service with its upfront purchase',
        description:
          'Creates the service (PendingIspApplication) with its purchase plan; an Unpaid upfront purchase of every ' +
          'on-order price (a Recurring monthly price pro-rata to the first collection day; bundles and installation ' +
          'once); the customer’s OffSystem medium and, when the operator has payment links on, their PaymentLink medium.',
        body: OrderBody,
        response: {
          201: Type.Object({ service: ServiceSchema, upfront_purchase: Nullable(PurchaseSchema), created_mediums: Type.Array(ServiceMediumSchema) }),
          ...errorResponses(400, 401, 403, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      // A date of the right shape that is not on the calendar is well-formed but unacceptable, as everywhere.
      if (b.order_date !== undefined && !isIsoDate(b.order_date)) throw new UnprocessableError('order.date_invalid', 'order_date is not a calendar date.', { errors: [{ name: 'body.order_date', reason: 'is not a calendar date' }] });
      // A meter the vendor does not know could never be sold tokens: refused before anything is created.
      if (b.meter_id !== undefined) await lookupMeter(ctx, b.meter_id);
      const order = await placeOrder(ctx, scopeOf(request).operatorId, actorOf(request), {
        serviceId: b.service_id,
        customerId: b.customer_id.toLowerCase(),
        productId: b.product_id.toLowerCase(),
        collectorId: b.collector_id.toLowerCase(),
        collectionDay: b.collection_day,
        meterId: b.meter_id,
        orderDate: b.order_date,
        onNetworkDate: b.on_network_date,
      });
      return reply.status(201).send({
        service: serviceView(order.service),
        upfront_purchase: order.upfrontPurchase ? purchaseView(order.upfrontPurchase) : null,
        created_mediums: order.createdMediums.map(serviceMediumView),
      });
    },
  );
}
