import { and, asc, eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { App } from '../../http/route-kit.ts';
import { formatRand, loseResponse, type LedgerRow } from '../kit/kit.ts';
import { sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import { DECLINES, HEX32, ISSUER_TEXT, PROVIDER, RESULTS, bearerOk, brandOf, newId, peachError, sandboxMerchant, stringFields, type PaymentDetails } from './shared.ts';
import { parseAmount } from '../../providers/peach/transformers.ts';

/**
 * The Payments API, the provider's side: charging a registration (a card stored by a checkout) and
 * looking payments up by merchantTransactionId. Bearer access token on every call. Approvals answer 200,
 * declines 400 with the bank's 800.100.* result (as Peach's Payments API does).
 */
export function apiRoutes(scope: App, ctx: AppContext): void {
  scope.post('/v1/registrations/:registrationId/payments', async (request, reply) => {
    const merchant = sandboxMerchant(ctx);
    if (!bearerOk(request, merchant.access_token)) return peachError(reply, 401, RESULTS.unauthorised);
    const fields = stringFields(request.body);
    if (!fields) return peachError(reply, 400, RESULTS.invalidParameter, [{ name: 'body', message: 'must be a form of string fields' }]);
    const errors = paymentErrors(fields);
    if (errors.length > 0) return peachError(reply, 400, RESULTS.invalidParameter, errors);
    if (fields.entityId !== merchant.entity_id) return peachError(reply, 401, RESULTS.unauthorised);
    const registrationId = (request.params as { registrationId: string }).registrationId;
    if (!HEX32.test(registrationId)) return peachError(reply, 400, RESULTS.badRegistrationId);
    const [card] = await ctx.database.db
      .select()
      .from(sandboxTokens)
      .where(and(eq(sandboxTokens.token, registrationId), eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.status, 'active')))
      .limit(1);
    if (!card) return peachError(reply, 400, RESULTS.noRegistration);

    const merchantTransactionId = fields.merchantTransactionId!;
    // A merchantTransactionId Peach already approved is the same payment: answered again, never charged twice.
    const approved = await approvedPayment(ctx, merchantTransactionId);
    if (approved) return paymentJson(approved);

    const row = {
      provider: PROVIDER,
      merchantReference: merchantTransactionId,
      token: registrationId,
      kind: 'token',
      amountCents: parseAmount(fields.amount)!,
      currency: 'ZAR',
      cardBin: card.cardBin,
      cardLast4: card.cardLast4,
      details: { paymentType: fields.paymentType!, paymentBrand: brandOf(card.cardBin), holder: card.holder, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear } satisfies PaymentDetails,
      createdAt: ctx.clock(),
    };
    if (card.outcome === 'unavailable_once' && !(await triedBefore(ctx, merchantTransactionId))) {
      await ctx.database.db.insert(sandboxTransactions).values({ ...row, id: newId(), status: 'unavailable', resultCode: RESULTS.unavailable.code, resultDescription: RESULTS.unavailable.description });
      return peachError(reply, 503, RESULTS.unavailable);
    }
    if (card.outcome === 'decline' || card.outcome === 'insufficient_funds') {
      const result = DECLINES[card.outcome];
      const [declined] = await ctx.database.db
        .insert(sandboxTransactions)
        .values({ ...row, id: newId(), status: 'declined', resultCode: result.code, resultDescription: result.description })
        .returning();
      return reply.status(400).send(paymentJson(declined!));
    }
    let payment: LedgerRow;
    try {
      [payment] = (await ctx.database.db
        .insert(sandboxTransactions)
        .values({ ...row, id: newId(), status: 'approved', resultCode: RESULTS.approved.code, resultDescription: RESULTS.approved.description })
        .returning()) as [LedgerRow];
    } catch (err) {
      // A concurrent duplicate lost the race for the one approval of this merchantTransactionId.
      const existing = isUniqueViolation(err) ? await approvedPayment(ctx, merchantTransactionId) : null;
      if (!existing) throw err;
      return paymentJson(existing);
    }
    if (card.outcome === 'lost_response') return loseResponse(reply, ctx.config.sandboxes.lostResponseAfterMs);
    return paymentJson(payment);
  });

  scope.get('/v1/query', async (request, reply) => {
    const merchant = sandboxMerchant(ctx);
    if (!bearerOk(request, merchant.access_token)) return peachError(reply, 401, RESULTS.unauthorised);
    const query = stringFields(request.query);
    const merchantTransactionId = query?.merchantTransactionId;
    if (!query || !query.entityId || !merchantTransactionId || merchantTransactionId.length > 255) {
      return peachError(reply, 400, RESULTS.invalidParameter, [{ name: 'query', message: 'entityId and merchantTransactionId are required, once each' }]);
    }
    if (query.entityId !== merchant.entity_id) return peachError(reply, 401, RESULTS.unauthorised);
    // Requests refused with 503 never became payments, so they are not found.
    const rows = await ctx.database.db
      .select()
      .from(sandboxTransactions)
      .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.merchantReference, merchantTransactionId), inArray(sandboxTransactions.status, ['approved', 'declined'])))
      .orderBy(asc(sandboxTransactions.createdAt), asc(sandboxTransactions.id));
    return { result: rows.length > 0 ? RESULTS.querySucceeded : RESULTS.noTransaction, payments: rows.map(paymentJson), timestamp: ctx.clock().toISOString(), ndc: newId() };
  });
}

