import { randomUUID } from 'node:crypto';
import type { Actor, AppContext } from '../../context.ts';
import type { ConnectorRegistry } from '../../providers/registry.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus } from '../../domain/enums.ts';
import { addDays, civilDate, daysBetween, isCollectionDay, nextCollectionDate, type IsoDate } from '../../domain/periods.ts';
import { upfrontLines } from '../../domain/pricing.ts';
import { IdTakenError, UnprocessableError } from '../../lib/errors.ts';
import { withArticle } from '../../lib/words.ts';
import { uuid7 } from '../../lib/uuid7.ts';
import { recordAudit, type AuditEntry } from '../audit/record.ts';
import { findProduct, schemeOf, toDomainPrice } from '../catalog/repo.ts';
import { findCustomer } from '../customers/repo.ts';
import { findCustomerMediumOfType, insertMedium, type MediumRow } from '../mediums/repo.ts';
import { findCollector, findOperator } from '../operators/repo.ts';
import { insertPurchase, type PurchaseRecord } from '../purchases/repo.ts';
import { checkOnNetworkDate } from '../services/on-network-date.ts';
import { findService, insertService, type ServiceRecord } from '../services/repo.ts';

export interface PlaceOrderInput {
  serviceId?: string;
  customerId: string;
  productId: string;
  collectorId: string;
  collectionDay?: number;
  /** PrepaidUtility: the meter (checked with the vendor by the caller). */
  meterId?: string;
  orderDate?: IsoDate;
  onNetworkDate?: IsoDate;
}

export interface PlacedOrder {
  service: ServiceRecord;
  upfrontPurchase: PurchaseRecord | null;
  /** The off-system and payment-link mediums the order created for the customer (none if they had them). */
  createdMediums: MediumRow[];
}

/** Orders may be back- or forward-dated by up to a year (migrations from another system). */
const MAX_ORDER_DATE_SKEW_DAYS = 366;

/**
 * `POST /orders` (SPEC §5): creates the service and its purchase plan, the upfront purchase of every
 * `on_order` price (a Recurring monthly price pro-rata to the first collection day), the customer's
 * OffSystem medium and, when the operator has payment links on, their PaymentLink medium. All or nothing.
 */
