import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { payments } from './schema.ts';

export type PaymentRow = typeof payments.$inferSelect;

/** Collection attempts of a purchase, newest first. The caller has already checked it may see the purchase. */
export async function listPayments(db: Executor, operatorId: string, purchaseId: string, page: PageRequest): Promise<PaymentRow[]> {
  return db
    .select()
    .from(payments)
    .where(and(eq(payments.operatorId, operatorId), eq(payments.purchaseId, purchaseId), afterCursor(page, payments.createdAt, payments.id)))
    .orderBy(desc(payments.createdAt), desc(payments.id))
    .limit(page.limit + 1);
}
