import type { ProviderSettings, SettingsDeclaration } from './contract.ts';
import type { Secret } from '../lib/secret.ts';

/** What the environment configured for one provider (config.ts): hosts given explicitly, and credentials. */
export interface ConfiguredProvider {
  /** Hosts by name (`base`, `card` …), only those configured. */
  hosts: Record<string, string>;
  credentials: Record<string, Secret>;
  /** PAYRAIL_<KEY>_LOOKUPS_PER_MINUTE: the merchant's look-up allowance, when it differs from the published one. */
  lookupsPerMinute: number | null;
}

/** The environment variable of a provider's host: `base` → PAYRAIL_PEACH_BASE_URL, `card` → PAYRAIL_PEACH_CARD_BASE_URL. */
export const hostVariable = (key: string, host: string): string => `PAYRAIL_${key.toUpperCase()}_${host === 'base' ? '' : `${host.toUpperCase()}_`}BASE_URL`;

export const credentialVariable = (key: string, credential: string): string => `PAYRAIL_${key.toUpperCase()}_${credential.toUpperCase()}`;

/**
 * A provider's settings for a call: each host as configured, else where the built-in sandbox serves it under
 * payrail's public URL (so they follow the port payrail really listens on).
 */
export function resolveSettings(
  declaration: SettingsDeclaration | undefined,
  configured: ConfiguredProvider | undefined,
  env: { publicUrl: string; sandbox: boolean },
): ProviderSettings {
  if (!declaration) return { baseUrl: '', hosts: {}, sandbox: env.sandbox, credentials: {} };
  const hosts: Record<string, string> = {};
  for (const [name, sandboxPath] of Object.entries(declaration.hosts)) hosts[name] = configured?.hosts[name] ?? `${env.publicUrl}${sandboxPath}`;
  return { baseUrl: hosts.base!, hosts, sandbox: env.sandbox, credentials: configured?.credentials ?? {} };
}
