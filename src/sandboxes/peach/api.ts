import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { SandboxContext } from '../kit/kit.ts';
import type { App } from '../../http/route-kit.ts';
import { formatRand, loseResponse, type LedgerRow, parseRand } from '../kit/kit.ts';
import { sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import { settleIfDue } from './late-success.ts';
import {
  DECLINES,
  HEX32,
  ISSUER_TEXT,
  PROVIDER,
  RESULTS,
  bearerOk,
  brandOf,
  newId,
  peachError,
  sandboxMerchant,
  stringFields,
  type PaymentDetails,
  type StandingInstruction,
} from './shared.ts';
import { createThrottle } from './throttle.ts';

/**
 * The Payments API on Peach's card host (`/sandbox/peach-card`), the provider's side: charging a
 * registration (a card stored by a checkout) with its standing instruction, and looking payments up by
 * merchantTransactionId. Bearer access token on every call. Approvals answer 200, declines 400 with the
 * bank's 800.100.* result (as Peach's Payments API does). A repeated merchantTransactionId is a new
 * payment: Peach publishes no deduplication on it.
 */
export function apiRoutes(scope: App, ctx: SandboxContext): void {
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
    const standingInstruction: StandingInstruction = {
      mode: fields['standingInstruction.mode']!,
      type: fields['standingInstruction.type']!,
      source: fields['standingInstruction.source']!,
      ...(fields['standingInstruction.initialTransactionId'] !== undefined ? { initialTransactionId: fields['standingInstruction.initialTransactionId'] } : {}),
    };
    if (standingInstruction.initialTransactionId !== undefined && !(await initialPaymentOf(ctx, registrationId, standingInstruction.initialTransactionId))) {
      return peachError(reply, 400, RESULTS.invalidParameter, [
        { name: 'standingInstruction.initialTransactionId', value: standingInstruction.initialTransactionId, message: 'is not an approved payment of this registration' },
      ]);
    }

    const row = {
      provider: PROVIDER,
      merchantReference: fields.merchantTransactionId!,
      token: registrationId,
      kind: 'token',
      amountCents: parseRand(fields.amount)!,
      currency: 'ZAR',
      cardBin: card.cardBin,
      cardLast4: card.cardLast4,
      details: {
        paymentType: fields.paymentType!,
        paymentBrand: brandOf(card.cardBin),
        holder: card.holder,
        expiryMonth: card.expiryMonth,
        expiryYear: card.expiryYear,
        standingInstruction,
      } satisfies PaymentDetails,
      createdAt: ctx.clock(),
    };
    // Test card …0259: the registration's first charge is refused (nothing charged); payrail's next attempt
    // comes with a new merchantTransactionId, so it is the registration that remembers.
    if (card.outcome === 'unavailable_once' && !(await chargedBefore(ctx, registrationId))) {
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
    // Every other outcome approves (a registration of card …0077 cannot be made; one written by hand approves).
    const [payment] = await ctx.database.db
      .insert(sandboxTransactions)
      .values({ ...row, id: newId(), status: 'approved', resultCode: RESULTS.approved.code, resultDescription: RESULTS.approved.description })
      .returning();
    if (card.outcome === 'lost_response') return loseResponse(reply, ctx.config.sandboxes.lostResponseAfterMs);
    return paymentJson(payment!);
  });

  const throttled = createThrottle(ctx);
  scope.get('/v1/query', async (request, reply) => {
    const merchant = sandboxMerchant(ctx);
    if (!bearerOk(request, merchant.access_token)) return peachError(reply, 401, RESULTS.unauthorised);
    const query = stringFields(request.query);
    const merchantTransactionId = query?.merchantTransactionId;
    if (!query || !query.entityId || !merchantTransactionId || merchantTransactionId.length > 255) {
      return peachError(reply, 400, RESULTS.invalidParameter, [{ name: 'query', message: 'entityId and merchantTransactionId are required, once each' }]);
    }
    if (query.entityId !== merchant.entity_id) return peachError(reply, 401, RESULTS.unauthorised);
    const refused = throttled(reply, query.entityId);
    if (refused) return refused;
    // Requests refused with 503 never became payments, so they are not found.
    const rows = await ctx.database.db
      .select()
      .from(sandboxTransactions)
      .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.merchantReference, merchantTransactionId), inArray(sandboxTransactions.status, ['approved', 'declined', 'pending'])))
      .orderBy(asc(sandboxTransactions.createdAt), asc(sandboxTransactions.id));
    const payments = await Promise.all(rows.map((r) => settleIfDue(ctx, r)));
    return { result: payments.length > 0 ? RESULTS.querySucceeded : RESULTS.noTransaction, payments: payments.map(paymentJson), timestamp: ctx.clock().toISOString(), ndc: newId() };
  });
}

