import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { App } from '../../http/route-kit.ts';
import { loseResponse, parseRand, type LedgerRow, type SandboxContext } from '../kit/kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { paymentJson } from './api.ts';
import { settleIfDue } from './late-success.ts';
import { HEX32, PROVIDER, RESULTS, bearerOk, newId, peachError, sandboxMerchant, stringFields, type PaymentDetails } from './shared.ts';

/**
 * `POST /v1/payments/{paymentId}` with `paymentType=RF` on the card host (README.md, "Refunds"): a refund of an
 * approved payment — a checkout's or a registration's — in full or in part, never more than is left of it. Each
 * refund is a ledger row (kind `refund`) and a payment of type RF that `/v1/query` finds by its
 * merchantTransactionId. Nothing is deduplicated on merchantTransactionId: a repeat is another refund.
 */

const PAYMENT_KINDS = new Set(['hosted', 'token']);

type Outcome = { kind: 'not_found' } | { kind: 'recorded'; row: LedgerRow; original: LedgerRow; first: boolean };

/** Test card …0119: the card whose answers are lost. A payment made with it loses its first refund's answer. */
const lostResponseCard = (row: LedgerRow): boolean => row.cardBin === '400000' && row.cardLast4 === '0119';

function refundErrors(f: Record<string, string>): { name: string; message: string }[] {
  const errors: { name: string; message: string }[] = [];
  const check = (name: string, ok: (v: string) => boolean, message: string, required = true) => {
    const v = f[name];
    if (v === undefined ? required : !ok(v)) errors.push({ name, message: v === undefined ? 'is required' : message });
  };
  check('entityId', (v) => HEX32.test(v), 'must be 32 lower-case hex characters');
  check('amount', (v) => /^[0-9]{1,10}\.[0-9]{2}$/.test(v) && (parseRand(v) ?? 0) > 0, 'must be a positive amount with 2 decimals');
  check('currency', (v) => v === 'ZAR', 'must be ZAR');
  check('paymentType', (v) => v === 'RF', 'must be RF: the sandbox offers refunds only on this route');
  check('merchantTransactionId', (v) => v.length >= 8 && v.length <= 255, 'must be 8 to 255 characters', false);
  return errors;
}

export function refundRoutes(scope: App, ctx: SandboxContext): void {
  scope.post('/v1/payments/:paymentId', async (request, reply) => {
    const merchant = sandboxMerchant(ctx);
    if (!bearerOk(request, merchant.access_token)) return peachError(reply, 401, RESULTS.unauthorised);
    const fields = stringFields(request.body);
    if (!fields) return peachError(reply, 400, RESULTS.invalidParameter, [{ name: 'body', message: 'must be a form of string fields' }]);
    const errors = refundErrors(fields);
    if (errors.length > 0) return peachError(reply, 400, RESULTS.invalidParameter, errors);
    if (fields.entityId !== merchant.entity_id) return peachError(reply, 401, RESULTS.unauthorised);
    const paymentId = (request.params as { paymentId: string }).paymentId;
    if (!HEX32.test(paymentId)) return peachError(reply, 400, RESULTS.noTransaction);
    const amountCents = parseRand(fields.amount)!;
    // Card …0077: a payment reported cancelled that has turned successful is refundable from then on.
    const [before] = await ctx.database.db.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.id, paymentId))).limit(1);
    if (before) await settleIfDue(ctx, before);
    // The payment is locked while its refunds are summed: two refunds at once never give back more than it took.
    const outcome = await ctx.database.db.transaction(async (tx): Promise<Outcome> => {
      const [original] = await tx.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.id, paymentId))).for('update');
      if (!original || !PAYMENT_KINDS.has(original.kind)) return { kind: 'not_found' };
      const earlier = await refundsOf(tx, original.id);
      const left = original.amountCents - earlier.filter((r) => r.status === 'approved').reduce((sum, r) => sum + r.amountCents, 0);
      const ok = original.status === 'approved' && amountCents <= left;
      const d = original.details as Partial<PaymentDetails>;
      const details: PaymentDetails = {
        paymentType: 'RF',
        paymentBrand: d.paymentBrand ?? '',
        holder: d.holder ?? '',
        expiryMonth: d.expiryMonth ?? 0,
        expiryYear: d.expiryYear ?? 0,
        refunded_transaction_id: original.id,
        reason: null,
      };
      const result = ok ? RESULTS.approved : RESULTS.refundRefused;
      const [row] = await tx
        .insert(sandboxTransactions)
        .values({
          id: newId(),
          provider: PROVIDER,
          merchantReference: fields.merchantTransactionId ?? null,
          kind: 'refund',
          amountCents,
          currency: 'ZAR',
          status: ok ? 'approved' : 'declined',
          resultCode: result.code,
          resultDescription: result.description,
          cardBin: original.cardBin,
          cardLast4: original.cardLast4,
          details,
          createdAt: ctx.clock(),
        })
        .returning();
      return { kind: 'recorded', row: row!, original, first: earlier.length === 0 };
    });
    if (outcome.kind === 'not_found') return peachError(reply, 400, RESULTS.noTransaction);
    const { row } = outcome;
    // A refused refund is answered 400 with its result, as Peach answers a declined payment.
    if (row.status !== 'approved') return reply.status(400).send(paymentJson(row));
    // Card …0119: the refund is made, but its answer never arrives (the payment's first refund only).
    if (outcome.first && lostResponseCard(outcome.original)) return loseResponse(reply, ctx.config.sandboxes.lostResponseAfterMs);
    return paymentJson(row);
  });
}

const refundsOf = (db: Executor, paymentId: string) =>
  db
    .select()
    .from(sandboxTransactions)
    .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.kind, 'refund'), sql`${sandboxTransactions.details}->>'refunded_transaction_id' = ${paymentId}`))
    .orderBy(asc(sandboxTransactions.createdAt), asc(sandboxTransactions.id));
