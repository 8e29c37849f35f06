import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';
import { insertMedium } from '../../modules/mediums/repo.ts';

let h: Harness;
const BANK = '33333333-3333-4333-8333-333333333301';
const EXPIRED = '33333333-3333-4333-8333-333333333302';
beforeAll(async () => {
  h = await createHarness();
  const owner = { operatorId: DEMO.operatorId, customerId: DEMO.customerId };
  await insertMedium(h.ctx.database.db, h.ctx.vault, { ...owner, id: BANK, mediumType: 'BankAccount', provider: 'Debitsuccess', externalReference: 'bank', accountName: 'Cheque 7890', accountNumber: '7890' }, { provider: 'Debitsuccess', value: 'ds-mandate' });
  await insertMedium(h.ctx.database.db, h.ctx.vault, { ...owner, id: EXPIRED, mediumType: 'CreditCard', status: 'Expired', provider: 'PayFast', externalReference: 'old', accountName: 'Old 0002', accountNumber: '0002' }, { provider: 'PayFast', value: 'old-token' });
});
afterAll(() => h.close());

const path = (serviceId: string) => `/active-payment-medium-for-service?serviceId=${serviceId}`;

describe('GET /active-payment-medium-for-service', () => {
  it("returns the service plan's active medium", async () => {
    const res = await h.call('GET', path(DEMO.services.recurringInArrears));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ medium_detail_id: DEMO.mediums.card, medium_type: 'CreditCard', account_number: '4242' });
  });

  it('returns null for a service without one', async () => {
    const res = await h.call('GET', path(FIX.otherCustomer.serviceId), { token: h.tokens.otherCustomer });
    expect(res.status).toBe(200);
    expect(res.body).toBeNull();
  });

  it('is 400 without a valid serviceId and 404 for a service the caller cannot see', async () => {
    expect((await h.call('GET', '/active-payment-medium-for-service')).status).toBe(400);
    expect((await h.call('GET', path('123'))).status).toBe(400);
    expect((await h.call('GET', path(FIX.otherCustomer.serviceId))).status).toBe(404);
    expect((await h.call('GET', path(DEMO.services.hybrid), { token: h.tokens.otherOperatorIntegrator })).status).toBe(404);
  });
});

describe('PUT /active-payment-medium-for-service', () => {
  it('sets a Valid bank account of the same customer and records who did it', async () => {
    const res = await h.call('PUT', path(DEMO.services.dayBundle), { body: { medium_id: BANK } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ medium_detail_id: BANK, medium_type: 'BankAccount' });
    expect((await h.call('GET', path(DEMO.services.dayBundle))).body.medium_detail_id).toBe(BANK);
    const audit = await h.call('GET', `/audit-events?entityId=${DEMO.services.dayBundle}`, { token: h.tokens.integrator });
    expect(audit.body.items[0]).toMatchObject({ action: 'active_medium.changed', from_state: DEMO.mediums.card, to_state: BANK, actor_id: DEMO.customerUserId, actor_role: 'customer' });
    const mediums = await h.call('GET', `/payment-mediums?userId=${DEMO.customerUserId}`);
    expect(mediums.body.find((m: { medium_detail_id: string }) => m.medium_detail_id === BANK).is_linked).toBe(true);
  });

  it.each([
    ['a PaymentLink medium', DEMO.mediums.paymentLink, 'must be a CreditCard or BankAccount medium'],
    ['an OffSystem medium', DEMO.mediums.offSystem, 'must be a CreditCard or BankAccount medium'],
    ['the global opaque medium', 'aa8b416b-a7d9-4bc0-af81-041722e11ad4', "is not a medium of the service's customer"],
    ['an Expired card', EXPIRED, 'must be Valid'],
    ["another customer's card", FIX.otherCustomer.cardId, "is not a medium of the service's customer"],
    ["another operator's card", FIX.otherOperator.cardId, "is not a medium of the service's customer"],
    ['a medium that does not exist', '00000000-0000-4000-8000-00000000ffff', "is not a medium of the service's customer"],
  ])('refuses %s with 422 and changes nothing', async (_what, mediumId, reason) => {
    const res = await h.call('PUT', path(DEMO.services.recurringInArrears), { body: { medium_id: mediumId } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status: 422, code: 'medium.not_eligible', errors: [{ name: 'body.medium_id', reason }] });
    expect((await h.call('GET', path(DEMO.services.recurringInArrears))).body.medium_detail_id).toBe(DEMO.mediums.card);
  });

  it('names the kind of medium it refuses in words that read right', async () => {
    const offSystem = await h.call('PUT', path(DEMO.services.recurringInArrears), { body: { medium_id: DEMO.mediums.offSystem } });
    expect(offSystem.body.detail).toBe('An OffSystem medium cannot be the active medium: only a credit card or bank account can.');
    const link = await h.call('PUT', path(DEMO.services.recurringInArrears), { body: { medium_id: DEMO.mediums.paymentLink } });
    expect(link.body.detail).toBe('A PaymentLink medium cannot be the active medium: only a credit card or bank account can.');
  });

  it('is 400 for a malformed body and 404 for a service the caller cannot see', async () => {
    expect((await h.call('PUT', path(DEMO.services.recurringInArrears), { body: {} })).status).toBe(400);
    expect((await h.call('PUT', path(DEMO.services.recurringInArrears), { body: { medium_id: 42 } })).status).toBe(400);
    const text = await h.call('PUT', path(DEMO.services.recurringInArrears), { body: 'medium' });
    expect(text.status).toBe(415); // not JSON at all
    expect(text.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const broken = await h.call('PUT', path(DEMO.services.recurringInArrears), { body: '{"medium_id":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toBe('The body is not valid JSON.');
    const foreign = await h.call('PUT', path(FIX.otherCustomer.serviceId), { body: { medium_id: FIX.otherCustomer.cardId } });
    expect(foreign.status).toBe(404);
    const again = await h.call('GET', path(FIX.otherCustomer.serviceId), { token: h.tokens.otherCustomer });
    expect(again.body).toBeNull();
  });
});
