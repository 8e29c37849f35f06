/**
 * The captures job: asks the provider about bank accounts and cards captured without a payment whose
 * customer has not come back (SPEC §11). Retry policy: first a minute after the capture starts, then at
 * twice the capture's age, at most hourly; a claim is a 2-minute lease. A capture ends once the provider's
 * form token is used or expired, so none stays open.
 */
import type { AppContext } from '../context.ts';
import { checkOpenCaptures } from '../modules/mediums/capture-medium.ts';

export const BATCH = 25;

export async function runCaptures(ctx: AppContext): Promise<number> {
  return checkOpenCaptures(ctx, { limit: BATCH });
}
