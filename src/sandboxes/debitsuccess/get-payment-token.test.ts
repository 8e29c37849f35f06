import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTES } from './merchant.ts';
import { newExternal, startSandbox, USER, type Client } from './test-client.ts';

/** GetPaymentToken (seed 002): the envelope, the token, and every error code. */

let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterAll(async () => {
  await c.receiver.close();
  await c.h.close();
});

const valid = (overrides: Record<string, unknown> = {}) => ({
  ExternalAccountReferenceNo: newExternal(),
  PayMethodType: 'CreditCard',
  RequestType: 'RealTimePayment',
  Amount: 379.0,
  CreateOneOffCharge: true,
  PaymentNote: 'Monthly fibre',
  CallbackURL: 'https://shop.example/ds-return',
  ...overrides,
});
const codes = (res: any): string[] => res.ResponseNotes.map((n: any) => n.Code);

describe('GetPaymentToken', () => {
  it('answers the seed’s envelope with an 8-character token valid 10 minutes and the form URL ending in it', async () => {
    const before = c.now().getTime();
    const res = await c.getPaymentToken(valid());
    expect(Object.keys(res)).toEqual(['DateCreated', 'Id', 'ResponseNotes', 'Status', 'Token', 'WebhookToken', 'ValidTo', 'PaymentFormURL']);
    expect(res.Status).toBe('Succeed');
    expect(res.ResponseNotes).toEqual([]);
    expect(res.Token).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(res.WebhookToken).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(res.WebhookToken).not.toBe(res.Token);
    expect(new Date(res.ValidTo).getTime() - new Date(res.DateCreated).getTime()).toBe(10 * 60_000);
    expect(new Date(res.DateCreated).getTime()).toBeGreaterThanOrEqual(before);
    expect(res.PaymentFormURL).toBe(`${c.h.baseUrl}/sandbox/debitsuccess/PayNow/T/${res.Token}`);
    expect((await c.open(res.Token)).status).toBe(200);
  });

  it('opens an account for a new ExternalAccountReferenceNo once, and finds it again by either reference', async () => {
    const external = newExternal();
    const first = await c.token({ ExternalAccountReferenceNo: external });
    const second = await c.token({ ExternalAccountReferenceNo: external });
    expect(second.Token).not.toBe(first.Token);
    const status = await c.cardStatus({ ExternalAccountReferenceNo: external, ExternalTransactionIdentifier: second.Token });
    expect(status).toMatchObject({ Status: 'Succeed', TransactionStatus: 'Processing' });
    // The account's reference is what the callback carries; by it alone, and by both, the same account.
    await c.open(first.Token);
    const back = new URL((await c.submit(first.Token, { card_number: '4444333322221111', expiry: '04/25', cvv: '123', holder: 'AUTHORISED' })).headers.get('location')!);
    const accountReferenceNo = back.searchParams.get('AccountReferenceNo')!;
    expect(accountReferenceNo).toMatch(/^TST[0-9]{7}$/);
    expect(back.searchParams.get('ExternalAccountReferenceNo')).toBe(external);
    expect((await c.getPaymentToken(valid({ ExternalAccountReferenceNo: undefined, AccountReferenceNo: accountReferenceNo }))).Status).toBe('Succeed');
    expect((await c.getPaymentToken(valid({ ExternalAccountReferenceNo: external, AccountReferenceNo: accountReferenceNo }))).Status).toBe('Succeed');
  });

  it.each([
    ['02', { User: { ...USER, Password: 'wrong' } }],
    ['02', { User: undefined }],
    ['14034', { RequestType: undefined }],
    ['14034', { RequestType: 'Refund' }],
    ['14035', { PayMethodType: undefined }],
    ['14036', { Amount: undefined }],
    ['14038', { PayMethodType: 'BankAccount' }],
    ['14038', { PayMethodType: 'Both' }],
    ['14039', { CallbackURL: undefined }],
    ['14039', { CallbackURL: '  ' }],
    ['14040', { CallbackURL: `https://shop.example/${'x'.repeat(237)}` }],
    ['14043', { CallbackURL: 'not a url' }],
    ['14043', { CallbackURL: 'ftp://shop.example/return' }],
    ['14043', { CallbackURL: 'https://shop' }],
    ['14041', { PaymentNote: undefined }],
    ['14041', { PaymentNote: '' }],
    ['14042', { PaymentNote: 'x'.repeat(31) }],
    ['14042', { PaymentNote: 'x'.repeat(31), CreateOneOffCharge: false }],
    ['12016', { ExternalAccountReferenceNo: undefined }],
    ['07', { ExternalAccountReferenceNo: 'DS-MULTIPLE' }],
    ['08', { ExternalAccountReferenceNo: undefined, AccountReferenceNo: 'TST9999999' }],
    ['08', { ExternalAccountReferenceNo: 'DS-NORECORD' }],
    ['08', { ExternalAccountReferenceNo: 'DS-ADDON', AccountReferenceNo: 'TST0014045' }],
    ['10', { ExternalAccountReferenceNo: 'DS-INACTIVE' }],
    ['14107', { ExternalAccountReferenceNo: 'DS-ADDON', RequestType: 'UpdatePaymentDetail', PayMethodType: 'BankAccount' }],
    ['14045', { ExternalAccountReferenceNo: 'DS-FIXEDTERM', Amount: '100.01' }],
  ])('answers %s for %o, and issues no token', async (code, overrides) => {
    const body = { ...valid(), ...overrides };
    const res = (await c.call('POST', '/sandbox/debitsuccess/DSAPI/GetPaymentToken', 'User' in overrides ? body : { User: USER, ...body })).body;
    expect(res.Status).toBe('Failed');
    expect(res.ResponseNotes).toEqual([{ Code: code, Note: NOTES[code as keyof typeof NOTES], NoteType: 'Error' }]);
    expect(res).toMatchObject({ Token: null, WebhookToken: null, ValidTo: null, PaymentFormURL: null });
  });

  it('reports every validation error of a request at once', async () => {
    const res = await c.getPaymentToken({ RequestType: 'RealTimePayment', PayMethodType: 'Both', CreateOneOffCharge: true, CallbackURL: 'x'.repeat(300) });
    expect(codes(res).sort()).toEqual(['12016', '14036', '14038', '14040', '14041']);
  });

  it('an add-on account may still pay in real time; a fixed-term account up to its outstanding balance', async () => {
    expect((await c.getPaymentToken(valid({ ExternalAccountReferenceNo: 'DS-ADDON' }))).Status).toBe('Succeed');
    expect((await c.getPaymentToken(valid({ ExternalAccountReferenceNo: 'DS-FIXEDTERM', Amount: '100.00' }))).Status).toBe('Succeed');
    expect((await c.getPaymentToken(valid({ AccountReferenceNo: 'TST0014045', ExternalAccountReferenceNo: undefined, Amount: 250 }))).ResponseNotes[0].Code).toBe('14045');
  });

  it('limits Amount to $2000 a transaction and the account to $500 in credit, naming the range in 14044', async () => {
    const note = (lo: string, hi: string) => NOTES['14044'].replace('{0}', lo).replace('{1}', hi);
    const over = await c.getPaymentToken(valid({ Amount: 2000.01 }));
    expect(over.ResponseNotes).toEqual([{ Code: '14044', Note: note('0.01', '2000.00'), NoteType: 'Error' }]);
    expect((await c.getPaymentToken(valid({ Amount: '2000.00' }))).Status).toBe('Succeed');
    for (const bad of [0, -5, '12.345', 'abc']) expect(codes(await c.getPaymentToken(valid({ Amount: bad })))).toEqual(['14044']);
    // Allocated to the balance (no one-off charge): a new account may go $500 into credit, no further.
    const toBalance = valid({ CreateOneOffCharge: false, PaymentNote: undefined });
    expect((await c.getPaymentToken({ ...toBalance, Amount: 500 })).Status).toBe('Succeed');
    expect((await c.getPaymentToken({ ...toBalance, Amount: 500.01 })).ResponseNotes[0].Note).toBe(note('0.01', '500.00'));
  });

  it('needs no Amount and no PaymentNote to update payment details', async () => {
    const res = await c.getPaymentToken({ ExternalAccountReferenceNo: newExternal(), PayMethodType: 'Both', RequestType: 'UpdatePaymentDetail', CreateOneOffCharge: false, CallbackURL: 'http://localhost:3000/back?x=1' });
    expect(res.Status).toBe('Succeed');
  });
});

