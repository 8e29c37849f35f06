import { ConnectorError } from '../../lib/errors.ts';
import type { ProviderSettings } from '../contract.ts';

/**
 * The built-in sandbox's merchant (src/sandboxes/vodapay/README.md): VodaPay publishes no test key, so this
 * is the sandbox's own, used only against the sandbox when no key is configured. It grants nothing anywhere
 * else, so it is a plain string.
 */
export const VODAPAY_SANDBOX_CREDENTIALS = { apiKey: '5b0f3c8e-7a41-4d2b-9e6c-1f8a2d4c7e90' } as const;

/**
 * The merchant's `api-key` (a GUID): sent on every request, and the key the notifications are signed with
 * (PROVIDERS.md: VodaPay publishes no notification signature; payrail's choice is HMAC-SHA256 of the body
 * under the api-key). Never logged.
 */
export function vodapayApiKey(settings: ProviderSettings): string {
  const configured = settings.credentials.api_key?.reveal().trim();
  if (configured) return configured;
  if (settings.sandbox) return VODAPAY_SANDBOX_CREDENTIALS.apiKey;
  throw new ConnectorError('misconfigured', 'VodaPay', 'VodaPay needs PAYRAIL_VODAPAY_API_KEY when PAYRAIL_VODAPAY_BASE_URL is set.');
}
