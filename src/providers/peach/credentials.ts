import type { ProviderSettings } from '../contract.ts';
import { ConnectorError } from '../../lib/errors.ts';

/**
 * The built-in sandbox's merchant. The entity id and secret token are the ones of Peach's published
 * signature example (PROVIDERS.md), so the published vector verifies against our sandbox too. Peach
 * publishes no sandbox access token for the Payments API; ours is base64("<entityId>|payrail-sandbox"),
 * shaped like Peach's own bearer tokens.
 */
export const PEACH_SANDBOX_CREDENTIALS = {
  entity_id: '8ac7a4ca68c22c4d0168c2caab2e0025',
  secret_token: '3fcd7cf22f55119eadbe02d14de18c0c',
  access_token: 'OGFjN2E0Y2E2OGMyMmM0ZDAxNjhjMmNhYWIyZTAwMjV8cGF5cmFpbC1zYW5kYm94',
} as const;

export type PeachCredential = keyof typeof PEACH_SANDBOX_CREDENTIALS;

const VARIABLE: Record<PeachCredential, string> = {
  entity_id: 'PAYRAIL_PEACH_ENTITY_ID',
  secret_token: 'PAYRAIL_PEACH_SECRET_TOKEN',
  access_token: 'PAYRAIL_PEACH_ACCESS_TOKEN',
};

/**
 * One Peach credential: the configured one, else (built-in sandbox only) the sandbox's. A real Peach
 * host without the credential is a misconfiguration: nothing is sent.
 */
export function peachCredential(settings: ProviderSettings, name: PeachCredential): string {
  const configured = settings.credentials[name];
  if (configured !== undefined) return configured.reveal();
  if (settings.sandbox) return PEACH_SANDBOX_CREDENTIALS[name];
  throw new ConnectorError('misconfigured', 'PeachPayments', `${VARIABLE[name]} is not set; Peach Payments needs it.`);
}
