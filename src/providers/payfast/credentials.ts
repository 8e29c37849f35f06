import type { ProviderSettings } from '../contract.ts';
import { ConnectorError } from '../../lib/errors.ts';

/**
 * PayFast's published sandbox merchant (sandbox.payfast.co.za's documentation and SDK examples). The built-in
 * sandbox knows exactly this merchant; a connector pointed at the built-in sandbox uses these values for any
 * credential that is not configured. They are public, so they are plain strings.
 */
export const PAYFAST_SANDBOX_MERCHANT = {
  merchantId: '10000100',
  merchantKey: '46f0cd694581a',
  passphrase: 'jt7NOE43FZPn',
} as const;

export interface PayFastCredentials {
  merchantId: string;
  merchantKey: string;
  /** Signs forms, ITNs and API calls. Never logged. */
  passphrase: string;
}

const KEYS = { merchantId: 'merchant_id', merchantKey: 'merchant_key', passphrase: 'passphrase' } as const;

/**
 * The merchant's credentials for one call: configured values first; against the built-in sandbox the published
 * sandbox merchant fills any gap; against anything else a missing credential is a configuration error.
 */
export function payfastCredentials(settings: ProviderSettings): PayFastCredentials {
  const resolved = {} as Record<keyof PayFastCredentials, string>;
  for (const [field, key] of Object.entries(KEYS) as [keyof PayFastCredentials, string][]) {
    const configured = settings.credentials[key]?.reveal().trim();
    if (configured) resolved[field] = configured;
    else if (settings.sandbox) resolved[field] = PAYFAST_SANDBOX_MERCHANT[field];
    else throw new ConnectorError('misconfigured', 'PayFast', `PayFast needs PAYRAIL_PAYFAST_${key.toUpperCase()} when PAYRAIL_PAYFAST_BASE_URL is set.`);
  }
  return resolved;
}
