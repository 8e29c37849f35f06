import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('operator settings', () => {
  it('shows the settings to staff, not to customers', async () => {
    const res = await h.call('GET', '/operator', { token: h.tokens.integrator });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: DEMO.operatorId, name: 'Net99', vat_rate: 15, payment_links_enabled: true, grace_days: 7, default_providers: { bank_account: 'Debitsuccess', credit_card: 'PayFast' } });
    expect((await h.call('GET', '/operator')).status).toBe(403);
  });

  it('lets an admin change VAT, links, grace days and default providers, and records the change', async () => {
    const res = await h.call('PATCH', '/operator', {
      token: h.tokens.admin,
      body: { vat_rate: 15.5, payment_links_enabled: false, grace_days: 10, default_providers: { credit_card: 'PeachPayments' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ vat_rate: 15.5, payment_links_enabled: false, grace_days: 10, default_providers: { bank_account: 'Debitsuccess', credit_card: 'PeachPayments' } });
    expect((await h.call('GET', '/default?mediumType=2')).body.provider).toBe('PeachPayments');
    const audit = await h.call('GET', `/audit-events?entityId=${DEMO.operatorId}`, { token: h.tokens.admin });
    expect(audit.body.items[0]).toMatchObject({ action: 'operator.settings_changed', actor_role: 'admin' });
    expect(audit.body.items[0].data.vatRateBp).toEqual({ from: 1500, to: 1550 });
    await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { vat_rate: 15, payment_links_enabled: true, grace_days: 7, default_providers: { credit_card: 'PayFast' } } });
  });

  it('refuses integrators and customers (403)', async () => {
    expect((await h.call('PATCH', '/operator', { token: h.tokens.integrator, body: { grace_days: 1 } })).status).toBe(403);
    expect((await h.call('PATCH', '/operator', { body: { grace_days: 1 } })).status).toBe(403);
  });

  it.each([
    [{ vat_rate: 15.555 }, 400, 'body.vat_rate'],
    [{ vat_rate: -1 }, 400, 'body.vat_rate'],
    [{ vat_rate: '15' }, 400, 'body.vat_rate'],
    [{ grace_days: 400 }, 400, 'body.grace_days'],
    [{ colour: 'blue' }, 400, 'body.colour'],
    [{}, 400, 'body'],
    [{ default_providers: { bank_account: 'PayFast' } }, 422, 'body.default_providers.bank_account'],
    [{ default_providers: { credit_card: 'OffSystem' } }, 422, 'body.default_providers.credit_card'],
    [{ default_providers: { credit_card: 'Visa' } }, 422, 'body.default_providers.credit_card'],
    [{ default_providers: { credit_card: '' } }, 400, 'body.default_providers.credit_card'],
  ])('refuses %j with %i and changes nothing', async (body, status, field) => {
    const res = await h.call('PATCH', '/operator', { token: h.tokens.admin, body });
    expect(res.status).toBe(status);
    expect(res.body.errors.map((e: { name: string }) => e.name)).toContain(field);
    expect((await h.call('GET', '/operator', { token: h.tokens.admin })).body).toMatchObject({ vat_rate: 15, grace_days: 7, default_providers: { bank_account: 'Debitsuccess', credit_card: 'PayFast' } });
  });
});
