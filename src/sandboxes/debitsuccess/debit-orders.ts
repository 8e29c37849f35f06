import { randomInt } from 'node:crypto';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { accountByReference } from './accounts.ts';
import { amountCents, PROVIDER, rand, text } from './merchant.ts';
import { authorised, validation } from './rest-auth.ts';
import { debitsuccessDebitOrders, debitsuccessPaymentStatuses } from './schema.ts';
import { readState } from './state.ts';

/**
 * `POST /CustomerServices/v1.0/accounts/{accountReferenceNo}/debitOrders`: a one-off debit order of an amount
 * against the bank account stored on the account. Answers 201 Pending at once; the bank days decide the rest
 * (bank-day.ts). A reused externalPaymentIdentifier is refused with 409, whatever became of the first.
 */
export function registerDebitOrders(scope: App, ctx: SandboxContext): void {
  scope.post('/CustomerServices/v1.0/accounts/:accountId/debitOrders', async (request, reply) => {
    if (!authorised(ctx, request, reply)) return reply;
    const now = ctx.clock();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const identifier = text(body.externalPaymentIdentifier);
    const amount = amountCents(body.amount);
    const note = body.paymentNote === undefined || body.paymentNote === null ? null : text(body.paymentNote);
    const errors: { field: string; message: string }[] = [];
    if (identifier === null || identifier.length > 50) errors.push({ field: 'externalPaymentIdentifier', message: 'Required, at most 50 characters.' });
    if (amount === null || amount < 1) errors.push({ field: 'amount', message: 'A positive amount with at most 2 decimals.' });
    if (note !== null && note.length > 30) errors.push({ field: 'paymentNote', message: 'At most 30 characters.' });
    if (errors.length > 0) return validation(reply, errors);
    const account = await accountByReference(ctx.database.db, (request.params as { accountId: string }).accountId);
    if (!account) return reply.status(404).send({ errorCode: 'not_found', message: 'There is no account with this reference.' });
    if (account.status !== 'Active') return validation(reply, [{ field: 'accountId', message: 'Account is not active' }]);
    if (account.payMethodType !== 'BankAccount' || account.bankOutcome === null) return validation(reply, [{ field: 'accountId', message: 'The account has no bank account to debit.' }]);

    const created = await ctx.database.transaction(async ({ db }) => {
      const state = await readState(db, now);
      const id = `DO${randomInt(100_000_000, 1_000_000_000)}`;
      const [order] = await db
        .insert(debitsuccessDebitOrders)
        .values({ id, externalPaymentIdentifier: identifier!, accountReferenceNo: account.accountReferenceNo, amountCents: amount!, outcome: account.bankOutcome!, status: 'Pending', submittedBankDay: state.bankDay, nextBankDay: state.bankDay + 1, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .returning();
      if (!order) return null;
      await db.insert(sandboxTransactions).values({
        id, provider: PROVIDER, merchantReference: identifier, kind: 'debit_order', amountCents: amount!, status: 'pending', resultCode: 'Pending', resultDescription: 'Pending',
        details: { accountReference: account.accountReferenceNo, bankAccountLast4: account.payMethodLast4, paymentNote: note, submittedBankDay: state.bankDay }, createdAt: now,
      });
      await db.insert(debitsuccessPaymentStatuses).values({ paymentId: id, status: 'Pending', bankDay: state.bankDay, occurredAt: now });
      return order;
    });
    if (!created) return reply.status(409).send({ errorCode: 'conflict', message: 'A payment with this externalPaymentIdentifier already exists.' });
    return reply.status(201).send({
      paymentId: created.id,
      externalPaymentIdentifier: created.externalPaymentIdentifier,
      accountReference: created.accountReferenceNo,
      amount: Number(rand(created.amountCents)),
      status: created.status,
      bankAccountLast4: account.payMethodLast4,
      bankDay: created.submittedBankDay,
      createdDateTime: now.toISOString(),
    });
  });
}
