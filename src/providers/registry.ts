import type { Config } from '../config.ts';
import { ConnectorError } from '../lib/errors.ts';
import type { Connector, ConnectorCapabilities, ProviderId } from './contract.ts';
import { offSystemConnector } from './off-system/connector.ts';

/**
 * Every connector payrail has, by provider. Adding a provider means its own folder and one line here.
 * Factories get the configuration (base URL and credentials; the built-in sandbox by default).
 */
const FACTORIES: Partial<Record<ProviderId, (config: Config) => Connector>> = {
  OffSystem: () => offSystemConnector,
};

export interface ConnectorRegistry {
  /** The provider's connector; `provider.misconfigured` when payrail has none. */
  get(id: ProviderId): Connector;
  /** The connectors that can do something: `withCapability('statusLookup')`. */
  withCapability(capability: keyof ConnectorCapabilities): Connector[];
}

export function createConnectorRegistry(config: Config): ConnectorRegistry {
  const connectors = new Map<ProviderId, Connector>();
  for (const [id, factory] of Object.entries(FACTORIES) as [ProviderId, (c: Config) => Connector][]) connectors.set(id, factory(config));
  return {
    get(id) {
      const connector = connectors.get(id);
      if (!connector) throw new ConnectorError('misconfigured', id, `payrail has no connector for ${id}.`);
      return connector;
    },
    withCapability(capability) {
      return [...connectors.values()].filter((c) => {
        const value = c.capabilities[capability];
        return Array.isArray(value) ? value.length > 0 : value === true;
      });
    },
  };
}
