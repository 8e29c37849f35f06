import type { SandboxModule } from '../kit/kit.ts';
import { vodapayBehaviour } from './behaviour.ts';
import { registerApiPlumbing } from './http.ts';
import { PROVIDER } from './merchant.ts';
import { registerPayPage } from './pay-page.ts';
import { registerRecurring } from './recurring.ts';
import { registerSubmitRecurring } from './submit-recurring.ts';
import { registerTokenControl } from './token-control.ts';
import { registerTokenList } from './token-list.ts';

/**
 * The VodaPay Gateway, the provider's side (README.md): seed 001's recurring payments — `POST /V2/Pay/Recurring`
 * and `/V2/Pay/SubmitRecurring`, the token actions — under /sandbox/vodapay, and the customer's payment page on
 * the `pay` host, /sandbox/vodapay-pay. State: the kit's tables and this folder's schema.ts.
 */
export const vodapaySandbox: SandboxModule = {
  name: 'vodapay',
  provider: PROVIDER,
  behaviour: vodapayBehaviour,
  routes(scope, ctx) {
    registerApiPlumbing(scope, ctx);
    registerRecurring(scope, ctx);
    registerSubmitRecurring(scope, ctx);
    registerTokenList(scope, ctx);
    registerTokenControl(scope, ctx);
  },
  hosts: { pay: registerPayPage },
};
