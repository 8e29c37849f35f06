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
  clientId: 'payrail-sandbox',
  clientSecret: 'ds-sandbox-client-secret',
  businessId: '10001',
  webhookToken: 'ds-sandbox-x-token',
} as const;

export interface DebitsuccessCredentials {
  /** The message API's `User { Username, Password }`. The password is never logged. */
  username: string;
  password: string;
  /** The REST API's OAuth2 client credentials (debit orders, payment statuses). The secret is never logged. */
  clientId: string;
  clientSecret: string;
  /** The merchant's business (paymentStatuses are listed per business). */
  businessId: string;
  /** The static token agreed with Debitsuccess, sent as `X-Token` on its webhooks. Never logged. */
  webhookToken: string;
}

const KEYS = { username: 'username', password: 'password', clientId: 'client_id', clientSecret: 'client_secret', businessId: 'business_id', webhookToken: 'webhook_token' } as const;

/**
 * Configured values first; against the built-in sandbox its merchant fills any gap; elsewhere a gap is a
 * configuration error. Each API asks only for the credentials it uses (`fields`).
 */
export function debitsuccessCredentials<F extends keyof DebitsuccessCredentials>(settings: ProviderSettings, fields: readonly F[]): Pick<DebitsuccessCredentials, F> {
  const resolved = {} as Pick<DebitsuccessCredentials, F>;
  for (const field of fields) {
    const key = KEYS[field];
    const configured = settings.credentials[key]?.reveal().trim();
    if (configured) resolved[field] = configured;
    else if (settings.sandbox) resolved[field] = DEBITSUCCESS_SANDBOX_CREDENTIALS[field];
    else throw new ConnectorError('misconfigured', 'Debitsuccess', `Debitsuccess needs PAYRAIL_DEBITSUCCESS_${key.toUpperCase()} when PAYRAIL_DEBITSUCCESS_BASE_URL is set.`);
  }
  return resolved;
}
