import { ConnectorError } from '../../lib/errors.ts';
import type { ProviderSettings } from '../contract.ts';

/**
 * The built-in sandbox's merchant (src/sandboxes/debitsuccess/README.md): Debitsuccess publishes no test
 * credentials, so these are the sandbox's own, used only against the sandbox for any credential that is
 * not configured. They grant nothing anywhere else, so they are plain strings.
 */
export const DEBITSUCCESS_SANDBOX_CREDENTIALS = {
  username: 'payrail-sandbox',
  password: 'ds-sandbox-password',
} as const;

export interface DebitsuccessCredentials {
  /** The message API's `User { Username, Password }`. The password is never logged. */
  username: string;
  password: string;
}

const KEYS = { username: 'username', password: 'password' } as const;

/** Configured values first; against the built-in sandbox its merchant fills any gap; elsewhere a gap is a configuration error. */
export function debitsuccessCredentials(settings: ProviderSettings): DebitsuccessCredentials {
  const resolved = {} as Record<keyof DebitsuccessCredentials, string>;
  for (const [field, key] of Object.entries(KEYS) as [keyof DebitsuccessCredentials, string][]) {
    const configured = settings.credentials[key]?.reveal().trim();
    if (configured) resolved[field] = configured;
    else if (settings.sandbox) resolved[field] = DEBITSUCCESS_SANDBOX_CREDENTIALS[field];
    else throw new ConnectorError('misconfigured', 'Debitsuccess', `Debitsuccess needs PAYRAIL_DEBITSUCCESS_${key.toUpperCase()} when PAYRAIL_DEBITSUCCESS_BASE_URL is set.`);
  }
  return resolved;
}
