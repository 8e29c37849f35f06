import type { SandboxModule } from '../kit/kit.ts';
import { apiRoutes } from './api.ts';
import { peachBehaviour } from './behaviour.ts';
import { checkoutRoutes } from './checkout.ts';
import { payRoutes } from './pay.ts';
import { refundRoutes } from './refunds.ts';
import { PROVIDER } from './shared.ts';
import { statusRoutes } from './status.ts';

/**
 * Peach Payments, the provider's side, on two hosts as Peach has them: Checkout (initiate, card page,
 * redirect POST and webhook, status) under /sandbox/peach, and the card API (payments over registrations,
 * refunds, queries) under /sandbox/peach-card. State lives in the sandbox kit's tables; settings, behaviour and
 * every choice Peach leaves open are in README.md.
 */
export const peachSandbox: SandboxModule = {
  name: 'peach',
  provider: PROVIDER,
  routes(scope, ctx) {
    checkoutRoutes(scope, ctx);
    payRoutes(scope, ctx);
    statusRoutes(scope, ctx);
  },
  hosts: {
    card(scope, ctx) {
      apiRoutes(scope, ctx);
      refundRoutes(scope, ctx);
    },
  },
  behaviour: peachBehaviour,
};
