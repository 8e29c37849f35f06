import { and, asc, eq, gt, gte, lt, type SQL } from 'drizzle-orm';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { DEBITSUCCESS_SANDBOX_MERCHANT as MERCHANT, rand } from './merchant.ts';
import { authorised, validation } from './rest-auth.ts';
import { debitsuccessAccounts, debitsuccessDebitOrders, debitsuccessPaymentStatuses } from './schema.ts';

/**
 * `GET /CustomerServices/v1.0/businesses/{businessID}/paymentStatuses?Status=&StartDateTime=&EndDateTime=&nextCursor=&Limit=`:
 * every status a debit order took, oldest first — one item per change, so a return is a later `Failed`
 * item (with `isReturn: true`) after the payment's Cleared/Settled ones. At most 50 a page; `nextCursor`
 * (opaque) fetches the next page with the same filters, and is null on the last page.
 */
export const STATUSES = ['Pending', 'Retry', 'Failed', 'Cleared', 'Settled', 'Unbillable', 'CreditControl'] as const;
const MAX_LIMIT = 50;

const dateParam = (v: string | undefined): Date | null | undefined => {
  if (v === undefined || v === '') return undefined;
  const d = new Date(v);
  return /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(d.getTime()) ? d : null;
};

export function registerPaymentStatuses(scope: App, ctx: SandboxContext): void {
  scope.get('/CustomerServices/v1.0/businesses/:businessID/paymentStatuses', async (request, reply) => {
    if (!authorised(ctx, request, reply)) return reply;
    if ((request.params as { businessID: string }).businessID !== MERCHANT.businessId) return reply.status(404).send({ errorCode: 'not_found', message: 'There is no business with this ID.' });
    const q = request.query as Record<string, string | undefined>;
    const errors: { field: string; message: string }[] = [];
    const status = q.Status === undefined || q.Status === '' ? undefined : (STATUSES as readonly string[]).includes(q.Status) ? q.Status : null;
    if (status === null) errors.push({ field: 'Status', message: `One of ${STATUSES.join(', ')}.` });
    const start = dateParam(q.StartDateTime);
    const end = dateParam(q.EndDateTime);
    if (start === null) errors.push({ field: 'StartDateTime', message: 'An ISO 8601 date-time.' });
    if (end === null) errors.push({ field: 'EndDateTime', message: 'An ISO 8601 date-time.' });
    const limit = q.Limit === undefined || q.Limit === '' ? MAX_LIMIT : /^[0-9]{1,3}$/.test(q.Limit) ? Number(q.Limit) : 0;
    if (limit < 1 || limit > MAX_LIMIT) errors.push({ field: 'Limit', message: `From 1 to ${MAX_LIMIT}.` });
    let after = 0;
    if (q.nextCursor !== undefined && q.nextCursor !== '') {
      const decoded = /^[A-Za-z0-9_-]{1,40}$/.test(q.nextCursor) ? Buffer.from(q.nextCursor, 'base64url').toString('utf8') : '';
      const m = /^seq:([0-9]{1,15})$/.exec(decoded);
      if (m) after = Number(m[1]);
      else errors.push({ field: 'nextCursor', message: 'Not a cursor this API gave.' });
    }
    if (errors.length > 0) return validation(reply, errors);

    const e = debitsuccessPaymentStatuses;
    const where: SQL[] = [gt(e.seq, after)];
    if (status) where.push(eq(e.status, status));
    if (start) where.push(gte(e.occurredAt, start));
    if (end) where.push(lt(e.occurredAt, end));
    const rows = await ctx.database.db
      .select({ e, order: debitsuccessDebitOrders, external: debitsuccessAccounts.externalAccountReferenceNo })
      .from(e)
      .innerJoin(debitsuccessDebitOrders, eq(debitsuccessDebitOrders.id, e.paymentId))
      .leftJoin(debitsuccessAccounts, eq(debitsuccessAccounts.accountReferenceNo, debitsuccessDebitOrders.accountReferenceNo))
      .where(and(...where))
      .orderBy(asc(e.seq))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(({ e: s, order, external }) => ({
        paymentId: order.id,
        externalPaymentIdentifier: order.externalPaymentIdentifier,
        accountReference: order.accountReferenceNo,
        externalAccountReference: external,
        amount: Number(rand(order.amountCents)),
        status: s.status,
        statusReason: s.reason,
        isReturn: s.returned,
        bankDay: s.bankDay,
        statusDateTime: s.occurredAt.toISOString(),
      })),
      nextCursor: rows.length > limit && last ? Buffer.from(`seq:${last.e.seq}`).toString('base64url') : null,
    };
  });
}
