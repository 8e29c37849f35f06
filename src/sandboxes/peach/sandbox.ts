import type { SandboxModule } from '../kit/kit.ts';
import { registerLedgerRoute } from '../kit/kit.ts';
import { apiRoutes } from './api.ts';
import { checkoutRoutes } from './checkout.ts';
import { payRoutes } from './pay.ts';
import { PROVIDER } from './shared.ts';
import { statusRoutes } from './status.ts';

/**
 * Peach Payments, the provider's side, under /sandbox/peach: Hosted Checkout (initiate, card page,
 * redirect POST and webhook, status) and the Payments API over registrations. State lives in the
 * sandbox kit's tables; behaviour and every choice Peach leaves open are in README.md.
 */
export const peachSandbox: SandboxModule = {
  name: 'peach',
  provider: PROVIDER,
  routes(scope, ctx) {
    checkoutRoutes(scope, ctx);
    payRoutes(scope, ctx);
    statusRoutes(scope, ctx);
    apiRoutes(scope, ctx);
    registerLedgerRoute(scope, ctx, PROVIDER);
  },
};
