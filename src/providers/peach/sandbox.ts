import type { SandboxModule } from '../sandbox-kit/kit.ts';
import { registerLedgerRoute } from '../sandbox-kit/kit.ts';
import { apiRoutes } from './sandbox-api.ts';
import { checkoutRoutes } from './sandbox-checkout.ts';
import { payRoutes } from './sandbox-pay.ts';
import { PROVIDER } from './sandbox-shared.ts';
import { statusRoutes } from './sandbox-status.ts';

/**
 * Peach Payments, the provider's side, under /sandbox/peach: Hosted Checkout (initiate, card page,
 * redirect POST and webhook, status) and the Payments API over registrations. State lives in the
 * sandbox-kit tables; behaviour and every choice Peach leaves open are in README.md.
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
