import { eq } from 'drizzle-orm';
import type { SandboxContext } from '../kit/kit.ts';
import type { App } from '../../http/route-kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { settleIfDue } from './late-success.ts';
import { RESULTS, checkoutFields, loadCheckout, paramsOf, peachError, sandboxMerchant, stateOf, stringFields } from './shared.ts';
import { createThrottle } from './throttle.ts';
import { signatureMatches } from '../../providers/peach/signature.ts';

/**
 * `GET /status?authentication.entityId=…&checkoutId=…&signature=…` (Checkout host): a signed request
 * answered with the redirect's fields, signed. An open checkout is pending (000.200.000); one that expired
 * or was cancelled unpaid answers 100.396.101 "Cancelled by user", as Peach reports an abandoned checkout.
 * Throttled per merchant (throttle.ts): beyond the allowance, 429 `800.120.100`.
 */
export function statusRoutes(scope: App, ctx: SandboxContext): void {
  const throttled = createThrottle(ctx);
  scope.get('/status', async (request, reply) => {
    const query = stringFields(request.query);
    const entityId = query?.['authentication.entityId'];
    const checkoutId = query?.checkoutId;
    if (!query || !entityId || !checkoutId || !query.signature) {
      return peachError(reply, 400, RESULTS.invalidParameter, [{ name: 'query', message: 'authentication.entityId, checkoutId and signature are required, once each' }]);
    }
    const merchant = sandboxMerchant(ctx);
    if (entityId !== merchant.entity_id || !signatureMatches(query, merchant.secret_token)) return peachError(reply, 401, RESULTS.unauthorised);
    const refused = throttled(reply, entityId);
    if (refused) return refused;
    const session = await loadCheckout(ctx, checkoutId);
    if (!session || paramsOf(session)['authentication.entityId'] !== entityId) {
      return peachError(reply, 404, { code: RESULTS.invalidParameter.code, description: 'no checkout found with the given checkoutId' });
    }
    const now = ctx.clock();
    const state = stateOf(session, now);
    if (state !== 'completed' || !session.transactionId) {
      return checkoutFields(session, null, state === 'open' ? RESULTS.pending : RESULTS.cancelled, now, merchant.secret_token);
    }
    const [found] = await ctx.database.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.id, session.transactionId)).limit(1);
    // Card …0077: a checkout reported cancelled turns successful once its time has come.
    const payment = found ? await settleIfDue(ctx, found) : null;
    const result = payment ? { code: payment.resultCode, description: payment.resultDescription } : RESULTS.pending;
    return checkoutFields(session, payment, result, now, merchant.secret_token);
  });
}
