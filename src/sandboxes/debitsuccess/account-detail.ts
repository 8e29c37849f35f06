import { and, eq } from 'drizzle-orm';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxSessions } from '../kit/schema.ts';
import { ensureReservedAccounts, findAccount } from './accounts.ts';
import { envelope, errorNote, PROVIDER, text, validUser } from './merchant.ts';
import { usableUntil } from './pay-now.ts';

/**
 * `POST /DSAPI/GetAccountPaymentDetail` (sandbox choice, README.md): the payment detail stored on an account
 * — its type, last digits, holder, bank or expiry, and the form token that stored it — and, for a form token
 * of the account, whether it is Open, Used or Expired. Seed 002 publishes GetPaymentToken and
 * GetCardPaymentStatusForCustomerAccount but no read of the stored detail; a merchant that captures a bank
 * account needs one to show "ending 7890", so the sandbox answers it in the seed's envelope and errors.
 */
export function registerAccountPaymentDetail(scope: App, ctx: SandboxContext): void {
  scope.post('/DSAPI/GetAccountPaymentDetail', async (request) => {
    const now = ctx.clock();
    const m = (request.body ?? {}) as Record<string, unknown>;
    const none = { AccountReferenceNo: null, ExternalAccountReferenceNo: null, AccountStatus: null, PayMethodType: null, LastDigits: null, AccountHolder: null, BankName: null, ExpiryDate: null, UpdatedByToken: null, TokenStatus: null };
    if (typeof m !== 'object' || !validUser(m.User)) return envelope(now, [errorNote('02')], none);
    const accountReferenceNo = text(m.AccountReferenceNo);
    const externalAccountReferenceNo = text(m.ExternalAccountReferenceNo);
    if (accountReferenceNo === null && externalAccountReferenceNo === null) return envelope(now, [errorNote('12016')], none);
    await ensureReservedAccounts(ctx);
    const found = await findAccount(ctx.database.db, { accountReferenceNo, externalAccountReferenceNo }, false, now);
    if (!found.ok) return envelope(now, [errorNote(found.code)], none);
    const account = found.account;
    const details = (account.payMethodDetails ?? {}) as Record<string, unknown>;
    const token = text(m.Token);
    let tokenStatus: 'Open' | 'Used' | 'Expired' | null = null;
    if (token !== null) {
      const [session] = await ctx.database.db
        .select()
        .from(sandboxSessions)
        .where(and(eq(sandboxSessions.provider, PROVIDER), eq(sandboxSessions.id, token), eq(sandboxSessions.merchantReference, account.accountReferenceNo)))
        .limit(1);
      if (session) tokenStatus = session.status === 'completed' ? 'Used' : session.status === 'open' && usableUntil(session) > now ? 'Open' : 'Expired';
    }
    return envelope(now, [], {
      AccountReferenceNo: account.accountReferenceNo,
      ExternalAccountReferenceNo: account.externalAccountReferenceNo,
      AccountStatus: account.status,
      PayMethodType: account.payMethodType,
      LastDigits: account.payMethodLast4,
      AccountHolder: typeof details.holder === 'string' ? details.holder : null,
      BankName: typeof details.bank === 'string' ? details.bank : null,
      ExpiryDate: typeof details.expiry === 'string' ? details.expiry : null,
      UpdatedByToken: typeof details.storedByToken === 'string' ? details.storedByToken : null,
      TokenStatus: tokenStatus,
    });
  });
}
