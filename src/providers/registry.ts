import { ConnectorError } from '../lib/errors.ts';
import type { MediumType } from '../domain/enums.ts';
import type { CallbackDeclaration, Connector, ProviderId, SettingsDeclaration } from './contract.ts';
import { debitsuccessConnector } from './debitsuccess/connector.ts';
import { offSystemConnector } from './off-system/connector.ts';
import { payfastConnector } from './payfast/connector.ts';
import { peachConnector } from './peach/connector.ts';
import { vodapayConnector } from './vodapay/connector.ts';
import { vendorConnector } from './vendor/connector.ts';
import type { VendorConnector } from './vendor-contract.ts';

/**
 * Every connector payrail has. Adding a payment provider is its folder here, its sandbox's folder in
 * src/sandboxes, and one line in each registry: routes, notification URLs, configuration and jobs follow
 * from the connector's declarations.
 */
export const CONNECTORS: readonly Connector[] = [offSystemConnector, peachConnector, payfastConnector, debitsuccessConnector, vodapayConnector];

/** The utility vendor's connector (vendor-contract.ts), once there is one. */
export const VENDORS: readonly VendorConnector[] = [vendorConnector];

/** Every provider's settings declaration, for configuration (config.ts reads their variables). */
export const SETTINGS_DECLARATIONS: readonly SettingsDeclaration[] = [...CONNECTORS, ...VENDORS].flatMap((c) => (c.settings ? [c.settings] : []));

/** The flows a connector may implement (its optional methods). */
export type Flow = 'chargeToken' | 'createCheckout' | 'createCapture' | 'lookupCapture' | 'createPaymentLink' | 'lookup' | 'verifyCallback' | 'cardUpdateUrl' | 'allocate' | 'cancelSession' | 'readPaymentFeed' | 'cancelToken' | 'refund' | 'lookupRefund';

export const can = (connector: Connector, flow: Flow): boolean => typeof connector[flow] === 'function';

export interface RegisteredCallback {
  connector: Connector;
  callback: CallbackDeclaration;
}

export interface ConnectorRegistry {
  /** The provider's connector; `provider.misconfigured` when payrail has none. */
  get(id: ProviderId): Connector;
  find(id: ProviderId): Connector | undefined;
  all(): readonly Connector[];
  /** The connectors that implement a flow: `withFlow('lookup')`. */
  withFlow(flow: Flow): Connector[];
  /** Whether a provider can be an operator's default for a medium type (its `capabilities.defaultFor`). */
  canBeDefault(id: ProviderId, mediumType: MediumType): boolean;
  /** Every callback every connector declares, with its connector. */
  callbacks(): RegisteredCallback[];
  /** A connector's server-to-server notification callback, if it declares one. */
  notification(id: ProviderId): CallbackDeclaration | null;
  /** A connector's browser-return callback, if it declares one. */
  browserReturn(id: ProviderId): CallbackDeclaration | null;
}

export function createConnectorRegistry(list: readonly Connector[] = CONNECTORS): ConnectorRegistry {
  const connectors = new Map<ProviderId, Connector>();
  const paths = new Set<string>();
  for (const c of list) {
    if (connectors.has(c.id)) throw new Error(`two connectors are registered as ${c.id}`);
    connectors.set(c.id, c);
    for (const cb of c.callbacks ?? []) {
      for (const path of [cb.path, ...(cb.legacyPaths ?? [])]) {
        if (paths.has(path)) throw new Error(`callback path ${path} is declared twice (${c.id})`);
        paths.add(path);
      }
    }
  }
  const declared = (id: ProviderId, channel: (cb: CallbackDeclaration) => boolean) => connectors.get(id)?.callbacks?.find(channel) ?? null;
  return {
    get(id) {
      const connector = connectors.get(id);
      if (!connector) throw new ConnectorError('misconfigured', id, `payrail has no connector for ${id}.`);
      return connector;
    },
    find: (id) => connectors.get(id),
    all: () => [...connectors.values()],
    withFlow: (flow) => [...connectors.values()].filter((c) => can(c, flow)),
    canBeDefault: (id, mediumType) => connectors.get(id)?.capabilities?.defaultFor?.includes(mediumType) ?? false,
    callbacks: () => [...connectors.values()].flatMap((connector) => (connector.callbacks ?? []).map((callback) => ({ connector, callback }))),
    notification: (id) => declared(id, (cb) => cb.notification === true),
    browserReturn: (id) => declared(id, (cb) => cb.channel === 'redirect'),
  };
}
