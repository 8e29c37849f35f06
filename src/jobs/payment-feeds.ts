/**
 * The payment-feeds job: reads each provider's feed of payment results (Debitsuccess's payment statuses) on
 * the connector's schedule (`timing.feedEveryMs`, a minute for Debitsuccess) — only while the provider has
 * token charges in flight and for `timing.feedWatchMs` after (40 days for Debitsuccess) — and applies every entry about
 * payrail's attempts: results a disabled webhook never delivered, and returns after success. Retry policy:
 * a failed read is tried again after 30 s, then every minute while reads keep failing (the bookmark is
 * unchanged, so nothing is skipped); a claim is leased one read at a time (25 provider timeouts and a
 * minute), so a crashed reader's feed is taken up again.
 */
import type { AppContext } from '../context.ts';
import { readPaymentFeeds } from '../modules/payments/payment-feeds.ts';

export const BATCH = 1;

/** 1 while a feed has more entries waiting (the runner reads again at once), else 0. */
export async function runPaymentFeeds(ctx: AppContext): Promise<number> {
  return (await readPaymentFeeds(ctx)).more ? 1 : 0;
}
