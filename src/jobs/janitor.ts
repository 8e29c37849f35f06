/**
 * The janitor job: settles collection attempts still `pending` or `unknown` by asking their provider.
 *
 * Retry policy: an attempt is first asked about its connector's `firstCheckAfterMs` after it started
 * (PAYRAIL_JANITOR_FIRST_CHECK_MS overrides), then again as long as it stays unsettled: 15 s (unknown) or
 * 60 s (pending), doubling per check, at most hourly. A look-up that fails (the provider did not answer) is
 * retried after 15 s, 30 s, 1 min … at most hourly. A provider's look-up allowance is kept across processes
 * (call-slots). A claim is a 2-minute lease: a janitor that dies mid-batch leaves its attempts due again.
 */
import type { AppContext } from '../context.ts';
import { settleUnsettledPayments } from '../modules/payments/settle-unsettled-payments.ts';

export const BATCH = 25;

export async function runJanitor(ctx: AppContext): Promise<number> {
  return (await settleUnsettledPayments(ctx, { limit: BATCH })).checked;
}
