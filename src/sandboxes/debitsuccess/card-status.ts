import { and, eq } from 'drizzle-orm';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxSessions, sandboxTransactions } from '../kit/schema.ts';
import { ensureReservedAccounts, findAccount } from './accounts.ts';
import { envelope, errorNote, PROVIDER, text, validUser } from './merchant.ts';
import { usableUntil } from './pay-now.ts';

/**
 * `POST /DSAPI/GetCardPaymentStatusForCustomerAccount`: the outcome of a hosted-form payment. GetPaymentToken
 * hands out no ExternalTransactionIdentifier, so the sandbox's choice is the Token: the token is the
 * identifier of the payment made with it.
 */
export type TransactionStatus = 'Processing' | 'StatusRequired' | 'Declined' | 'Authorised' | 'Requires3ds';

export function registerCardStatus(scope: App, ctx: SandboxContext): void {
  const none = { TransactionStatus: null };
  scope.post('/DSAPI/GetCardPaymentStatusForCustomerAccount', async (request) => {
    const now = ctx.clock();
    const m = (request.body ?? {}) as Record<string, unknown>;
    if (typeof m !== 'object' || !validUser(m.User)) return envelope(now, [errorNote('02')], none);
    await ensureReservedAccounts(ctx);
    const found = await findAccount(ctx.database.db, { accountReferenceNo: text(m.AccountReferenceNo), externalAccountReferenceNo: text(m.ExternalAccountReferenceNo) }, false, now);
    if (!found.ok) return envelope(now, [errorNote(found.code)], none);
    const id = text(m.ExternalTransactionIdentifier);
    const s = sandboxSessions;
    const [session] = id === null ? [] : await ctx.database.db.select().from(s).where(and(eq(s.provider, PROVIDER), eq(s.id, id), eq(s.merchantReference, found.account.accountReferenceNo))).limit(1);
    if (!session) return envelope(now, [errorNote('08')], none);
    const [payment] = session.transactionId
      ? await ctx.database.db.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.id, session.transactionId))).limit(1)
      : [];
    let status: TransactionStatus;
    if (payment) status = payment.status === 'approved' ? 'Authorised' : 'Declined';
    // Open and still usable: the customer may yet pay. Ended without a payment: nobody can say more.
    else if (session.status === 'open' && usableUntil(session) > now) status = 'Processing';
    else status = 'StatusRequired';
    return envelope(now, [], { TransactionStatus: status });
  });
}
