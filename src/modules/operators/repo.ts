import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { collectors, operators, purchaseSources } from './schema.ts';

export type OperatorRow = typeof operators.$inferSelect;
export type CollectorRow = typeof collectors.$inferSelect;
export type PurchaseSourceRow = typeof purchaseSources.$inferSelect;

export async function findOperator(db: Executor, id: string): Promise<OperatorRow | null> {
  const [row] = await db.select().from(operators).where(eq(operators.id, id));
  return row ?? null;
}

export async function updateOperator(db: Executor, id: string, changes: Partial<Omit<OperatorRow, 'id' | 'createdAt'>>): Promise<OperatorRow> {
  const [row] = await db.update(operators).set({ ...changes, updatedAt: new Date() }).where(eq(operators.id, id)).returning();
  if (!row) throw new Error(`operator ${id} vanished during update`);
  return row;
}

export async function findCollector(db: Executor, operatorId: string, id: string): Promise<CollectorRow | null> {
  const [row] = await db.select().from(collectors).where(and(eq(collectors.id, id), eq(collectors.operatorId, operatorId)));
  return row ?? null;
}

export async function listCollectors(db: Executor, operatorId: string, page: PageRequest): Promise<CollectorRow[]> {
  return db
    .select()
    .from(collectors)
    .where(and(eq(collectors.operatorId, operatorId), afterCursor(page, collectors.createdAt, collectors.id)))
    .orderBy(desc(collectors.createdAt), desc(collectors.id))
    .limit(page.limit + 1);
}

/** null when the id is taken, by any operator's collector. */
export async function insertCollector(db: Executor, row: typeof collectors.$inferInsert): Promise<CollectorRow | null> {
  const [created] = await db.insert(collectors).values(row).onConflictDoNothing({ target: collectors.id }).returning();
  return created ?? null;
}

export async function listPurchaseSources(db: Executor, collectorId: string, offSystem: boolean | undefined): Promise<PurchaseSourceRow[]> {
  return db
    .select()
    .from(purchaseSources)
    .where(
      and(
        eq(purchaseSources.collectorId, collectorId),
        eq(purchaseSources.active, true),
        offSystem === undefined ? undefined : eq(purchaseSources.offSystem, offSystem),
      ),
    )
    .orderBy(purchaseSources.name);
}

export async function findPurchaseSource(db: Executor, operatorId: string, id: string): Promise<PurchaseSourceRow | null> {
  const [row] = await db.select().from(purchaseSources).where(and(eq(purchaseSources.id, id), eq(purchaseSources.operatorId, operatorId)));
  return row ?? null;
}

/** null when the id is taken (by any operator's source) or the collector has a source of that name. */
export async function insertPurchaseSource(db: Executor, row: typeof purchaseSources.$inferInsert): Promise<PurchaseSourceRow | null> {
  const [created] = await db.insert(purchaseSources).values(row).onConflictDoNothing().returning();
  return created ?? null;
}

export async function purchaseSourceNamed(db: Executor, collectorId: string, name: string): Promise<PurchaseSourceRow | null> {
  const [row] = await db.select().from(purchaseSources).where(and(eq(purchaseSources.collectorId, collectorId), eq(purchaseSources.name, name)));
  return row ?? null;
}
