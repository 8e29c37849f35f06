import type { AppContext } from '../../context.ts';
import { httpFetch } from '../../lib/http-transport.ts';
import { ConnectorError } from '../../lib/errors.ts';
import { VENDORS } from '../../providers/registry.ts';
import { resolveSettings } from '../../providers/settings.ts';
import type { VendorConnector, VendorContext } from '../../providers/vendor-contract.ts';

/** The utility vendor payrail buys tokens from (the one registered vendor connector). */
export function currentVendor(): VendorConnector {
  const vendor = VENDORS[0];
  if (!vendor) throw new ConnectorError('misconfigured', 'Vendor', 'payrail has no utility vendor connector.');
  return vendor;
}

export function vendorContext(ctx: AppContext, vendor: VendorConnector): VendorContext {
  return {
    fetch: httpFetch,
    clock: ctx.clock,
    log: ctx.log.child({ vendor: vendor.id }),
    settings: resolveSettings(vendor.settings, ctx.config.providers[vendor.settings.key], ctx.config),
    timeoutMs: ctx.config.collections.providerTimeoutMs,
  };
}
