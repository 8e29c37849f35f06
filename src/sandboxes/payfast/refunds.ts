import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import { MAX_CENTS } from '../../domain/money.ts';
import type { Executor } from '../../db/client.ts';
import type { App } from '../../http/route-kit.ts';
import { loseResponse, type LedgerRow, type SandboxContext } from '../kit/kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { signed } from './api-auth.ts';
import { PAYFAST_SANDBOX_MERCHANT } from '../../providers/payfast/credentials.ts';
import { sendApi, wellFormed } from './http.ts';
import { PROVIDER } from './store.ts';

/**
 * PayFast's Refunds API under `/api` (README.md, "Refunds"), signed like every API call: `POST /refunds/{id}`
 * refunds a payment in full or in part, never more than is left of it; `GET /refunds/{id}` lists its refunds;
 * `GET /refunds/query/{id}` says what can still be refunded. `id` is the payment's pf_payment_id. Every refund
 * is a ledger row (kind `refund`). Nothing is deduplicated: PayFast takes no reference for a refund, so a
 * repeated request is another refund.
 */

const PAYMENT_KINDS = new Set(['hosted', 'token']);
const RESULT = { approved: { code: '00', description: 'Refund processed' }, refused: { code: '400' } } as const;

interface Refund {
  amount: number;
  reason: string | null;
  notifyBuyer: boolean;
  accType: string | null;
}

function parseRefund(body: unknown): Refund | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The body must be a JSON object.';
  const b = body as Record<string, unknown>;
  const amount = typeof b.amount === 'string' && /^[0-9]{1,12}$/.test(b.amount) ? Number(b.amount) : b.amount;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_CENTS) return 'amount: must be a whole number of cents, more than 0.';
  if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 255)) return 'reason: at most 255 characters.';
  const notify = b.notify_buyer === undefined ? '1' : String(b.notify_buyer);
  if (!['0', '1', 'true', 'false'].includes(notify)) return 'notify_buyer: must be 1 or 0.';
  if (b.acc_type !== undefined && b.acc_type !== 'current' && b.acc_type !== 'savings') return 'acc_type: must be current or savings.';
  const reason = typeof b.reason === 'string' && b.reason.trim() !== '' ? wellFormed(b.reason.trim()) : null;
  return { amount, reason, notifyBuyer: notify === '1' || notify === 'true', accType: typeof b.acc_type === 'string' ? b.acc_type : null };
}

/** A payment (a paid page or an ad hoc charge) by its pf_payment_id; refunds and card updates are not payments. */
async function payment(db: Executor, id: string, lock = false): Promise<LedgerRow | null> {
  if (!/^[0-9]{1,20}$/.test(id)) return null;
  const t = sandboxTransactions;
  const q = db.select().from(t).where(and(eq(t.provider, PROVIDER), eq(t.id, id))).limit(1);
  const [row] = lock ? await q.for('update') : await q;
  return row && PAYMENT_KINDS.has(row.kind) ? row : null;
}

const refundsOf = (db: Executor, paymentId: string) =>
  db
    .select()
    .from(sandboxTransactions)
    .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.kind, 'refund'), sql`${sandboxTransactions.details}->>'refunded_transaction_id' = ${paymentId}`))
    .orderBy(asc(sandboxTransactions.createdAt), asc(sandboxTransactions.id));

const refunded = (rows: readonly LedgerRow[]): number => rows.filter((r) => r.status === 'approved').reduce((sum, r) => sum + r.amountCents, 0);

/** Test card …0119: the card whose answers are lost. A payment made with it loses its first refund's answer. */
const lostResponseCard = (row: LedgerRow): boolean => row.cardBin === '400000' && row.cardLast4 === '0119';

const notFound = (reply: FastifyReply) => sendApi(reply, 404, { response: false, message: 'Transaction not found.' });
const rand = (cents: number): string => (cents / 100).toFixed(2);

type Outcome =
  | { kind: 'not_found' }
  | { kind: 'not_refundable' }
  | { kind: 'refused'; message: string }
  | { kind: 'refunded'; row: LedgerRow; original: LedgerRow; first: boolean };

