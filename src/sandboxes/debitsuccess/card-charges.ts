import { randomInt } from 'node:crypto';
import { and, eq, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { App } from '../../http/route-kit.ts';
import type { LedgerRow, SandboxContext } from '../kit/kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { accountByReference, ensureReservedAccounts } from './accounts.ts';
import type { CardResult } from './detail-check.ts';
import { amountCents, PROVIDER, rand } from './merchant.ts';
import { authorised, validation } from './rest-auth.ts';

/**
 * Card charges over the REST API, `POST /payments/v1.0/account/creditcard` and
 * `GET /payments/v1.0/account/creditcard/{externalPaymentIdentifier}`: the merchant charges the card stored on a
 * customer's account (by the PayNow form). The stored card's outcome decides: 201 authorised or declined, or
 * 202 processing for the gateway-failure card (…0259), declined "GATEWAY ERROR" once 30 s have passed by the
 * sandbox clock. A reused externalPaymentIdentifier is 409, whatever became of the first charge.
 *
 * No table of its own: each charge is its ledger row (kit transactions, kind `token`, id = paymentId,
 * merchant_reference = externalPaymentIdentifier, the API's status and declineReason in `details`). A processing
 * row turns declined when it is read: by GET of the charge, or of the ledger (`GET /transactions`).
 */
export const CARD_CHARGES_PATH = '/payments/v1.0/account/creditcard';
/** How long the gateway-failure card's charge stays processing. */
export const PROCESSING_MS = 30_000;
const KIND = 'token';
const MAX_CENTS = 200_000;

export type ChargeStatus = 'authorised' | 'declined' | 'declined_insufficient_funds' | 'processing';
type Outcome = { status: ChargeStatus; declineReason: string | null; ledger: 'approved' | 'declined' | 'pending' };

/** What charging a stored card does, by the outcome stored with it (pay-now.ts, `cardResult`). */
const OUTCOMES: Record<CardResult, Outcome> = {
  approve: { status: 'authorised', declineReason: null, ledger: 'approved' },
  decline: { status: 'declined', declineReason: 'DO NOT HONOUR', ledger: 'declined' },
  insufficient_funds: { status: 'declined_insufficient_funds', declineReason: 'INSUFFICIENT FUNDS', ledger: 'declined' },
  unavailable: { status: 'processing', declineReason: null, ledger: 'pending' },
};
const GATEWAY_ERROR = 'GATEWAY ERROR';

/** The ledger row's `details` of a card charge. */
interface ChargeDetails {
  accountId: string;
  status: ChargeStatus;
  declineReason: string | null;
  paymentNote: string | null;
}

/** The ledger's result code and description of a charge: the API's status, and the decline reason. */
const ledgerResult = (o: { status: ChargeStatus; declineReason: string | null }) => ({
  resultCode: o.status,
  resultDescription: o.declineReason ?? (o.status === 'processing' ? 'Processing' : 'Authorised'),
});

/** The answer of POST and GET: the charge as the ledger row holds it. */
function chargeBody(row: LedgerRow) {
  const d = row.details as ChargeDetails;
  return {
    paymentId: row.id,
    externalPaymentIdentifier: row.merchantReference,
    accountId: d.accountId,
    amount: Number(rand(row.amountCents)),
    status: d.status,
    declineReason: d.declineReason,
    cardLast4: row.cardLast4,
    createdDateTime: row.createdAt.toISOString(),
  };
}

async function findCharge(db: Executor, identifier: string): Promise<LedgerRow | null> {
  const t = sandboxTransactions;
  const [row] = await db.select().from(t).where(and(eq(t.provider, PROVIDER), eq(t.kind, KIND), eq(t.merchantReference, identifier))).limit(1);
  return row ?? null;
}

/** Processing charges 30 s old (by the sandbox clock) become declined "GATEWAY ERROR": the one named, or every one. */
export async function settleProcessingCharges(db: Executor, now: Date, identifier?: string): Promise<void> {
  const t = sandboxTransactions;
  const where = [eq(t.provider, PROVIDER), eq(t.kind, KIND), eq(t.status, 'pending'), sql`${t.details}->>'status' = 'processing'`, lte(t.createdAt, new Date(now.getTime() - PROCESSING_MS))];
  if (identifier !== undefined) where.push(eq(t.merchantReference, identifier));
  const declined = { status: 'declined', declineReason: GATEWAY_ERROR } as const;
  await db
    .update(t)
    .set({ status: 'declined', ...ledgerResult(declined), details: sql`${t.details} || ${JSON.stringify(declined)}::jsonb` })
    .where(and(...where));
}

/** A string field, as given; null when absent, not a string, or blank. */
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

export function registerCardCharges(scope: App, ctx: SandboxContext): void {
  const db = ctx.database.db;

  scope.post(CARD_CHARGES_PATH, async (request, reply) => {
    if (!authorised(ctx, request, reply)) return reply;
    const now = ctx.clock();
    const raw = request.body;
    const body = (raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
    const accountId = str(body.accountId)?.trim() ?? null;
    const identifier = str(body.externalPaymentIdentifier);
    const amount = amountCents(body.amount);
    const note = typeof body.paymentNote === 'string' ? body.paymentNote : null;
    const errors: { field: string; message: string }[] = [];
    if (accountId === null) errors.push({ field: 'accountId', message: 'Required: the account’s AccountReferenceNo.' });
    if (identifier === null || identifier.length > 50) errors.push({ field: 'externalPaymentIdentifier', message: 'Required, 1 to 50 characters.' });
    if (amount === null || amount < 1 || amount > MAX_CENTS) errors.push({ field: 'amount', message: 'An amount from 0.01 to 2000.00, with at most 2 decimals.' });
    if (body.paymentNote !== undefined && body.paymentNote !== null && (note === null || note.length > 30)) errors.push({ field: 'paymentNote', message: 'A string of at most 30 characters.' });
    if (errors.length > 0) return validation(reply, errors);

    await ensureReservedAccounts(ctx);
    const account = await accountByReference(db, accountId!);
    if (!account) return reply.status(404).send({ errorCode: 'not_found', message: 'There is no account with this reference.' });
    if (account.status !== 'Active') return validation(reply, [{ field: 'accountId', message: 'Account is not active' }]);
    if (account.payMethodType !== 'CreditCard') return validation(reply, [{ field: 'accountId', message: 'The account has no card stored to charge.' }]);
    // A card stored before outcomes were kept with it approves.
    const stored = (account.payMethodDetails as { cardResult?: string } | null)?.cardResult;
    const outcome = stored !== undefined && Object.hasOwn(OUTCOMES, stored) ? OUTCOMES[stored as CardResult] : OUTCOMES.approve;

    const created = await ctx.database.transaction(async ({ db: tx }) => {
      // One charge per identifier: requests with the same one wait here for each other.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`debitsuccess:creditcard:${identifier}`}))`);
      if (await findCharge(tx, identifier!)) return null;
      const details: ChargeDetails = { accountId: account.accountReferenceNo, status: outcome.status, declineReason: outcome.declineReason, paymentNote: note };
      for (let attempt = 0; attempt < 5; attempt++) {
        const [row] = await tx
          .insert(sandboxTransactions)
          .values({
            id: `CC${randomInt(100_000_000, 1_000_000_000)}`, provider: PROVIDER, merchantReference: identifier, kind: KIND, token: account.payMethodToken, amountCents: amount!,
            status: outcome.ledger, ...ledgerResult(outcome), cardLast4: account.payMethodLast4, details, createdAt: now,
          })
          .onConflictDoNothing()
          .returning();
        if (row) return row;
      }
      throw new Error('Debitsuccess sandbox: no free card paymentId after 5 draws');
    });
    if (!created) return reply.status(409).send({ errorCode: 'conflict', message: 'A card payment with this externalPaymentIdentifier already exists.' });
    return reply.status(outcome.status === 'processing' ? 202 : 201).send(chargeBody(created));
  });

  scope.get(`${CARD_CHARGES_PATH}/:externalPaymentIdentifier`, async (request, reply) => {
    if (!authorised(ctx, request, reply)) return reply;
    const identifier = (request.params as { externalPaymentIdentifier: string }).externalPaymentIdentifier;
    await settleProcessingCharges(db, ctx.clock(), identifier);
    const row = await findCharge(db, identifier);
    if (!row) return reply.status(404).send({ errorCode: 'not_found', message: 'There is no card payment with this externalPaymentIdentifier.' });
    return reply.status(200).send(chargeBody(row));
  });

  // The ledger shows a processing charge as declined once its 30 s have passed, as GET of the charge does.
  scope.addHook('preHandler', async (request) => {
    if (request.method === 'GET' && request.routeOptions.url === `${scope.prefix}/transactions`) await settleProcessingCharges(db, ctx.clock());
  });
}
