import type { SandboxModule } from '../kit/kit.ts';
import { registerAdviceList, registerAdvices } from './advices.ts';
import { vendorBehaviour } from './behaviour.ts';
import { registerApiPlumbing } from './http.ts';
import { registerLookups } from './lookups.ts';
import { PROVIDER } from './merchant.ts';
import { registerPurchases } from './purchases.ts';

/** The interface's base path under the sandbox's prefix. */
export const API_PATH = '/prepaidutility/v3';

/**
 * The prepaid-utility vendor, the provider's side (README.md): Electrum's prepaid utility interface v3 (seed
 * 003) under /sandbox/vendor/prepaidutility/v3 — token purchases with retries and advices, meter lookups,
 * reprints, trial purchases — behind HTTP Basic auth. State: the kit's ledger and this folder's schema.ts.
 */
export const vendorSandbox: SandboxModule = {
  name: 'vendor',
  provider: PROVIDER,
  behaviour: vendorBehaviour,
  routes(scope, ctx) {
    // The API in its own scope: its auth and error handling leave the ledger, behaviour and advice listings alone.
    void scope.register(
      async (api) => {
        registerApiPlumbing(api as typeof scope, ctx);
        registerPurchases(api as typeof scope, ctx);
        registerAdvices(api as typeof scope, ctx);
        registerLookups(api as typeof scope, ctx);
      },
      { prefix: API_PATH },
    );
    registerAdviceList(scope, ctx);
  },
};
