import { describe, expect, it } from 'vitest';
import { testConfig } from '../../test/helpers/config.ts';
import { ConnectorError } from '../lib/errors.ts';
import { createConnectorRegistry } from './registry.ts';

describe('connector registry', () => {
  const registry = createConnectorRegistry();

  it('finds connectors by provider and by capability', () => {
    expect(registry.get('OffSystem').id).toBe('OffSystem');
    expect(registry.withCapability('offSystem').map((c) => c.id)).toEqual(['OffSystem']);
    expect(registry.withCapability('tokenCharges').map((c) => c.id).sort()).toEqual(['PayFast', 'PeachPayments']);
    expect(registry.withCapability('hostedCheckout').map((c) => c.id)).toEqual(['PeachPayments']);
    expect(registry.withCapability('paymentLinks').map((c) => c.id)).toEqual(['PayFast']);
  });

  it('says plainly when a provider has no connector', () => {
    expect(() => registry.get('VodaPay')).toThrow(ConnectorError);
    // Every connector states how long the janitor waits before asking about an attempt.
    for (const c of registry.withCapability('statusLookup')) expect(c.timing.firstCheckAfterMs).toBeGreaterThan(0);
    expect(() => registry.get('VodaPay')).toThrow('payrail has no connector for VodaPay.');
  });

  it('records an off-system allocation as final, for exactly the amount', async () => {
    const result = await registry.get('OffSystem').allocate!(
      { merchantReference: 'pay-1', amount: { amountCents: 37900, currency: 'ZAR' }, purchaseSourceId: 'cash', comment: 'paid at the shop' },
      { fetch, clock: () => new Date(), log: undefined as never, settings: testConfig().providers.payfast, timeoutMs: 1000 },
    );
    expect(result).toMatchObject({ status: 'succeeded', amount: { amountCents: 37900 }, providerReference: 'pay-1' });
  });
});