export function registerRefundRoutes(scope: App, ctx: SandboxContext): void {
  scope.post('/api/refunds/:id', signed, async (request, reply) => {
    const input = parseRefund(request.body);
    if (typeof input === 'string') return sendApi(reply, 400, { response: false, message: input });
    const id = (request.params as { id: string }).id;
    // The payment is locked while its refunds are summed, so two refunds at once never give back more than it took.
    const outcome = await ctx.database.db.transaction(async (tx): Promise<Outcome> => {
      const original = await payment(tx, id, true);
      if (!original) return { kind: 'not_found' };
      if (original.status !== 'approved') return { kind: 'not_refundable' };
      const earlier = await refundsOf(tx, original.id);
      const left = original.amountCents - refunded(earlier);
      const refused = left <= 0 ? 'Transaction has already been fully refunded.' : input.amount > left ? `Refund amount exceeds the amount available for refund (R${rand(left)}).` : null;
      const details = { refunded_transaction_id: original.id, reason: input.reason, notify_buyer: input.notifyBuyer, acc_type: input.accType };
      const common = { id: randomUUID(), provider: PROVIDER, merchantReference: original.merchantReference, kind: 'refund', amountCents: input.amount, cardBin: original.cardBin, cardLast4: original.cardLast4, details, createdAt: ctx.clock() };
      if (refused) {
        await tx.insert(sandboxTransactions).values({ ...common, status: 'declined', resultCode: RESULT.refused.code, resultDescription: refused });
        return { kind: 'refused', message: refused };
      }
      const [row] = await tx.insert(sandboxTransactions).values({ ...common, status: 'approved', resultCode: RESULT.approved.code, resultDescription: RESULT.approved.description }).returning();
      return { kind: 'refunded', row: row!, original, first: earlier.length === 0 };
    });
    if (outcome.kind === 'not_found') return notFound(reply);
    if (outcome.kind === 'not_refundable') return sendApi(reply, 400, { response: false, message: 'Transaction is not refundable: it was not successful.' });
    if (outcome.kind === 'refused') return sendApi(reply, 400, { response: false, message: outcome.message });
    // Card …0119: the refund is made, but its answer never arrives (the first time only).
    if (outcome.first && lostResponseCard(outcome.original)) return loseResponse(reply, ctx.config.sandboxes.lostResponseAfterMs);
    const { row } = outcome;
    return sendApi(reply, 200, {
      response: { id: row.id, payment_id: outcome.original.id, merchant_id: PAYFAST_SANDBOX_MERCHANT.merchantId, refund_amount: row.amountCents / 100, status: 'COMPLETE', created: row.createdAt.toISOString() },
    });
  });

  scope.get('/api/refunds/query/:id', signed, async (request, reply) => {
    const original = await payment(ctx.database.db, (request.params as { id: string }).id);
    if (!original) return notFound(reply);
    const left = original.status === 'approved' ? original.amountCents - refunded(await refundsOf(ctx.database.db, original.id)) : 0;
    const status = original.status !== 'approved' ? 'NOT_AVAILABLE' : left > 0 ? 'REFUNDABLE' : 'COMPLETED';
    return sendApi(reply, 200, {
      response: {
        token: original.token,
        funding_type: 'Credit Card',
        amount_original: original.amountCents,
        amount_available_for_refund: left,
        status,
        errors: status === 'NOT_AVAILABLE' ? ['This transaction was not successful and cannot be refunded.'] : [],
        refund_full: { method: left > 0 && left === original.amountCents ? 'PAYMENT_SOURCE' : 'NOT_AVAILABLE' },
        refund_partial: { method: left > 0 ? 'PAYMENT_SOURCE' : 'NOT_AVAILABLE' },
        bank_names: [],
      },
    });
  });

  scope.get('/api/refunds/:id', signed, async (request, reply) => {
    const original = await payment(ctx.database.db, (request.params as { id: string }).id);
    if (!original) return notFound(reply);
    const made = (await refundsOf(ctx.database.db, original.id)).filter((r) => r.status === 'approved');
    if (made.length === 0) return sendApi(reply, 404, { response: false, message: 'No refunds found for this transaction.' });
    const left = original.amountCents - refunded(made);
    return sendApi(reply, 200, {
      response: {
        pf_payment_id: original.id,
        amount_original: original.amountCents,
        amount_available_for_refund: left,
        status: left > 0 ? 'REFUNDABLE' : 'COMPLETED',
        transactions: made.map((r) => ({ id: r.id, amount: r.amountCents, status: 'COMPLETE', reason: (r.details as { reason?: string | null }).reason ?? '', created: r.createdAt.toISOString() })),
      },
    });
  });
}
