import { and, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { BillingScheme, BillingStatus } from '../../domain/enums.ts';
import { OWED_PURCHASE_STATUS } from '../../domain/state-machines.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { products } from '../catalog/schema.ts';
import { purchasePlans, services } from './schema.ts';

export type ServiceRow = typeof services.$inferSelect;
export type PurchasePlanRow = typeof purchasePlans.$inferSelect;
export interface ServiceRecord extends ServiceRow {
  billingScheme: BillingScheme;
  productName: string;
  planId: string | null;
  activeMediumId: string | null;
  /** What it owes now: the total of its Unpaid purchases, in cents. */
  amountDueCents: number;
}

export interface ServiceScope {
  operatorId: string;
  /** Set for customers: only their own services exist for them. */
  customerId: string | null;
}

function scoped(scope: ServiceScope) {
  return and(eq(services.operatorId, scope.operatorId), scope.customerId === null ? undefined : eq(services.customerId, scope.customerId));
}

function selectRecords(db: Executor) {
  return db
    .select({
      service: services,
      billingScheme: products.billingScheme,
      productName: products.name,
      planId: purchasePlans.id,
      activeMediumId: purchasePlans.activeMediumId,
      amountDueCents: sql<number>`(SELECT coalesce(sum(o.amount_cents), 0)::bigint FROM purchases o WHERE o.service_id = ${services.id} AND o.status_id = ${OWED_PURCHASE_STATUS})`.mapWith(Number),
    })
    .from(services)
    .innerJoin(products, eq(products.id, services.productId))
    .leftJoin(purchasePlans, eq(purchasePlans.serviceId, services.id));
}

const toRecord = (r: { service: ServiceRow; billingScheme: BillingScheme; productName: string; planId: string | null; activeMediumId: string | null; amountDueCents: number }): ServiceRecord => ({
  ...r.service,
  billingScheme: r.billingScheme,
  productName: r.productName,
  planId: r.planId,
  activeMediumId: r.activeMediumId,
  amountDueCents: r.amountDueCents,
});

export async function findService(db: Executor, scope: ServiceScope, id: string): Promise<ServiceRecord | null> {
  const [row] = await selectRecords(db).where(and(eq(services.id, id), scoped(scope)));
  return row ? toRecord(row) : null;
}

export async function listServices(db: Executor, scope: ServiceScope, customerId: string | undefined, page: PageRequest, billingStatus?: BillingStatus): Promise<ServiceRecord[]> {
  const rows = await selectRecords(db)
    .where(
      and(
        scoped(scope),
        customerId === undefined ? undefined : eq(services.customerId, customerId),
        billingStatus === undefined ? undefined : eq(services.billingStatus, billingStatus),
        afterCursor(page, services.createdAt, services.id),
      ),
    )
    .orderBy(desc(services.createdAt), desc(services.id))
    .limit(page.limit + 1);
  return rows.map(toRecord);
}

/** null when the id is taken, by any operator's service. */
export async function insertService(db: Executor, service: typeof services.$inferInsert & { id: string }, plan: { id: string; activeMediumId: string | null }) {
  const [created] = await db.insert(services).values(service).onConflictDoNothing({ target: services.id }).returning();
  if (!created) return null;
  const [createdPlan] = await db.insert(purchasePlans).values({ id: plan.id, serviceId: service.id, activeMediumId: plan.activeMediumId }).returning();
  return { service: created!, plan: createdPlan! };
}

export async function setActiveMedium(db: Executor, serviceId: string, mediumId: string): Promise<PurchasePlanRow> {
  const [plan] = await db
    .update(purchasePlans)
    .set({ activeMediumId: mediumId, updatedAt: new Date() })
    .where(eq(purchasePlans.serviceId, serviceId))
    .returning();
  return plan!;
}
