/**
 * The callbacks job: processes provider callbacks that were stored but not processed — the process died
 * after storing one, processing failed, or the provider could not confirm it yet.
 *
 * Retry policy: a callback is processed in its request (or right after answering it); the job takes it
 * 30 s after it arrived if that did not finish. One the provider could not confirm yet (PayFast's validate
 * service answering HTML, or not answering) is tried again after 30 s, 1 min, 2 min … at most hourly, for
 * 24 hours, then rejected. A claim is a 2-minute lease.
 */
import type { AppContext } from '../context.ts';
import { processDueCallbacks } from '../modules/payments/provider-callbacks.ts';

export const BATCH = 25;

export function runCallbacks(ctx: AppContext): Promise<number> {
  return processDueCallbacks(ctx, { limit: BATCH });
}
