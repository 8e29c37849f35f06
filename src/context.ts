import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { HostResolver } from './lib/host-resolver.ts';
import type { Telemetry } from './lib/telemetry.ts';
import type { TokenVault } from './lib/token-vault.ts';
import type { ConnectorRegistry } from './providers/registry.ts';

/** What use-cases, routes and jobs are given: nothing global, everything passed in. */
export interface AppContext {
  config: Config;
  database: Database;
  vault: TokenVault;
  /** The current instant; tests move it. */
  clock: () => Date;
  log: Logger;
  /** Every payment provider's connector. */
  connectors: ConnectorRegistry;
  telemetry: Telemetry;
  /**
   * Resolves the host names of URLs that operators choose (webhook endpoints), so their addresses can be
   * checked before anything connects. The system resolver when absent; tests give their own.
   */
  resolveHost?: HostResolver;
}

export type { HostResolver } from './lib/host-resolver.ts';

/** Who is acting, for the audit trail. */
export interface Actor {
  id: string;
  role: string;
  requestId: string | null;
}

export const SYSTEM_ACTOR: Actor = { id: 'payrail', role: 'system', requestId: null };
