import { and, desc, eq, inArray, ne } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import type { MediumType } from '../../domain/enums.ts';
import { mediums } from '../mediums/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { refunds } from '../refunds/schema.ts';
import { lateSuccesses, paymentReturns, payments } from './schema.ts';

export type PaymentRow = typeof payments.$inferSelect;
export type PaymentReturnRow = typeof paymentReturns.$inferSelect;
/** An attempt as listed: with its return, when its money came back. */
export type ListedPayment = PaymentRow & { returned: PaymentReturnRow | null; mediumType: MediumType | null; refund: { id: string; status: string; amountCents: number; reason: string } | null };

/**
 * Collection attempts of one purchase, or of every purchase of one service, newest first. The caller has
 * already checked it may see the purchase or service.
 */
export async function listPayments(db: Executor, operatorId: string, of: { purchaseId: string } | { serviceId: string }, page: PageRequest): Promise<ListedPayment[]> {
  const owner =
    'purchaseId' in of
      ? eq(payments.purchaseId, of.purchaseId)
      : inArray(payments.purchaseId, db.select({ id: purchases.id }).from(purchases).where(and(eq(purchases.operatorId, operatorId), eq(purchases.serviceId, of.serviceId))));
  const rows = await db
    .select({ payment: payments, returned: paymentReturns, mediumType: mediums.mediumType, refund: { id: refunds.id, status: refunds.status, amountCents: refunds.amountCents, reason: refunds.reason } })
    .from(payments)
    .leftJoin(paymentReturns, eq(paymentReturns.paymentId, payments.id))
    // At most one refund of a payment is not a refused one (refunds_one_per_payment).
    .leftJoin(refunds, and(eq(refunds.paymentId, payments.id), ne(refunds.status, 'failed')))
    .leftJoin(mediums, eq(mediums.id, payments.mediumId))
    .where(and(eq(payments.operatorId, operatorId), owner, afterCursor(page, payments.createdAt, payments.id)))
    .orderBy(desc(payments.createdAt), desc(payments.id))
    .limit(page.limit + 1);
  return rows.map((r) => ({ ...r.payment, returned: r.returned, mediumType: r.mediumType, refund: r.refund?.id ? r.refund : null }));
}

/** An operator's returned payments, newest first. */
export async function listPaymentReturns(db: Executor, operatorId: string, page: PageRequest): Promise<PaymentReturnRow[]> {
  return db
    .select()
    .from(paymentReturns)
    .where(and(eq(paymentReturns.operatorId, operatorId), afterCursor(page, paymentReturns.createdAt, paymentReturns.id)))
    .orderBy(desc(paymentReturns.createdAt), desc(paymentReturns.id))
    .limit(page.limit + 1);
}

const camelKeys = new Map<string, string>();
const camel = (key: string): string => {
  let out = camelKeys.get(key);
  if (out === undefined) camelKeys.set(key, (out = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())));
  return out;
};

/** A `payments` row as a raw statement returns it (snake_case), as Drizzle would (camelCase). */
export function toPaymentRow(row: Record<string, unknown>): PaymentRow {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = v;
  return out as PaymentRow;
}

export type LateSuccessRow = typeof lateSuccesses.$inferSelect;

/** An operator's late successes, newest first: the refunds due, or all. */
export async function listLateSuccesses(db: Executor, operatorId: string, disposition: LateSuccessRow['disposition'] | null, page: PageRequest): Promise<LateSuccessRow[]> {
  return db
    .select()
    .from(lateSuccesses)
    .where(and(eq(lateSuccesses.operatorId, operatorId), disposition ? eq(lateSuccesses.disposition, disposition) : undefined, afterCursor(page, lateSuccesses.createdAt, lateSuccesses.id)))
    .orderBy(desc(lateSuccesses.createdAt), desc(lateSuccesses.id))
    .limit(page.limit + 1);
}
