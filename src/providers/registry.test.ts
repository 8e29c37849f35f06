import { systemResolver } from '../lib/host-resolver.ts';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../test/helpers/config.ts';
import { ConnectorError } from '../lib/errors.ts';
import type { Connector } from './contract.ts';
import { can, CONNECTORS, createConnectorRegistry } from './registry.ts';
import { resolveSettings } from './settings.ts';

describe('connector registry', () => {
  const registry = createConnectorRegistry();

  it('finds connectors by provider, by flow, and by what they can be the default for', () => {
    expect(registry.get('OffSystem').id).toBe('OffSystem');
    expect(registry.withFlow('allocate').map((c) => c.id)).toEqual(['OffSystem']);
    expect(registry.withFlow('chargeToken').map((c) => c.id).sort()).toEqual(['Debitsuccess', 'PayFast', 'PeachPayments', 'VodaPay']);
    expect(registry.withFlow('createCheckout').map((c) => c.id)).toEqual(['PeachPayments', 'Debitsuccess', 'VodaPay']);
    expect(registry.withFlow('cancelToken').map((c) => c.id)).toEqual(['VodaPay']);
    expect(registry.withFlow('readPaymentFeed').map((c) => c.id)).toEqual(['Debitsuccess']);
    expect(registry.withFlow('createPaymentLink').map((c) => c.id)).toEqual(['PayFast']);
    expect(registry.canBeDefault('PeachPayments', 'CreditCard')).toBe(true);
    expect(registry.canBeDefault('PayFast', 'BankAccount')).toBe(false);
    expect(registry.canBeDefault('Debitsuccess', 'BankAccount')).toBe(true);
    expect(registry.canBeDefault('Debitsuccess', 'CreditCard')).toBe(true);
    expect(registry.canBeDefault('VodaPay', 'CreditCard')).toBe(true);
    expect(registry.canBeDefault('VodaPay', 'BankAccount')).toBe(false);
    expect(registry.canBeDefault('OffSystem', 'CreditCard')).toBe(false);
    expect(registry.canBeDefault('Nobody', 'CreditCard')).toBe(false);
  });

  it('says plainly when a provider has no connector', () => {
    expect(() => registry.get('Ozow')).toThrow(ConnectorError);
    expect(() => registry.get('Ozow')).toThrow('payrail has no connector for Ozow.');
    expect(registry.find('Ozow')).toBeUndefined();
  });

  it('treats a capability or flow a connector does not declare as absent', () => {
    const bare: Connector = { id: 'Bare', timing: { firstCheckAfterMs: 1 } };
    const r = createConnectorRegistry([bare]);
    expect(can(bare, 'lookup')).toBe(false);
    expect(r.canBeDefault('Bare', 'CreditCard')).toBe(false);
    expect(r.callbacks()).toEqual([]);
    expect(r.notification('Bare')).toBeNull();
    expect(r.browserReturn('Bare')).toBeNull();
  });

  it('serves each connector’s declared callbacks, and knows its notification and browser-return paths', () => {
    const paths = registry.callbacks().map(({ connector, callback }) => `${connector.id} ${callback.channel} ${callback.path}`);
    expect(paths).toEqual(['PeachPayments redirect /peach-redirect/:collectorId', 'PeachPayments webhook /callbacks/peach/webhook', 'PayFast itn /callbacks/payfast/itn', 'Debitsuccess webhook /callbacks/debitsuccess/webhook', 'VodaPay redirect /callbacks/vodapay/return', 'VodaPay webhook /callbacks/vodapay/notify']);
    expect(registry.browserReturn('VodaPay')).toMatchObject({ method: 'GET', settles: 'lookup' });
    expect(registry.notification('VodaPay')).toMatchObject({ path: '/callbacks/vodapay/notify', settles: 'itself' });
    expect(registry.notification('PayFast')?.path).toBe('/callbacks/payfast/itn');
    expect(registry.notification('PeachPayments')?.path).toBe('/callbacks/peach/webhook');
    expect(registry.browserReturn('PeachPayments')?.path).toBe('/peach-redirect/:collectorId');
    expect(registry.browserReturn('PayFast')).toBeNull();
    // Debitsuccess's webhook address is the facility's, set once at Debitsuccess: no attempt passes it.
    expect(registry.notification('Debitsuccess')).toBeNull();
  });

  it('refuses two connectors with one id, or one callback path declared twice', () => {
    const a: Connector = { id: 'A', timing: { firstCheckAfterMs: 1 }, callbacks: [{ channel: 'webhook', path: '/callbacks/a', answer: 'after-verify' }] };
    expect(() => createConnectorRegistry([a, { ...a }])).toThrow('two connectors are registered as A');
    expect(() => createConnectorRegistry([a, { ...a, id: 'B' }])).toThrow('callback path /callbacks/a is declared twice (B)');
  });

  it('declares every connector’s timing; the ones that talk to a provider declare their settings', () => {
    for (const c of CONNECTORS) {
      expect(c.timing.firstCheckAfterMs).toBeGreaterThanOrEqual(0);
      if (c.lookup || c.chargeToken || c.createCheckout || c.createPaymentLink) expect(c.settings?.hosts.base).toMatch(/^\/sandbox\//);
    }
  });

  it('records an off-system allocation as final, for exactly the amount', async () => {
    const config = testConfig();
    const result = await registry.get('OffSystem').allocate!(
      { merchantReference: 'pay-1', amount: { amountCents: 37900, currency: 'ZAR' }, purchaseSourceId: 'cash', comment: 'paid at the shop' },
      { fetch, clock: () => new Date(), log: undefined as never, settings: resolveSettings(undefined, undefined, config), timeoutMs: 1000, resolveHost: systemResolver },
    );
    expect(result).toMatchObject({ status: 'succeeded', amount: { amountCents: 37900 }, providerReference: 'pay-1' });
  });
});
