/**
 * The vends job (SPEC §12): sends the vend of every paid utility purchase, and retries those whose outcome is
 * unknown with the same request id (5 s, then doubling, at most every 10 minutes, until the vendor gives a
 * final answer); a claim is leased for the provider timeout and 10 s more (PAYRAIL_PROVIDER_TIMEOUT_MS), after which a crashed worker's vend is retried. Also the vendor's
 * advices (confirmations), store-and-forward: resent after 10 s, doubling, at most every 30 minutes, until a
 * final answer.
 */
import type { AppContext } from '../context.ts';
import { workVendAdvices } from '../modules/utility/advices.ts';
import { workVends } from '../modules/utility/vend.ts';

export const BATCH = 25;

export const runVends = (ctx: AppContext): Promise<number> => workVends(ctx, { limit: BATCH });
export const runVendAdvices = (ctx: AppContext): Promise<number> => workVendAdvices(ctx, { limit: BATCH });
