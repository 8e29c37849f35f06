import type { AppContext } from '../../context.ts';
import type { Provider } from '../../domain/enums.ts';
import { httpFetch } from '../../lib/http-transport.ts';
import type { ConnectorContext } from '../../providers/contract.ts';
import { PROVIDER_SETTINGS_NAME } from '../../providers/registry.ts';

/** What a connector gets per call: the provider's current settings (they follow the listening port). */
export function connectorContext(ctx: AppContext, provider: Provider): ConnectorContext {
  const name = PROVIDER_SETTINGS_NAME[provider];
  const settings = name ? ctx.config.providers[name] : { baseUrl: '', builtInSandbox: true, credentials: {} };
  return {
    fetch: httpFetch,
    clock: ctx.clock,
    log: ctx.log.child({ provider }),
    settings,
    timeoutMs: ctx.config.collections.providerTimeoutMs,
  };
}