export async function placeOrder(ctx: Pick<AppContext, 'database' | 'vault' | 'clock' | 'connectors'>, operatorId: string, actor: Actor, input: PlaceOrderInput): Promise<PlacedOrder> {
  const now = ctx.clock();
  const today = civilDate(now);
  const orderDate = input.orderDate ?? today;
  if (Math.abs(daysBetween(today, orderDate)) > MAX_ORDER_DATE_SKEW_DAYS) {
    throw new UnprocessableError('order.date_out_of_range', `order_date must be within a year of today (${today}).`, {
      errors: [{ name: 'body.order_date', reason: `must be between ${addDays(today, -MAX_ORDER_DATE_SKEW_DAYS)} and ${addDays(today, MAX_ORDER_DATE_SKEW_DAYS)}` }],
    });
  }

  // The line is already live: the same rule as activating it (PATCH /services/{id}).
  if (input.onNetworkDate !== undefined) checkOnNetworkDate('order', input.onNetworkDate, today);

  return ctx.database.db.transaction(async (tx) => {
    const operator = await findOperator(tx, operatorId);
    const customer = await findCustomer(tx, operatorId, input.customerId);
    const product = await findProduct(tx, operatorId, input.productId);
    const collector = await findCollector(tx, operatorId, input.collectorId);
    const unknown = [
      !customer && { name: 'body.customer_id', reason: 'no such customer' },
      (!product || !product.active) && { name: 'body.product_id', reason: 'no such active product' },
      !collector && { name: 'body.collector_id', reason: 'no such collector' },
    ].filter((e): e is { name: string; reason: string } => Boolean(e));
    if (!operator || !customer || !product || !product.active || !collector) {
      throw new UnprocessableError('order.unknown_reference', 'The order refers to something that does not exist.', { errors: unknown });
    }

    const scheme = schemeOf(product);
    let collectionDay: number | null = null;
    if (scheme === 'Recurring') {
      collectionDay = input.collectionDay ?? product.defaultCollectionDay;
      if (collectionDay === null || !isCollectionDay(collectionDay)) {
        throw new UnprocessableError('order.collection_day_required', 'A Recurring service needs a collection day (1–31): the product has no default.', {
          errors: [{ name: 'body.collection_day', reason: 'is required for Recurring products without a default' }],
        });
      }
    } else if (input.collectionDay !== undefined) {
      throw new UnprocessableError('order.collection_day_not_applicable', `${withArticle(scheme)} service has no collection day.`, {
        errors: [{ name: 'body.collection_day', reason: `does not apply to ${scheme} products` }],
      });
    }

    if (scheme === 'PrepaidUtility' && !input.meterId) {
      throw new UnprocessableError('order.meter_required', 'A prepaid-utility service needs the meter its tokens are for.', { errors: [{ name: 'body.meter_id', reason: 'is required for PrepaidUtility products' }] });
    }
    if (scheme !== 'PrepaidUtility' && input.meterId !== undefined) {
      throw new UnprocessableError('order.meter_not_applicable', `${withArticle(scheme)} service has no meter.`, { errors: [{ name: 'body.meter_id', reason: `does not apply to ${scheme} products` }] });
    }

    const serviceId = input.serviceId?.toLowerCase() ?? uuid7();

    const prices = product.prices.map(toDomainPrice);
    const lines = upfrontLines({
      scheme,
      prices,
      orderDate,
      collectionDay,
      rateBp: operator.vatRateBp,
    });
    const owes = lines.some((l) => l.totalCents > 0);
    const planId = uuid7();
    const inserted = await insertService(
      tx,
      {
        id: serviceId,
        operatorId,
        customerId: customer.id,
        productId: product.id,
        collectorId: collector.id,
        status: 'PendingIspApplication',
        billingStatus: owes ? 'InArrears' : 'PaidUp',
        collectionDay,
        meterId: input.meterId ?? null,
        onNetworkDate: input.onNetworkDate ?? null,
      },
      { id: planId, activeMediumId: null },
    );
    if (!inserted) throw new IdTakenError('service', serviceId);

    const upfrontPurchase =
      lines.length === 0
        ? null
        : await insertPurchase(tx, {
            id: randomUUID(),
            operatorId,
            customerId: customer.id,
            serviceId,
            purchasePlanId: planId,
            statusId: PurchaseStatus.Unpaid,
            creationEventId: PurchaseCreationEvent.Order,
            purchaseDate: now,
            // A Recurring order pays for its days up to the first collection date: stated, so that paying it
            // late does not move the service's period past that date, and activation bills from there.
            ...(collectionDay !== null && prices.some((p) => p.onOrder && p.lineTypeId === PurchaseLineType.Monthly)
              ? { period: { start: orderDate, end: nextCollectionDate(orderDate, collectionDay) } }
              : {}),
            lines: lines.map((l) => ({ ...l, id: randomUUID() })),
          });

    const createdMediums: MediumRow[] = [];
    // Allocations are recorded by the connector that records money collected elsewhere.
    const allocator = ctx.connectors.withFlow('allocate')[0]?.id ?? null;
    if (allocator && !(await findCustomerMediumOfType(tx, customer.id, 'OffSystem'))) {
      createdMediums.push(
        await insertMedium(tx, ctx.vault, {
          id: uuid7(),
          operatorId,
          customerId: customer.id,
          mediumType: 'OffSystem',
          provider: allocator,
          externalReference: randomUUID(),
          accountName: 'N/A',
          accountNumber: null,
        }),
      );
    }
    const linkProvider = paymentLinkProvider(ctx.connectors, operator.defaultCardProvider);
    if (operator.paymentLinksEnabled && linkProvider && !(await findCustomerMediumOfType(tx, customer.id, 'PaymentLink'))) {
      createdMediums.push(
        await insertMedium(tx, ctx.vault, {
          id: uuid7(),
          operatorId,
          customerId: customer.id,
          mediumType: 'PaymentLink',
          provider: linkProvider,
          externalReference: randomUUID(),
          accountName: customer.email ?? customer.name,
          accountNumber: '',
        }),
      );
    }

    const audit: AuditEntry[] = [
      { operatorId, entityType: 'service', entityId: serviceId, action: 'service.created', toState: 'PendingIspApplication', data: { product_id: product.id } },
      ...(upfrontPurchase
        ? [{ operatorId, entityType: 'purchase' as const, entityId: upfrontPurchase.id, action: 'purchase.created', toState: String(PurchaseStatus.Unpaid), data: { amount_cents: upfrontPurchase.amountCents, creation_event_id: PurchaseCreationEvent.Order } }]
        : []),
      ...createdMediums.map((m) => ({ operatorId, entityType: 'medium' as const, entityId: m.id, action: 'medium.created', toState: m.status, data: { medium_type: m.mediumType } })),
    ];
    await recordAudit(tx, actor, audit);

    const service = await findService(tx, { operatorId, customerId: null }, serviceId);
    return { service: service!, upfrontPurchase, createdMediums };
  });
}

/** Who makes the customer's payment links: the operator's card provider if it makes links, else the first connector that does. */
function paymentLinkProvider(connectors: ConnectorRegistry, preferred: string): string | null {
  const able = connectors.withFlow('createPaymentLink');
  return (able.find((c) => c.id === preferred) ?? able[0])?.id ?? null;
}
