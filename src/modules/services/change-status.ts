import { and, asc, eq } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import type { Executor } from '../../db/client.ts';
import { PurchaseCreationEvent, PurchaseStatus } from '../../domain/enums.ts';
import { addDays, civilDate, maxDate, nextCollectionDate, type IsoDate } from '../../domain/periods.ts';
import { ConflictError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { withArticle } from '../../lib/words.ts';
import { recordAudit } from '../audit/record.ts';
import { findOperator } from '../operators/repo.ts';
import { products } from '../catalog/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { enqueueEvents } from '../webhooks/enqueue-event.ts';
import { checkOnNetworkDate } from './on-network-date.ts';
import { findService, type ServiceRecord } from './repo.ts';
import { services } from './schema.ts';

export interface ServiceStatusChange {
  serviceStatus: 'Active' | 'Cancelled';
  onNetworkDate?: IsoDate;
}

/** The moves integrators and admins make (the ISP activated the line; the customer left). */
const MOVES: Record<ServiceStatusChange['serviceStatus'], readonly string[]> = {
  Active: ['PendingIspApplication'],
  Cancelled: ['PendingIspApplication', 'Active', 'Suspended'],
};

/**
 * `PATCH /services/{id}` (SPEC §10). Activation: the line is on the network (`on_network_date`, default the
 * order's, else today; not later than today, nor more than a year before; activating an Active service again
 * with another date is a 409, with the same date or none it changes nothing); a Recurring service is billed
 * monthly from its first collection date on or after both the activation and the end of what its order
 * charged for (firstBillingDate). Cancellation: never billed again; its Scheduled
 * purchases are Cancelled; what it owes stays owed. A move the status machine does not allow is a 409.
 */
export async function changeServiceStatus(ctx: Pick<AppContext, 'database' | 'clock'>, operatorId: string, actor: Actor, serviceId: string, change: ServiceStatusChange): Promise<ServiceRecord> {
  const now = ctx.clock();
  const today = civilDate(now);
  if (change.onNetworkDate !== undefined) {
    if (change.serviceStatus !== 'Active') throw new UnprocessableError('service.on_network_date_not_applicable', 'on_network_date is given only when activating a service.', { errors: [{ name: 'body.on_network_date', reason: 'applies to service_status Active only' }] });
    checkOnNetworkDate('service', change.onNetworkDate, today);
  }

  await ctx.database.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: services.id, status: services.status, onNetworkDate: services.onNetworkDate, collectionDay: services.collectionDay, latestPeriodEndDate: services.latestPeriodEndDate, suspensionDate: services.suspensionDate, customerId: services.customerId, createdAt: services.createdAt, billingScheme: products.billingScheme })
      .from(services)
      .innerJoin(products, eq(products.id, services.productId))
      .where(and(eq(services.id, serviceId), eq(services.operatorId, operatorId)))
      .for('update', { of: services });
    if (!row) throw new NotFoundError('service', serviceId);
    if (row.status === change.serviceStatus) {
      // Asked again: already so. Another date for a line already live is not a repeat: its billing began from the first.
      if (change.onNetworkDate !== undefined && change.onNetworkDate !== row.onNetworkDate) {
        const since = row.onNetworkDate ? `on the network since ${row.onNetworkDate}` : 'with no on-network date recorded';
        throw new ConflictError('service.already_active', `Service ${row.id} is Active already, ${since}; its on_network_date is not changed.`, { extensions: { service_status: row.status, on_network_date: row.onNetworkDate } });
      }
      return;
    }
    if (!MOVES[change.serviceStatus].includes(row.status)) {
      throw new ConflictError('service.status_move_not_allowed', `${withArticle(row.status)} service cannot become ${change.serviceStatus}.`, { extensions: { service_status: row.status } });
    }

    if (change.serviceStatus === 'Active') {
      // The date given, else the one the order recorded, else today.
      const onNetworkDate = change.onNetworkDate ?? row.onNetworkDate ?? today;
      const billedThrough = row.billingScheme === 'Recurring' && row.collectionDay !== null ? await firstBillingDate(tx, { ...row, collectionDay: row.collectionDay }, onNetworkDate) : null;
      // Live and still owing its order (or anything else): due now, so suspended after the grace days, as a month is.
      const suspensionDate = row.billingScheme === 'Recurring' && row.suspensionDate === null && (await owes(tx, serviceId)) ? addDays(today, (await findOperator(tx, operatorId))!.graceDays) : row.suspensionDate;
      await tx.update(services).set({ status: 'Active', onNetworkDate, billedThrough, suspensionDate, updatedAt: now }).where(eq(services.id, serviceId));
      await recordAudit(tx, actor, { operatorId, entityType: 'service', entityId: row.id, action: 'service.activated', fromState: row.status, toState: 'Active', data: { on_network_date: onNetworkDate, billed_from: billedThrough } });
      await enqueueEvents(tx, [{ operatorId, type: 'service.activated', data: { service_id: row.id, customer_id: row.customerId, service_status: 'Active', on_network_date: onNetworkDate, billing_starts: billedThrough } }], now);
      return;
    }

    const cancelled = await tx
      .update(purchases)
      .set({ statusId: PurchaseStatus.Cancelled, updatedAt: now })
      .where(and(eq(purchases.serviceId, serviceId), eq(purchases.statusId, PurchaseStatus.Scheduled)))
      .returning({ id: purchases.id });
    await tx.update(services).set({ status: 'Cancelled', updatedAt: now }).where(eq(services.id, serviceId));
    // Collections a billing run queued for it are not worked: work-collections skips a cancelled service.
    await recordAudit(tx, actor, [
      { operatorId, entityType: 'service', entityId: row.id, action: 'service.cancelled', fromState: row.status, toState: 'Cancelled', data: { scheduled_purchases_cancelled: cancelled.length } },
      ...cancelled.map((p) => ({ operatorId, entityType: 'purchase' as const, entityId: p.id, action: 'purchase.cancelled', fromState: String(PurchaseStatus.Scheduled), toState: String(PurchaseStatus.Cancelled) })),
    ]);
    await enqueueEvents(tx, [{ operatorId, type: 'service.cancelled', data: { service_id: row.id, customer_id: row.customerId, service_status: 'Cancelled', purchases_cancelled: cancelled.map((p) => p.id) } }], now);
  });
  return (await findService(ctx.database.db, { operatorId, customerId: null }, serviceId))!;
}