/**
 * The payment a standing instruction cites: an approved payment of this sandbox that stored the
 * registration (its checkout) or charged it.
 */
async function initialPaymentOf(ctx: SandboxContext, registrationId: string, paymentId: string): Promise<boolean> {
  const rows = await ctx.database.db
    .select({ id: sandboxTransactions.id })
    .from(sandboxTransactions)
    .where(
      and(
        eq(sandboxTransactions.provider, PROVIDER),
        eq(sandboxTransactions.id, paymentId),
        eq(sandboxTransactions.status, 'approved'),
        or(eq(sandboxTransactions.token, registrationId), sql`${sandboxTransactions.details}->>'registrationId' = ${registrationId}`),
      ),
    )
    .limit(1);
  return rows.length > 0;
}

async function chargedBefore(ctx: SandboxContext, registrationId: string): Promise<boolean> {
  const rows = await ctx.database.db
    .select({ id: sandboxTransactions.id })
    .from(sandboxTransactions)
    .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.token, registrationId)))
    .limit(1);
  return rows.length > 0;
}

/** A ledger row as the Payments API describes a payment (a refund: with the payment it refunds, `referencedId`). */
export function paymentJson(row: LedgerRow) {
  const d = row.details as Partial<PaymentDetails>;
  const issuer = ISSUER_TEXT[row.resultCode];
  return {
    id: row.id,
    ...(d.refunded_transaction_id ? { referencedId: d.refunded_transaction_id } : {}),
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
    ...(d.standingInstruction ? { standingInstruction: d.standingInstruction } : {}),
    // Peach writes its API timestamps as "2025-01-31 10:00:00+0000".
    timestamp: row.createdAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '+0000'),
    ndc: newId(),
  };
}

/** The documented fields of a payment over a registration; a standing instruction is required. */
function paymentErrors(f: Record<string, string>): { name: string; message: string }[] {
  const errors: { name: string; message: string }[] = [];
  const check = (name: string, ok: (v: string) => boolean, message: string, required = true) => {
    const v = f[name];
    if (v === undefined ? required : !ok(v)) errors.push({ name, message: v === undefined ? 'is required' : message });
  };
  check('entityId', (v) => HEX32.test(v), 'must be 32 lower-case hex characters');
  check('amount', (v) => /^[0-9]{1,10}\.[0-9]{2}$/.test(v) && (parseRand(v) ?? 0) > 0, 'must be a positive amount with 2 decimals');
  check('currency', (v) => v === 'ZAR', 'must be ZAR');
  check('paymentType', (v) => v === 'DB' || v === 'PA', 'must be DB or PA');
  check('merchantTransactionId', (v) => v.length >= 8 && v.length <= 255, 'must be 8 to 255 characters');
  check('standingInstruction.mode', (v) => ['INITIAL', 'REPEATED'].includes(v), 'must be INITIAL or REPEATED');
  check('standingInstruction.type', (v) => ['UNSCHEDULED', 'RECURRING', 'INSTALLMENT'].includes(v), 'must be UNSCHEDULED, RECURRING or INSTALLMENT');
  check('standingInstruction.source', (v) => ['CIT', 'MIT'].includes(v), 'must be CIT or MIT');
  check('standingInstruction.initialTransactionId', (v) => HEX32.test(v), 'must be a payment id (32 lower-case hex characters)', false);
  return errors;
}
