import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const url = (userId: string) => `/payment-mediums?userId=${userId}`;

describe('GET /payment-mediums (seed 000)', () => {
  it("lists the user's valid mediums, then the global 'Add new payment method' medium exactly as seed 000 shows it", async () => {
    const res = await h.call('GET', url(DEMO.customerUserId));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(4);
    expect(res.body[0]).toEqual({
      medium_detail_id: DEMO.mediums.card,
      medium_type: 'CreditCard',
      bank_account: 'test 4242',
      account_nr_partial: '4242',
      is_linked: true, // the active medium of the customer's services
      medium_status: 'Valid',
      mandate: null, // payrail's addition: a card mandate's terms (VodaPay, SPEC §11)
    });
    expect(res.body[1]).toMatchObject({ medium_type: 'PaymentLink', is_linked: false });
    expect(res.body[2]).toMatchObject({ medium_type: 'OffSystem', is_linked: false });
    expect(res.body[3]).toEqual({
      medium_detail_id: 'aa8b416b-a7d9-4bc0-af81-041722e11ad4',
      medium_type: 'ProviderSelectedOpaque',
      bank_account: 'Add new payment method',
      account_nr_partial: null,
      is_linked: false,
      medium_status: 'Valid',
      mandate: null,
    });
  });

  it('leaves out mediums that are not Valid', async () => {
    await h.ctx.database.query(`UPDATE mediums SET status = 'Expired' WHERE id = $1`, [FIX.otherCustomer.cardId]);
    try {
      const res = await h.call('GET', url(FIX.otherCustomer.userId), { token: h.tokens.otherCustomer });
      expect(res.status).toBe(200);
      const types = res.body.map((m: { medium_type: string }) => m.medium_type);
      expect(types.slice(0, 2).sort()).toEqual(['OffSystem', 'PaymentLink']); // made by the same order
      expect(types[2]).toBe('ProviderSelectedOpaque');
    } finally {
      await h.ctx.database.query(`UPDATE mediums SET status = 'Valid' WHERE id = $1`, [FIX.otherCustomer.cardId]);
    }
  });

  it('never returns a provider token or anything not documented', async () => {
    const res = await h.call('GET', url(DEMO.customerUserId));
    expect(res.text).not.toContain('7b3e9d2a'); // the demo card's PayFast token
    expect(res.text).not.toMatch(/sealed|v1\.|token/i);
    for (const m of res.body) expect(Object.keys(m).sort()).toEqual(['account_nr_partial', 'bank_account', 'is_linked', 'mandate', 'medium_detail_id', 'medium_status', 'medium_type']);
  });

  it('lets an integrator read any of its customers’ users', async () => {
    const res = await h.call('GET', url(FIX.otherCustomer.userId), { token: h.tokens.integrator });
    expect(res.status).toBe(200);
    expect(res.body.find((m: { medium_detail_id: string }) => m.medium_detail_id === FIX.otherCustomer.cardId)).toMatchObject({ account_nr_partial: '1111', medium_type: 'CreditCard' });
  });

  it.each([
    ['no userId', '/payment-mediums', 'query.userId'],
    ['a malformed userId', url('abc'), 'query.userId'],
    ['an empty userId', url(''), 'query.userId'],
  ])('answers %s with 400 naming the field', async (_what, path, field) => {
    const res = await h.call('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { name: string }) => e.name)).toContain(field);
  });

  it('is 404 for a user that does not exist, another customer’s user, another operator’s user, or a staff user', async () => {
    for (const [userId, token] of [
      ['00000000-0000-4000-8000-00000000ffff', h.tokens.customer],
      [FIX.otherCustomer.userId, h.tokens.customer],
      [FIX.otherOperator.userId, h.tokens.integrator],
      [DEMO.customerUserId, h.tokens.otherOperatorIntegrator],
      [DEMO.integratorUserId, h.tokens.integrator],
    ] as const) {
      const res = await h.call('GET', url(userId), { token });
      expect(res.status, userId).toBe(404);
      expect(res.body.code).toBe('user.not_found');
    }
  });
});