/** Whether the service has a purchase it must pay (Unpaid). */
async function owes(tx: Executor, serviceId: string): Promise<boolean> {
  const [owed] = await tx.select({ id: purchases.id }).from(purchases).where(and(eq(purchases.serviceId, serviceId), eq(purchases.statusId, PurchaseStatus.Unpaid))).limit(1);
  return owed !== undefined;
}

/**
 * The first month a Recurring service is billed for, when it is activated: the first collection date on or
 * after its on-network date and the end of what its order charged for, paid or not (the order's upfront
 * purchase states the days it pays for: from its order_date to the first collection date after it) or of
 * any later period paid. Never a month before the service was ordered, nor one its order already charged.
 */
async function firstBillingDate(tx: Executor, service: { id: string; collectionDay: number; latestPeriodEndDate: IsoDate | null; createdAt: Date }, onNetworkDate: IsoDate): Promise<IsoDate> {
  const [order] = await tx
    .select({ placedAt: purchases.purchaseDate, covers: purchases.periodEnd })
    .from(purchases)
    .where(and(eq(purchases.serviceId, service.id), eq(purchases.creationEventId, PurchaseCreationEvent.Order)))
    .orderBy(asc(purchases.purchaseDate))
    .limit(1);
  // The period its order states (from its order_date, back- or forward-dated); an order without one (no
  // monthly price on order, or placed before orders stated it) covers up to the first collection date after it was placed.
  const orderCovers = (order?.covers as IsoDate | null | undefined) ?? nextCollectionDate(civilDate(order?.placedAt ?? service.createdAt), service.collectionDay);
  const from = maxDate(onNetworkDate, maxDate(orderCovers, service.latestPeriodEndDate ?? orderCovers));
  return nextCollectionDate(addDays(from, -1), service.collectionDay);
}