describe('GetCardPaymentStatusForCustomerAccount', () => {
  it.each([
    ['02', { User: { ...USER, Username: 'nobody' } }],
    ['12016', {}],
    ['07', { ExternalAccountReferenceNo: 'DS-MULTIPLE' }],
    ['08', { AccountReferenceNo: 'TST9999998' }],
    ['08', { ExternalAccountReferenceNo: newExternal() }],
    ['10', { AccountReferenceNo: 'TST0000010' }],
  ])('answers %s for %o', async (code, fields) => {
    const res = (await c.call('POST', '/sandbox/debitsuccess/DSAPI/GetCardPaymentStatusForCustomerAccount', { User: USER, ExternalTransactionIdentifier: 'AbCd1234', ...fields })).body;
    expect(res).toMatchObject({ Status: 'Failed', TransactionStatus: null });
    expect(codes(res)).toEqual([code]);
  });

  it('answers 08 for a token of another account or no token at all', async () => {
    const mine = newExternal();
    await c.token({ ExternalAccountReferenceNo: mine });
    const theirs = await c.token();
    expect(codes(await c.cardStatus({ ExternalAccountReferenceNo: mine, ExternalTransactionIdentifier: theirs.Token }))).toEqual(['08']);
    expect(codes(await c.cardStatus({ ExternalAccountReferenceNo: mine }))).toEqual(['08']);
  });
});
