import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEBITSUCCESS_SANDBOX_MERCHANT as MERCHANT } from './merchant.ts';
import { bankForm, callbackQuery, dsCard, newExternal, startSandbox, type Client } from './test-client.ts';

/** The PayNow form: card and bank account, the callback's query as the seed shows it, one-time 10-minute tokens, webhooks. */

let c: Client;
let hook: { url: string; path: string };
beforeAll(async () => {
  c = await startSandbox();
  await c.behave({ webhookUrl: c.receiver.fresh().url });
});
// Every notice goes to a receiver that answers 200: failing ones would disable the facility's webhook (webhooks.test.ts).
afterEach(async () => {
  await c.resetBehaviour();
  await c.behave({ webhookUrl: c.receiver.fresh().url });
});
afterAll(async () => {
  await c.receiver.close();
  await c.h.close();
});
const useHook = async () => {
  hook = c.receiver.fresh();
  await c.behave({ webhookUrl: hook.url });
};
/** The facility webhook, then the Realtime one (they may arrive in either order). */
const wait = async (path: string, n: number) => (await c.receiver.waitFor(path, n)).sort((a, b) => Number('x-eventname' in a.headers) - Number('x-eventname' in b.headers));

describe('a real-time card payment', () => {
  it('AUTHORISED: Success in the seed’s query, one approved charge, the facility and Authorized webhooks, status Authorised', async () => {
    await useHook();
    const external = newExternal();
    const t = await c.token({ ExternalAccountReferenceNo: external, Amount: '379.50' });
    const page = await c.open(t.Token);
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="card_number"');
    expect(page.text).toContain('379.50');
    const res = await c.submit(t.Token, dsCard('AUTHORISED'));
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    const q = callbackQuery(location);
    expect(q.map(([k]) => k)).toEqual(['Status', 'Token', 'AccountReferenceNo', 'ExternalAccountReferenceNo', 'Message']);
    const account = q[2]![1];
    expect(location).toBe(`https://shop.example/ds-return?Status=Success&Token=${t.Token}&AccountReferenceNo=${account}&ExternalAccountReferenceNo=${external}&Message=`);
    const charges = await c.ledger(t.Token);
    expect(charges.map((r) => [r.status, r.amount_cents, r.card?.last4])).toEqual([['approved', 37950, '1111']]);
    const [facility, realtime] = await wait(hook.path, 2);
    expect(facility!.body).toEqual({ WebhookToken: t.WebhookToken, AccountReferenceNo: account, ExternalAccountReferenceNo: external, Status: 'Success', Message: '' });
    expect(realtime!.headers).toMatchObject({ 'x-token': MERCHANT.webhookXToken, 'x-eventname': 'Realtime.Account.Payment.Authorized' });
    expect(realtime!.headers['x-traceid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(realtime!.body).toEqual({ ExternalTransactionIdentifier: t.Token, Amount: 379.5, AccountReference: account, ContractPrefix: 'TST', DeclinedReason: null });
    expect(await c.cardStatus({ AccountReferenceNo: account, ExternalTransactionIdentifier: t.Token })).toMatchObject({ Status: 'Succeed', TransactionStatus: 'Authorised' });
  });

  it('REFUSED: Declined with Message DO%20NOT%20HONOUR, a declined row, the Declined webhook, status Declined', async () => {
    await useHook();
    const t = await c.token();
    await c.open(t.Token);
    const location = (await c.submit(t.Token, dsCard('REFUSED'))).headers.get('location')!;
    expect(location).toMatch(new RegExp(`^https://shop\\.example/ds-return\\?Status=Declined&Token=${t.Token}&AccountReferenceNo=TST[0-9]{7}&ExternalAccountReferenceNo=EXT[0-9A-F]+&Message=DO%20NOT%20HONOUR$`));
    expect((await c.ledger(t.Token)).map((r) => r.status)).toEqual(['declined']);
    const [facility, realtime] = await wait(hook.path, 2);
    expect(facility!.body).toMatchObject({ Status: 'Declined', Message: 'DO NOT HONOUR' });
    expect(realtime!.headers['x-eventname']).toBe('Realtime.Account.Payment.Declined');
    expect(realtime!.body).toMatchObject({ ExternalTransactionIdentifier: t.Token, Amount: 379, DeclinedReason: 'DO NOT HONOUR' });
    const account = callbackQuery(location)[2]![1];
    expect((await c.cardStatus({ AccountReferenceNo: account, ExternalTransactionIdentifier: t.Token })).TransactionStatus).toBe('Declined');
  });

  it('refuses a wrong expiry or holder of the test card on the page, and the token stays usable', async () => {
    const t = await c.token();
    await c.open(t.Token);
    const bad = await c.submit(t.Token, dsCard('AUTHORISED', '04/27'));
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('04/25');
    expect((await c.submit(t.Token, dsCard('SOMEONE'))).status).toBe(400);
    expect(callbackQuery((await c.submit(t.Token, dsCard('AUTHORISED'))).headers.get('location'))[0]).toEqual(['Status', 'Success']);
  });

  it('answers Error for a gateway failure (card …0259), nothing charged', async () => {
    const t = await c.token();
    await c.open(t.Token);
    const location = (await c.submit(t.Token, { card_number: '4000000000000259', expiry: '12/30', cvv: '123', holder: 'A B' })).headers.get('location')!;
    expect(callbackQuery(location)[0]).toEqual(['Status', 'Error']);
    expect(callbackQuery(location)[4]).toEqual(['Message', '']);
    expect((await c.ledger(t.Token)).map((r) => r.status)).toEqual(['unavailable']);
  });
});

describe('the token: one-time, 10 minutes', () => {
  const expiredQuery = (token: string, status = 'TokenExpired') => `https://shop.example/ds-return?Status=${status}&Token=${token}&AccountReferenceNo=&ExternalAccountReferenceNo=&Message=`;

  it('a second opening, or a submit after the payment, is TokenExpired and charges nothing more', async () => {
    const t = await c.token();
    expect((await c.open(t.Token)).status).toBe(200);
    const again = await c.open(t.Token);
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toBe(expiredQuery(t.Token));
    // The first page may still be submitted.
    expect(callbackQuery((await c.submit(t.Token, dsCard('AUTHORISED'))).headers.get('location'))[0]![1]).toBe('Success');
    const replay = await c.submit(t.Token, dsCard('AUTHORISED'));
    expect(replay.headers.get('location')).toBe(expiredQuery(t.Token));
    expect(await c.ledger(t.Token)).toHaveLength(1);
    expect((await c.open('Zz9Zz9Zz')).status).toBe(404);
  });

  it('is TokenExpired once 10 minutes have passed unopened, and nothing is created', async () => {
    const external = newExternal();
    const t = await c.token({ ExternalAccountReferenceNo: external });
    c.advance(10 * 60_000 + 1);
    expect((await c.open(t.Token)).headers.get('location')).toBe(expiredQuery(t.Token));
    expect((await c.submit(t.Token, dsCard('AUTHORISED'))).headers.get('location')).toBe(expiredQuery(t.Token));
    expect(await c.ledger(t.Token)).toHaveLength(0);
    expect((await c.cardStatus({ ExternalAccountReferenceNo: external, ExternalTransactionIdentifier: t.Token })).TransactionStatus).toBe('StatusRequired');
  });

  it('opened in time, the form takes a submit for 10 minutes from opening', async () => {
    const t = await c.token();
    c.advance(9 * 60_000);
    expect((await c.open(t.Token)).status).toBe(200);
    c.advance(5 * 60_000);
    expect(callbackQuery((await c.submit(t.Token, dsCard('AUTHORISED'))).headers.get('location'))[0]![1]).toBe('Success');
    const late = await c.token();
    await c.open(late.Token);
    c.advance(10 * 60_000 + 1);
    expect(callbackQuery((await c.submit(late.Token, dsCard('AUTHORISED'))).headers.get('location'))[0]![1]).toBe('TokenExpired');
    expect(await c.ledger(late.Token)).toHaveLength(0);
  });

  it('spells it as the seed’s example does when asked (TokenExired)', async () => {
    await c.behave({ tokenExpiredStatus: 'TokenExired' });
    const t = await c.token();
    await c.open(t.Token);
    expect((await c.open(t.Token)).headers.get('location')).toBe(expiredQuery(t.Token, 'TokenExired'));
  });
});

describe('updating payment details', () => {
  const detailToken = (PayMethodType: string) => c.token({ RequestType: 'UpdatePaymentDetail', PayMethodType, Amount: undefined, CreateOneOffCharge: false, PaymentNote: undefined });

  it('stores a bank account (last digits only) with Success, and the facility webhook says so', async () => {
    await useHook();
    const t = await detailToken('BankAccount');
    const page = await c.open(t.Token);
    for (const field of ['account_holder', 'bank', 'branch_code', 'account_number', 'account_type']) expect(page.text).toContain(`name="${field}"`);
    expect(page.text).not.toContain('name="card_number"');
    const location = (await c.submit(t.Token, bankForm('1234567890'))).headers.get('location')!;
    expect(callbackQuery(location).map(([k, v]) => (k === 'Status' || k === 'Message' ? v : k))).toEqual(['Success', 'Token', 'AccountReferenceNo', 'ExternalAccountReferenceNo', '']);
    const account = callbackQuery(location)[2]![1];
    const [row] = (await c.h.ctx.database.query(`SELECT pay_method_type, pay_method_last4, pay_method_details FROM sandbox.debitsuccess_accounts WHERE account_reference_no = $1`, [account])) as any[];
    expect(row).toMatchObject({ pay_method_type: 'BankAccount', pay_method_last4: '7890', pay_method_details: { bank: 'FNB', branchCode: '250655', accountType: 'Cheque' } });
    expect((await wait(hook.path, 1))[0]!.body).toMatchObject({ WebhookToken: t.WebhookToken, AccountReferenceNo: account, Status: 'Success', Message: '' });
    expect(await c.ledger(t.Token)).toHaveLength(0);
  });

  it('answers AccountIsNotValid (3333333333) and Failure (4444444444), storing nothing', async () => {
    for (const [number, status] of [['3333333333', 'AccountIsNotValid'], ['4444444444', 'Failure']] as const) {
      const t = await detailToken('BankAccount');
      await c.open(t.Token);
      const q = callbackQuery((await c.submit(t.Token, bankForm(number))).headers.get('location'));
      expect(q[0]).toEqual(['Status', status]);
      const [row] = (await c.h.ctx.database.query(`SELECT pay_method_type FROM sandbox.debitsuccess_accounts WHERE account_reference_no = $1`, [q[2]![1]])) as any[];
      expect(row.pay_method_type).toBeNull();
    }
  });

  it('PayMethodType Both offers both; a card is stored, a refused card is a Failure', async () => {
    const t = await detailToken('Both');
    const page = await c.open(t.Token);
    expect(page.text).toContain('name="card_number"');
    expect(page.text).toContain('name="account_number"');
    expect((await c.submit(t.Token, { ...dsCard('AUTHORISED') })).status).toBe(400);
    expect(callbackQuery((await c.submit(t.Token, { pay_method: 'CreditCard', ...dsCard('AUTHORISED') })).headers.get('location'))[0]![1]).toBe('Success');
    const refused = await detailToken('CreditCard');
    await c.open(refused.Token);
    expect(callbackQuery((await c.submit(refused.Token, dsCard('REFUSED'))).headers.get('location'))[0]![1]).toBe('Failure');
  });

  it('stores payrail’s declining test cards with their outcome, for the card charges (card-charges.ts)', async () => {
    for (const [number, result] of [['4242424242424242', 'approve'], ['4000000000000002', 'decline'], ['4000000000009995', 'insufficient_funds'], ['4000000000000259', 'unavailable']] as const) {
      const t = await detailToken('CreditCard');
      await c.open(t.Token);
      const q = callbackQuery((await c.submit(t.Token, { card_number: number, expiry: '12/30', cvv: '123', holder: 'A B' })).headers.get('location'));
      expect(q[0]).toEqual(['Status', 'Success']);
      const [row] = (await c.h.ctx.database.query(`SELECT pay_method_type, pay_method_last4, pay_method_details FROM sandbox.debitsuccess_accounts WHERE account_reference_no = $1`, [q[2]![1]])) as any[];
      expect(row).toMatchObject({ pay_method_type: 'CreditCard', pay_method_last4: number.slice(-4), pay_method_details: { expiry: '12/30', cardResult: result } });
    }
  });

  it('keeps no whole card or bank account number in any sandbox table', async () => {
    const t = await detailToken('BankAccount');
    await c.open(t.Token);
    await c.submit(t.Token, bankForm('2222222222'));
    const dump = (await c.h.ctx.database.query(
      `SELECT string_agg(t::text, ' ') AS all FROM (SELECT row_to_json(x)::text AS t FROM sandbox.debitsuccess_accounts x UNION ALL SELECT row_to_json(x)::text FROM sandbox.sessions x UNION ALL SELECT row_to_json(x)::text FROM sandbox.transactions x UNION ALL SELECT row_to_json(x)::text FROM sandbox.notifications x) u`,
    )) as any[];
    const all = String(dump[0].all);
    for (const secret of ['1234567890', '2222222222', '3333333333', '4444333322221111']) expect(all).not.toContain(secret);
  });
});
