import { and, eq } from 'drizzle-orm';
import type { LedgerRow, SandboxContext } from '../kit/kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { PROVIDER, RESULTS, checkoutFields, loadCheckout, paramsOf, sandboxMerchant, type PaymentDetails } from './shared.ts';
import { sendWebhook } from './webhook.ts';

/**
 * Test card …0077: Peach documents checkouts that end "Cancelled by user" (100.396.101) and turn
 * successful afterwards. The payment is recorded `pending` with the cancelled result; once
 * `PAYRAIL_SANDBOX_PEACH_LATE_SUCCESS_MS` has passed it is approved (000.100.110) and a second webhook
 * tells the merchant. Whoever notices first makes the change, once: a read of the payment (`/status`,
 * `/v1/query`) when `ctx.clock()` says it is due, or the timer armed at the submit.
 */
export const isDue = (ctx: SandboxContext, payment: LedgerRow): boolean =>
  payment.createdAt.getTime() + ctx.config.sandboxes.peachLateSuccessMs <= ctx.clock().getTime();

/** The payment as it stands now: approved (and the merchant told) when its late success is due. */
export async function settleIfDue(ctx: SandboxContext, payment: LedgerRow, force = false): Promise<LedgerRow> {
  const details = payment.details as PaymentDetails;
  if (payment.status !== 'pending' || details.lateSuccess !== true || !(force || isDue(ctx, payment))) return payment;
  const now = ctx.clock();
  const [settled] = await ctx.database.db
    .update(sandboxTransactions)
    .set({ status: 'approved', resultCode: RESULTS.approved.code, resultDescription: RESULTS.approved.description, details: { ...details, settledAt: now.toISOString() } })
    .where(and(eq(sandboxTransactions.id, payment.id), eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.status, 'pending')))
    .returning();
  if (!settled) {
    // Someone else settled it a moment ago: answer with what they wrote, and send nothing more.
    const [current] = await ctx.database.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.id, payment.id)).limit(1);
    return current ?? payment;
  }
  await notifySuccess(ctx, settled);
  return settled;
}

/**
 * Armed at the submit, in this process's memory: a restart loses it, and then the change (and its webhook)
 * happens at the next read of the payment instead.
 */
export function armLateSuccess(ctx: SandboxContext, paymentId: string): void {
  const fire = async () => {
    const [payment] = await ctx.database.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.id, paymentId)).limit(1);
    if (payment) await settleIfDue(ctx, payment, true);
  };
  setTimeout(() => void fire().catch((err: unknown) => ctx.log.warn({ err, paymentId }, 'Peach sandbox: a late success could not be recorded')), ctx.config.sandboxes.peachLateSuccessMs).unref();
}

async function notifySuccess(ctx: SandboxContext, payment: LedgerRow): Promise<void> {
  const session = payment.sessionId ? await loadCheckout(ctx, payment.sessionId) : null;
  const url = session ? paramsOf(session).notificationUrl : undefined;
  if (!session || !url) return;
  const fields = checkoutFields(session, payment, RESULTS.approved, ctx.clock(), sandboxMerchant(ctx).secret_token);
  await sendWebhook(ctx, url, fields);
}
