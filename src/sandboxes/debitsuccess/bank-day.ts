import { randomUUID } from 'node:crypto';
import { and, eq, lte, sql } from 'drizzle-orm';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { DEBITSUCCESS_SANDBOX_MERCHANT as MERCHANT, PROVIDER, rand } from './merchant.ts';
import { debitsuccessAccounts, debitsuccessDebitOrders, debitsuccessPaymentStatuses, debitsuccessState } from './schema.ts';
import { readState } from './state.ts';
import { facilityWebhookUrl, kickWebhooks, storeWebhooks, type Webhook } from './webhooks.ts';

/**
 * The bank day. A debit order is Pending on the day it is submitted; each later bank day moves it one step:
 * 1234567890 (`clears`) Cleared, then Settled; 1111111111 (`fails`) Failed "Insufficient funds";
 * 2222222222 (`returns`) Cleared, Settled, then Failed with `returned` (the bank returned it unpaid).
 */
type Step = { status: string; reason: string | null; returned: boolean; last: boolean };
const NEXT: Record<string, Record<string, Step>> = {
  clears: { Pending: { status: 'Cleared', reason: null, returned: false, last: false }, Cleared: { status: 'Settled', reason: null, returned: false, last: true } },
  fails: { Pending: { status: 'Failed', reason: 'Insufficient funds', returned: false, last: true } },
  returns: {
    Pending: { status: 'Cleared', reason: null, returned: false, last: false },
    Cleared: { status: 'Settled', reason: null, returned: false, last: false },
    Settled: { status: 'Failed', reason: 'Returned unpaid: disputed by the account holder', returned: true, last: true },
  },
};
const LEDGER: Record<string, 'pending' | 'approved' | 'declined'> = { Pending: 'pending', Cleared: 'approved', Settled: 'approved', Failed: 'declined' };

/**
 * Moves to the next bank day and every debit order due on it, in one transaction. With `everyMs`, only when
 * that long has passed since the last move (so processes sharing the database advance it once).
 */
export async function advanceBankDay(ctx: SandboxContext, everyMs?: number): Promise<{ bankDay: number; changed: { paymentId: string; status: string }[] } | null> {
  const now = ctx.clock();
  const url = await facilityWebhookUrl(ctx);
  const result = await ctx.database.transaction(async ({ db }) => {
    const state = await readState(db, now, true);
    if (everyMs !== undefined && state.bankDayAt.getTime() + everyMs > now.getTime()) return null;
    const day = state.bankDay + 1;
    await db.update(debitsuccessState).set({ bankDay: day, bankDayAt: now, updatedAt: now }).where(eq(debitsuccessState.id, 1));
    const due = await db
      .select({ order: debitsuccessDebitOrders, external: debitsuccessAccounts.externalAccountReferenceNo })
      .from(debitsuccessDebitOrders)
      .leftJoin(debitsuccessAccounts, eq(debitsuccessAccounts.accountReferenceNo, debitsuccessDebitOrders.accountReferenceNo))
      .where(lte(debitsuccessDebitOrders.nextBankDay, day))
      // No row locks needed: the state row, locked above, lets one advance run at a time.
      .orderBy(debitsuccessDebitOrders.createdAt, debitsuccessDebitOrders.id);
    const changed: { paymentId: string; status: string }[] = [];
    const webhooks: Webhook[] = [];
    for (const { order, external } of due) {
      const step = NEXT[order.outcome]?.[order.status];
      if (!step) continue;
      await db
        .update(debitsuccessDebitOrders)
        .set({ status: step.status, returned: step.returned, nextBankDay: step.last ? null : day + 1, updatedAt: now })
        .where(eq(debitsuccessDebitOrders.id, order.id));
      await db.insert(debitsuccessPaymentStatuses).values({ paymentId: order.id, status: step.status, reason: step.reason, returned: step.returned, bankDay: day, occurredAt: now });
      await db
        .update(sandboxTransactions)
        .set({ status: LEDGER[step.status]!, resultCode: step.returned ? 'Returned' : step.status, resultDescription: step.reason ?? step.status, details: sql`${sandboxTransactions.details} || ${JSON.stringify({ [`bankDay${step.status}${step.returned ? 'Returned' : ''}`]: day })}::jsonb` })
        .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.id, order.id)));
      changed.push({ paymentId: order.id, status: step.status });
      webhooks.push({
        headers: { 'X-Token': MERCHANT.webhookXToken, 'X-EventName': 'Account.Payment.StatusChanged', 'X-TraceId': randomUUID() },
        body: {
          PaymentId: order.id,
          ExternalPaymentIdentifier: order.externalPaymentIdentifier,
          AccountReference: order.accountReferenceNo,
          ExternalAccountReference: external,
          ContractPrefix: MERCHANT.contractPrefix,
          Amount: Number(rand(order.amountCents)),
          Status: step.status,
          StatusReason: step.reason,
          IsReturn: step.returned,
          StatusDateTime: now.toISOString(),
        },
      });
    }
    await storeWebhooks(ctx, db, url, webhooks, now);
    return { bankDay: day, changed };
  });
  if (result && result.changed.length > 0) kickWebhooks(ctx);
  return result;
}

export function registerBankDay(scope: App, ctx: SandboxContext): void {
  scope.get('/bank-day', async () => {
    const state = await readState(ctx.database.db, ctx.clock());
    return { bankDay: state.bankDay, since: state.bankDayAt.toISOString(), everyMs: ctx.config.sandboxes.bankDayMs || null };
  });
  scope.post('/bank-day', async () => advanceBankDay(ctx));
}

/** PAYRAIL_SANDBOX_BANK_DAY_MS: the bank day moves by itself; returns the stop function. */
export function startBankDayTimer(ctx: SandboxContext): () => void {
  const every = ctx.config.sandboxes.bankDayMs;
  if (!every) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void advanceBankDay(ctx, every)
      .catch((err: unknown) => ctx.log.warn({ err }, 'Debitsuccess sandbox: the bank day could not advance'))
      .finally(() => (running = false));
  }, Math.min(every, 1_000)).unref();
  return () => clearInterval(timer);
}
