import { SYSTEM_ACTOR, type AppContext } from '../../src/context.ts';
import * as t from '../../src/db/schema.ts';
import { PurchaseLineType } from '../../src/domain/enums.ts';
import { createProduct } from '../../src/modules/catalog/create-product.ts';
import { createCustomer } from '../../src/modules/customers/create-customer.ts';
import { insertMedium } from '../../src/modules/mediums/repo.ts';
import { createCollector } from '../../src/modules/operators/create-collector.ts';
import { placeOrder } from '../../src/modules/orders/place-order.ts';
import { DEMO } from '../../src/demo/ids.ts';

/**
 * Test tenants beside the demo data: a second customer of Net99 and a whole second operator, each with a
 * service, an unpaid upfront purchase and a card medium, so isolation tests have something to find.
 */
export const FIX = {
  otherCustomer: { customerId: '11111111-1111-4111-8111-111111111101', userId: '11111111-1111-4111-8111-111111111102', serviceId: '11111111-1111-4111-8111-111111111103', cardId: '11111111-1111-4111-8111-111111111104' },
  otherOperator: {
    operatorId: '22222222-2222-4222-8222-222222222201',
    collectorId: '22222222-2222-4222-8222-222222222202',
    productId: '22222222-2222-4222-8222-222222222203',
    customerId: '22222222-2222-4222-8222-222222222204',
    userId: '22222222-2222-4222-8222-222222222205',
    serviceId: '22222222-2222-4222-8222-222222222206',
    cardId: '22222222-2222-4222-8222-222222222207',
    integratorUserId: '22222222-2222-4222-8222-222222222208',
  },
} as const;

export async function seedFixtures(ctx: Pick<AppContext, 'database' | 'vault' | 'clock' | 'connectors'>): Promise<void> {
  const other = FIX.otherCustomer;
  await createCustomer(ctx, DEMO.operatorId, SYSTEM_ACTOR, { id: other.customerId, name: 'Other Customer', email: 'other@example.co.za', users: [{ id: other.userId, name: 'Other User' }] });
  await placeOrder(ctx, DEMO.operatorId, SYSTEM_ACTOR, { serviceId: other.serviceId, customerId: other.customerId, productId: DEMO.products.recurring, collectorId: DEMO.collectorId, collectionDay: 1 });
  await insertMedium(ctx.database.db, ctx.vault, { id: other.cardId, operatorId: DEMO.operatorId, customerId: other.customerId, mediumType: 'CreditCard', provider: 'PayFast', externalReference: 'other-card', accountName: 'Other 1111', accountNumber: '1111' }, { provider: 'PayFast', value: 'other-customer-token' });

  const op = FIX.otherOperator;
  await ctx.database.db.insert(t.operators).values({ id: op.operatorId, name: 'Other ISP', paymentLinksEnabled: false });
  await createCollector(ctx, op.operatorId, SYSTEM_ACTOR, { id: op.collectorId, name: 'Other Collections', purchaseSources: [{ name: 'Cash' }] });
  await createProduct(ctx, op.operatorId, SYSTEM_ACTOR, {
    id: op.productId,
    name: 'Other Monthly',
    billingScheme: 'Recurring',
    defaultCollectionDay: 5,
    prices: [{ description: 'Other Monthly', lineTypeId: PurchaseLineType.Monthly, priceInclCents: 49900, daysInPeriod: 30, onOrder: true, buyNow: true }],
  });
  await createCustomer(ctx, op.operatorId, SYSTEM_ACTOR, { id: op.customerId, name: 'Other ISP Customer', users: [{ id: op.userId, name: 'Other ISP User' }] });
  await ctx.database.db.insert(t.users).values({ id: op.integratorUserId, operatorId: op.operatorId, role: 'integrator', name: 'Other ISP Integrator' });
  await placeOrder(ctx, op.operatorId, SYSTEM_ACTOR, { serviceId: op.serviceId, customerId: op.customerId, productId: op.productId, collectorId: op.collectorId });
  await insertMedium(ctx.database.db, ctx.vault, { id: op.cardId, operatorId: op.operatorId, customerId: op.customerId, mediumType: 'CreditCard', provider: 'PayFast', externalReference: 'other-op-card', accountName: 'Other ISP 2222', accountNumber: '2222' }, { provider: 'PayFast', value: 'other-operator-token' });
}
