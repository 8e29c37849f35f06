import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P, startSandbox, type Client } from './test-client.ts';

/** Debit orders over the REST API, the bank day that moves them, and their payment statuses. */

let c: Client;
let hook: { url: string; path: string };
let auth: Record<string, string>;
beforeAll(async () => {
  c = await startSandbox();
  hook = c.receiver.fresh();
  await c.behave({ webhookUrl: hook.url });
  auth = await c.bearer();
});
afterAll(async () => {
  await c.receiver.close();
  await c.h.close();
});

const debit = (account: string, body: Record<string, unknown>, headers = auth) => c.call('POST', `${P}/CustomerServices/v1.0/accounts/${account}/debitOrders`, body, headers);
const statuses = (query = '', headers = auth) => c.call('GET', `${P}/CustomerServices/v1.0/businesses/10001/paymentStatuses${query}`, undefined, headers);
const bankDay = async () => { const r = await c.call('POST', `${P}/bank-day`); if (r.status !== 200) throw new Error(r.text); return r.body; };
const ref = () => `DO-${Math.random().toString(36).slice(2, 12)}`;

describe('the REST API’s OAuth2', () => {
  it('gives a bearer token for the client credentials, and refuses calls without a valid one', async () => {
    expect((await c.call('POST', `${P}/identity/connect/token`, { grant_type: 'client_credentials', client_id: 'payrail-sandbox', client_secret: 'nope' }, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(401);
    expect((await c.call('POST', `${P}/identity/connect/token`, { grant_type: 'password' }, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(400);
    expect((await statuses('', {})).status).toBe(401);
    expect((await statuses('', { authorization: `${auth.authorization}x` })).status).toBe(401);
    expect((await debit('TST0000010', { externalPaymentIdentifier: ref(), amount: 1 }, {})).status).toBe(401);
    expect((await c.call('GET', `${P}/CustomerServices/v1.0/businesses/999/paymentStatuses`, undefined, auth)).status).toBe(404);
  });
});

describe('debit orders and the bank day', () => {
  it('refuses bad requests: validation, an unknown account, one without a bank account', async () => {
    const { accountReferenceNo } = await c.bankAccount('1234567890');
    const bad = await debit(accountReferenceNo, { amount: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(['amount', 'externalPaymentIdentifier']);
    expect((await debit('TST9999999', { externalPaymentIdentifier: ref(), amount: 10 })).status).toBe(404);
    expect((await debit('TST0014045', { externalPaymentIdentifier: ref(), amount: 10 })).body.errors[0].field).toBe('accountId');
  });

  it('a reused externalPaymentIdentifier is 409 and makes one ledger entry', async () => {
    const { accountReferenceNo } = await c.bankAccount('1234567890');
    const id = ref();
    const first = await debit(accountReferenceNo, { externalPaymentIdentifier: id, amount: 199 });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ externalPaymentIdentifier: id, accountReference: accountReferenceNo, amount: 199, status: 'Pending', bankAccountLast4: '7890' });
    const again = await debit(accountReferenceNo, { externalPaymentIdentifier: id, amount: 250 });
    expect(again.status).toBe(409);
    const other = await c.bankAccount('1234567890');
    expect((await debit(other.accountReferenceNo, { externalPaymentIdentifier: id, amount: 199 })).status).toBe(409);
    expect((await c.ledger(id)).map((r) => [r.kind, r.status, r.amount_cents])).toEqual([['debit_order', 'pending', 19900]]);
  });

  it('moves 1234567890, 1111111111 and 2222222222 through their statuses, one bank day at a time, with a webhook for each result', async () => {
    const orders: Record<string, string> = {};
    for (const number of ['1234567890', '1111111111', '2222222222']) {
      const { accountReferenceNo } = await c.bankAccount(number);
      orders[number] = ref();
      expect((await debit(accountReferenceNo, { externalPaymentIdentifier: orders[number], amount: 100, paymentNote: 'June' })).status).toBe(201);
    }
    const statusOf = async (n: string) => (await c.ledger(orders[n]))[0];
    const trail = async () => Object.fromEntries(await Promise.all(Object.keys(orders).map(async (n) => [n, `${(await statusOf(n)).status}/${(await statusOf(n)).result_code}`])));
    expect(await trail()).toEqual({ '1234567890': 'pending/Pending', '1111111111': 'pending/Pending', '2222222222': 'pending/Pending' });
    const before = (await c.call('GET', `${P}/bank-day`)).body.bankDay;
    expect((await bankDay()).bankDay).toBe(before + 1);
    expect(await trail()).toEqual({ '1234567890': 'approved/Cleared', '1111111111': 'declined/Failed', '2222222222': 'approved/Cleared' });
    await bankDay();
    expect(await trail()).toEqual({ '1234567890': 'approved/Settled', '1111111111': 'declined/Failed', '2222222222': 'approved/Settled' });
    await bankDay();
    expect(await trail()).toEqual({ '1234567890': 'approved/Settled', '1111111111': 'declined/Failed', '2222222222': 'declined/Returned' });
    await bankDay();
    expect((await c.ledger()).filter((r) => Object.values(orders).includes(r.merchant_reference))).toHaveLength(3);

    // Each result went out as a webhook: Cleared, Settled (1234…); Failed (1111…); Cleared, Settled, Failed returned (2222…).
    const received = await c.receiver.waitFor(hook.path, 6);
    const byOrder = (id: string) => received.filter((r) => r.body.ExternalPaymentIdentifier === id).map((r) => `${r.body.Status}${r.body.IsReturn ? ' (return)' : ''}`);
    expect(byOrder(orders['1234567890']!)).toEqual(['Cleared', 'Settled']);
    expect(byOrder(orders['1111111111']!)).toEqual(['Failed']);
    expect(byOrder(orders['2222222222']!)).toEqual(['Cleared', 'Settled', 'Failed (return)']);
    const failed = received.find((r) => r.body.ExternalPaymentIdentifier === orders['1111111111'])!;
    expect(failed.headers).toMatchObject({ 'x-token': 'ds-sandbox-x-token', 'x-eventname': 'Account.Payment.StatusChanged' });
    expect(failed.body).toMatchObject({ Amount: 100, StatusReason: 'Insufficient funds', ContractPrefix: 'TST', IsReturn: false });

    // The payment statuses tell the same, a page at a time.
    const seen: any[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const res = await statuses(`?Limit=2${cursor ? `&nextCursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    }
    const mine = (id: string) => seen.filter((i) => i.externalPaymentIdentifier === id).map((i) => i.status);
    expect(mine(orders['1234567890']!)).toEqual(['Pending', 'Cleared', 'Settled']);
    expect(mine(orders['1111111111']!)).toEqual(['Pending', 'Failed']);
    expect(mine(orders['2222222222']!)).toEqual(['Pending', 'Cleared', 'Settled', 'Failed']);
    expect(pages).toBe(Math.ceil(seen.length / 2));
    expect(new Set(seen.map((i) => `${i.paymentId}/${i.status}`)).size).toBe(seen.length);
    const returned = seen.find((i) => i.externalPaymentIdentifier === orders['2222222222'] && i.status === 'Failed');
    expect(returned).toMatchObject({ isReturn: true, amount: 100 });

    const onlyFailed = (await statuses('?Status=Failed')).body.items;
    expect(onlyFailed.length).toBeGreaterThanOrEqual(2);
    expect(onlyFailed.every((i: any) => i.status === 'Failed')).toBe(true);
    const future = new Date(c.now().getTime() + 86_400_000).toISOString();
    expect((await statuses(`?StartDateTime=${future}`)).body).toEqual({ items: [], nextCursor: null });
    expect((await statuses(`?EndDateTime=${future}&Status=Settled`)).body.items.map((i: any) => i.externalPaymentIdentifier).filter((id: string) => Object.values(orders).includes(id)).sort()).toEqual([orders['1234567890'], orders['2222222222']].sort());
  });

  it('refuses a Limit over 50, an unknown Status, a bad date or cursor', async () => {
    for (const q of ['?Limit=51', '?Limit=0', '?Status=Paid', '?StartDateTime=yesterday', '?nextCursor=nope!']) expect((await statuses(q)).status, q).toBe(400);
    expect((await statuses('?Limit=50')).status).toBe(200);
  });
});
