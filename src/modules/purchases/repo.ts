import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { PurchaseCreationEventId, PurchaseStatusId } from '../../domain/enums.ts';
import type { IsoDate } from '../../domain/periods.ts';
import type { PricedLine } from '../../domain/pricing.ts';
import { purchaseTotals } from '../../domain/vat.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { purchaseLines, purchases } from './schema.ts';

export type PurchaseRow = typeof purchases.$inferSelect;
export type PurchaseLineRow = typeof purchaseLines.$inferSelect;
export interface PurchaseRecord extends PurchaseRow {
  lines: PurchaseLineRow[];
}

export interface PurchaseScope {
  operatorId: string;
  customerId: string | null;
}

const scoped = (scope: PurchaseScope) =>
  and(eq(purchases.operatorId, scope.operatorId), scope.customerId === null ? undefined : eq(purchases.customerId, scope.customerId));

export interface NewPurchase {
  id: string;
  operatorId: string;
  customerId: string;
  serviceId: string;
  purchasePlanId: string | null;
  statusId: PurchaseStatusId;
  creationEventId: PurchaseCreationEventId;
  purchaseDate: Date;
  mediumId?: string | null;
  purchaseSourceId?: string | null;
  customerStatementRef?: string | null;
  comment?: string | null;
  smallKey?: number;
  /** When the record was made, if not now (imports, demo data). */
  createdAt?: Date;
  /** For purchases recorded as already paid (imports, demo data). */
  paid?: { at: Date; periodApplied: boolean; paymentReference?: string | null };
  /** The period it pays for, when it pays for a stated one (a month; an order's days up to its first collection date). */
  period?: { start: IsoDate; end: IsoDate };
  lines: (PricedLine & { id: string })[];
}

/** Store a purchase with its lines; totals come from the domain's VAT rules, never from the caller. */
export async function insertPurchase(db: Executor, input: NewPurchase): Promise<PurchaseRecord> {
  const totals = purchaseTotals(input.lines);
  const [row] = await db
    .insert(purchases)
    .values({
      id: input.id,
      operatorId: input.operatorId,
      customerId: input.customerId,
      serviceId: input.serviceId,
      purchasePlanId: input.purchasePlanId,
      mediumId: input.mediumId ?? null,
      purchaseSourceId: input.purchaseSourceId ?? null,
      statusId: input.statusId,
      creationEventId: input.creationEventId,
      purchaseDate: input.purchaseDate,
      customerStatementRef: input.customerStatementRef ?? null,
      comment: input.comment ?? null,
      amountCents: totals.amountCents,
      amountExclCents: totals.amountExclCents,
      taxCents: totals.taxCents,
      ...(input.smallKey === undefined ? {} : { smallKey: input.smallKey }),
      ...(input.createdAt ? { createdAt: input.createdAt, updatedAt: input.createdAt } : {}),
      ...(input.paid ? { paidAt: input.paid.at, periodApplied: input.paid.periodApplied, paymentReference: input.paid.paymentReference ?? null } : {}),
      ...(input.period ? { periodStart: input.period.start, periodEnd: input.period.end } : {}),
    })
    .returning();
  const lines = await db
    .insert(purchaseLines)
    .values(
      input.lines.map((l, position) => ({
        id: l.id,
        purchaseId: input.id,
        position,
        lineTypeId: l.lineTypeId,
        description: l.description,
        quantity: l.quantity,
        unitPriceInclNum: Number(l.unitPriceIncl.num),
        unitPriceInclDen: Number(l.unitPriceIncl.den),
        taxRateBp: l.rateBp,
        totalAmountCents: l.totalCents,
        periodContributionPerQuantity: l.periodContributionPerQuantity,
        productPriceId: l.productPriceId,
      })),
    )
    .returning();
  return { ...row!, lines: lines.sort((a, b) => a.position - b.position) };
}

async function withLines(db: Executor, rows: PurchaseRow[]): Promise<PurchaseRecord[]> {
  if (rows.length === 0) return [];
  const lines = await db
    .select()
    .from(purchaseLines)
    .where(inArray(purchaseLines.purchaseId, rows.map((r) => r.id)))
    .orderBy(asc(purchaseLines.position));
  return rows.map((r) => ({ ...r, lines: lines.filter((l) => l.purchaseId === r.id) }));
}

export async function findPurchase(db: Executor, scope: PurchaseScope, id: string): Promise<PurchaseRecord | null> {
  const rows = await db.select().from(purchases).where(and(eq(purchases.id, id), scoped(scope)));
  const [record] = await withLines(db, rows);
  return record ?? null;
}

export interface PurchaseFilter {
  serviceId?: string;
  statusId?: number;
  /** Due (purchase date) before the start of this civil day (South African time). */
  dueBefore?: IsoDate;
}

export async function listPurchases(db: Executor, scope: PurchaseScope, filter: PurchaseFilter, page: PageRequest): Promise<PurchaseRecord[]> {
  const rows = await db
    .select()
    .from(purchases)
    .where(
      and(
        scoped(scope),
        filter.serviceId === undefined ? undefined : eq(purchases.serviceId, filter.serviceId),
        filter.statusId === undefined ? undefined : eq(purchases.statusId, filter.statusId as PurchaseStatusId),
        // The day's start is made by the database: a JavaScript Date of 0001-01-01 in +02:00 is written as year 0000, which it refuses.
        filter.dueBefore === undefined ? undefined : sql`${purchases.purchaseDate} < (${filter.dueBefore}::date - interval '2 hours') AT TIME ZONE 'UTC'`,
        afterCursor(page, purchases.createdAt, purchases.id),
      ),
    )
    .orderBy(desc(purchases.createdAt), desc(purchases.id))
    .limit(page.limit + 1);
  return withLines(db, rows);
}