async function approvedPayment(ctx: AppContext, merchantTransactionId: string): Promise<LedgerRow | null> {
  const [row] = await ctx.database.db
    .select()
    .from(sandboxTransactions)
    .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.merchantReference, merchantTransactionId), eq(sandboxTransactions.status, 'approved')))
    .limit(1);
  return row ?? null;
}

async function triedBefore(ctx: AppContext, merchantTransactionId: string): Promise<boolean> {
  const rows = await ctx.database.db
    .select({ id: sandboxTransactions.id })
    .from(sandboxTransactions)
    .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.merchantReference, merchantTransactionId), eq(sandboxTransactions.status, 'unavailable')))
    .limit(1);
  return rows.length > 0;
}

/** A ledger row as the Payments API describes a payment. */
function paymentJson(row: LedgerRow) {
  const d = row.details as Partial<PaymentDetails>;
  const issuer = ISSUER_TEXT[row.resultCode];
  return {
    id: row.id,
    paymentType: d.paymentType ?? 'DB',
    paymentBrand: d.paymentBrand ?? brandOf(row.cardBin ?? ''),
    amount: formatRand(row.amountCents),
    currency: row.currency,
    merchantTransactionId: row.merchantReference,
    result: { code: row.resultCode, description: row.resultDescription },
    ...(issuer ? { resultDetails: { ExtendedDescription: issuer } } : {}),
    card: {
      bin: row.cardBin,
      last4Digits: row.cardLast4,
      holder: d.holder,
      expiryMonth: String(d.expiryMonth ?? '').padStart(2, '0'),
      expiryYear: String(d.expiryYear ?? ''),
    },
    // Peach writes its API timestamps as "2025-01-31 10:00:00+0000".
    timestamp: row.createdAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '+0000'),
    ndc: newId(),
  };
}

/** The documented fields of a payment over a registration. */
function paymentErrors(f: Record<string, string>): { name: string; message: string }[] {
  const errors: { name: string; message: string }[] = [];
  const check = (name: string, ok: (v: string) => boolean, message: string, required = true) => {
    const v = f[name];
    if (v === undefined ? required : !ok(v)) errors.push({ name, message: v === undefined ? 'is required' : message });
  };
  check('entityId', (v) => HEX32.test(v), 'must be 32 lower-case hex characters');
  check('amount', (v) => /^[0-9]{1,10}\.[0-9]{2}$/.test(v) && (parseAmount(v) ?? 0) > 0, 'must be a positive amount with 2 decimals');
  check('currency', (v) => v === 'ZAR', 'must be ZAR');
  check('paymentType', (v) => v === 'DB' || v === 'PA', 'must be DB or PA');
  check('merchantTransactionId', (v) => v.length >= 8 && v.length <= 255, 'must be 8 to 255 characters');
  check('standingInstruction.mode', (v) => ['INITIAL', 'REPEATED'].includes(v), 'must be INITIAL or REPEATED', false);
  check('standingInstruction.type', (v) => ['UNSCHEDULED', 'RECURRING', 'INSTALLMENT'].includes(v), 'must be UNSCHEDULED, RECURRING or INSTALLMENT', false);
  check('standingInstruction.source', (v) => ['CIT', 'MIT'].includes(v), 'must be CIT or MIT', false);
  return errors;
}
