/**
 * The refunds job: sends refunds not yet sent, and asks the provider about those pending or unknown (30 s
 * after a check, doubling, at most hourly); a refund the provider says it has no record of is sent again,
 * with the same reference, only after four checks. A claim is a 2-minute lease.
 */
import type { AppContext } from '../context.ts';
import { workRefunds } from '../modules/refunds/work-refunds.ts';

export const BATCH = 25;

export const runRefunds = (ctx: AppContext): Promise<number> => workRefunds(ctx, { limit: BATCH });
