import type { ProviderName } from '../config.ts';
import { ConnectorError } from '../lib/errors.ts';
import type { Connector, ConnectorCapabilities, ProviderId } from './contract.ts';
import { offSystemConnector } from './off-system/connector.ts';
import { payfastConnector } from './payfast/connector.ts';
import { peachConnector } from './peach/connector.ts';

/**
 * Every connector payrail has, by provider. Adding a provider means its own folder and one line here.
 * Connectors are stateless: base URL and credentials reach them per call (ConnectorContext.settings).
 */
const CONNECTORS: readonly Connector[] = [offSystemConnector, peachConnector, payfastConnector];

/** The configuration section of each provider that has one (off-system has none). */
export const PROVIDER_SETTINGS_NAME: Partial<Record<ProviderId, ProviderName>> = {
  PeachPayments: 'peach',
  PayFast: 'payfast',
  VodaPay: 'vodapay',
  Debitsuccess: 'debitsuccess',
  UtilityVendor: 'vendor',
};

export interface ConnectorRegistry {
  /** The provider's connector; `provider.misconfigured` when payrail has none. */
  get(id: ProviderId): Connector;
  /** The connectors that can do something: `withCapability('statusLookup')`. */
  withCapability(capability: keyof ConnectorCapabilities): Connector[];
}

export function createConnectorRegistry(list: readonly Connector[] = CONNECTORS): ConnectorRegistry {
  const connectors = new Map<ProviderId, Connector>(list.map((c) => [c.id, c]));
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
