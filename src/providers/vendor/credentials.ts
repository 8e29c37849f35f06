import { ConnectorError } from '../../lib/errors.ts';
import type { ProviderSettings } from '../contract.ts';

/**
 * The built-in sandbox's merchant (src/sandboxes/vendor/README.md): Electrum publishes no test credentials,
 * so these are the sandbox's own, used only against the sandbox for a credential that is not configured.
 * They grant nothing anywhere else, so they are plain strings.
 */
export const VENDOR_SANDBOX_CREDENTIALS = { username: 'payrail-sandbox', password: 'vendor-sandbox-password' } as const;

/**
 * The HTTP Basic credentials: configured values first (PAYRAIL_VENDOR_USERNAME, PAYRAIL_VENDOR_PASSWORD);
 * against a sandbox its merchant fills any gap; elsewhere a gap is a configuration error. Never logged.
 */
export function vendorCredentials(settings: ProviderSettings): { username: string; password: string } {
  const resolved = { username: '', password: '' };
  for (const field of ['username', 'password'] as const) {
    const configured = settings.credentials[field]?.reveal().trim();
    if (configured) resolved[field] = configured;
    else if (settings.sandbox) resolved[field] = VENDOR_SANDBOX_CREDENTIALS[field];
    else throw new ConnectorError('misconfigured', 'Vendor', `The utility vendor needs PAYRAIL_VENDOR_${field.toUpperCase()} when PAYRAIL_VENDOR_BASE_URL is set.`);
  }
  return resolved;
}
