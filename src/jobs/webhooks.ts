/**
 * The outbound webhook job (SPEC §7): fan new outbox events out to endpoints, then post due deliveries.
 *
 * Retry policy: a delivery that is not answered 2xx within 10 s (an error, a timeout, a redirect, any
 * other status) is retried after PAYRAIL_WEBHOOK_BACKOFF_MS × 2^(attempts−1), at most 6 hours apart,
 * and given up ('failed') after PAYRAIL_WEBHOOK_MAX_ATTEMPTS attempts (defaults: 10 s doubling, 12
 * attempts, about 5 h 41 min in all). A worker that dies mid-run loses nothing: an event is dispatched
 * again if its transaction did not commit, and a claimed delivery is due again when its 2-minute lease
 * runs out. Delivery is at least once; receivers dedupe on `payrail-event-id`.
 */
import type { AppContext } from '../context.ts';
import { deliverWebhooks } from '../modules/webhooks/deliver-webhooks.ts';
import { dispatchEvents } from '../modules/webhooks/dispatch-events.ts';

export async function runWebhookJobs(ctx: AppContext, now = ctx.clock()): Promise<{ dispatched: number; attempted: number }> {
  const dispatched = await dispatchEvents(ctx, { now });
  const attempted = await deliverWebhooks(ctx, { now });
  return { dispatched, attempted };
}

export const BATCH = 50;

/** One run: how many events were fanned out or deliveries attempted (a full batch runs again at once). */
export async function runWebhooks(ctx: AppContext): Promise<number> {
  const r = await runWebhookJobs(ctx);
  return Math.max(r.dispatched, r.attempted);
}
