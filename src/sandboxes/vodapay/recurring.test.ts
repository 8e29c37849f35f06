import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayFrom, HEADERS, newTrace, P, seedRequest, startSandbox, type Client } from './test-client.ts';

/** `POST /V2/Pay/Recurring`: headers, every field of seed 001, both enum spellings, bad bodies. */

let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterAll(() => c.close());

const set = (path: string, value: unknown) => (req: Record<string, any>) => {
  const keys = path.split('.');
  let o: any = req;
  for (const k of keys.slice(0, -1)) o = o[k];
  if (value === undefined) delete o[keys.at(-1)!];
  else o[keys.at(-1)!] = value;
  return req;
};

describe('a valid initiation', () => {
  it('answers 00 with a session, a transaction and the page on the pay host; stores no card data', async () => {
    const req = seedRequest(c.now());
    const res = await c.initiate(req);
    expect(res.status).toBe(200);
    expect(res.body.succeeded).toBe(true);
    const d = res.body.data;
    expect(Object.keys(d)).toEqual(['echoData', 'responseCode', 'responseMessage', 'transmissionDateTime', 'sessionId', 'transactionId', 'traceId', 'initiationUrl']);
    expect(d).toMatchObject({ echoData: '123', responseCode: '00', responseMessage: 'Approved or completed successfully', traceId: req.traceId });
    expect(d.transmissionDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
    expect(d.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.transactionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.initiationUrl).toBe(`${c.h.ctx.config.publicUrl}/sandbox/vodapay-pay/pay?sessionId=${d.sessionId}`);
    expect(await c.ledger(req.traceId)).toEqual([]);
  });

  it.each([
    ['numbers (seed 001)', { category: 6, frequency: 6 }],
    ['names (OpenAPI)', { category: 'OngoingMerchant', frequency: 'Monthly' }],
    ['names in another case', { category: 'ongoingmerchant', frequency: 'MONTHLY' }],
  ])('takes the enums as %s', async (_, enums) => {
    const req = seedRequest(c.now());
    Object.assign(req.recurring, enums);
    expect((await c.initiate(req)).body.data.responseCode).toBe('00');
  });

  it.each([
    ['lower-case notifications, delaySettlement, basket id', (r: any) => ({ ...r, notifications: r.Notifications, Notifications: undefined, delaySettlement: true, delayedSettlement: undefined, basket: [{ ...r.basket[0], id: 'x', Id: undefined }] })],
    ['a date-time firstPaymentDate', (r: any) => set('recurring.firstPaymentDate', `${r.recurring.firstPaymentDate}T00:00:00Z`)(r)],
    ['category 1 with numberOfInstallments', (r: any) => ({ ...r, recurring: { category: 'FixedPeriodMerchant', frequency: 'Weekly', regularPaymentDay: 7, numberOfInstallments: 6 } })],
    ['category 1 with lastPaymentDate', (r: any) => ({ ...r, recurring: { category: 1, frequency: 2, lastPaymentDate: dayFrom(c.now(), 90) } })],
    ['category 11 with an amount', (r: any) => ({ ...r, recurring: { category: 11, frequency: 1, amount: 9900, amountLimit: 20000 } })],
    ['only a digitalWalletId', (r: any) => ({ ...r, customerId: undefined })],
    ['only a customerId', (r: any) => ({ ...r, digitalWalletId: undefined })],
    ['an amount below the purchase', (r: any) => ({ ...r, amount: 100 })],
    ['an unknown numeric theme (the default is used)', (r: any) => set('styling.theme', 7)(r)],
    ['theme and receipt method by name', (r: any) => ({ ...r, styling: { theme: 'MiniApp' }, electronicReceipt: { method: 'Email', address: 'a@b.co' } })],
    ['no optional objects', (r: any) => ({ traceId: r.traceId, amount: 50000, customerId: 'c1', delaySettlement: false, basket: r.basket, recurring: r.recurring })],
    ['annual day 366', (r: any) => ({ ...r, recurring: { ...r.recurring, frequency: 'Annually', regularPaymentDay: 366 } })],
    ['amounts as digit strings', (r: any) => ({ ...r, amount: '50000' })],
  ])('accepts %s', async (_, change) => {
    const req = JSON.parse(JSON.stringify(change(seedRequest(c.now()))));
    const res = await c.initiate(req);
    expect(res.body.data.responseMessage).toBe('Approved or completed successfully');
  });
});

describe('refusals', () => {
  const today = () => dayFrom(c.now(), 0);
  const cases: [string, (r: any) => any, string, RegExp][] = [
    ['traceId too short', set('traceId', 'a'.repeat(11)), 'D2', /traceId must be 12 to 99/],
    ['traceId too long', set('traceId', 'a'.repeat(100)), 'D2', /traceId must be 12 to 99/],
    ['traceId missing', set('traceId', undefined), 'D2', /traceId is required/],
    ['amount missing', set('amount', undefined), 'D2', /amount is required/],
    ['amount zero', set('amount', 0), 'D2', /amount must be a positive/],
    ['amount a decimal', set('amount', 500.5), 'D2', /amount must be an integer/],
    ['amount above the purchase', set('amount', 50001), 'D2', /exceeds the basket's purchase amount 50000/],
    ['no customer', (r) => ({ ...r, customerId: undefined, digitalWalletId: undefined }), 'D2', /customerId or digitalWalletId is required/],
    ['customerId too long', set('customerId', 'c'.repeat(256)), 'D2', /customerId must be 1 to 255/],
    ['digitalWalletId not a UUID', set('digitalWalletId', 'wallet-1'), 'D2', /digitalWalletId must be a 36-character UUID/],
    ['additionalData too long', set('additionalData', 'x'.repeat(10000)), 'D2', /additionalData must be at most 9999/],
    ['delaySettlement missing', set('delayedSettlement', undefined), 'D2', /delaySettlement is required/],
    ['delaySettlement not a boolean', set('delayedSettlement', 'yes'), 'D2', /delaySettlement must be true or false/],
    ['basket missing', set('basket', undefined), 'D2', /basket is required/],
    ['basket empty', set('basket', []), 'D2', /basket must be a non-empty array/],
    ['basket lineNumber out of sequence', set('basket.0.lineNumber', 2), 'D2', /basket\[0\]\.lineNumber must be 1/],
    ['basket Id missing', set('basket.0.Id', undefined), 'D2', /basket\[0\]\.Id is required/],
    ['basket Id too long', set('basket.0.Id', 'i'.repeat(100)), 'D2', /basket\[0\]\.Id must be 1 to 99/],
    ['basket barcode missing', set('basket.0.barcode', undefined), 'D2', /basket\[0\]\.barcode is required/],
    ['basket description too long', set('basket.0.description', 'd'.repeat(100)), 'D2', /basket\[0\]\.description must be 1 to 99/],
    ['basket quantity zero', set('basket.0.quantity', 0), 'D2', /basket\[0\]\.quantity must be at least 1/],
    ['basket amountExVAT missing', set('basket.0.amountExVAT', undefined), 'D2', /basket\[0\]\.amountExVAT is required/],
    ['basket amountVAT negative', set('basket.0.amountVAT', -1), 'D2', /basket\[0\]\.amountVAT must not be negative/],
    ['callbackUrl too long', set('Notifications.callbackUrl', `https://m.co/${'x'.repeat(250)}`), 'D2', /notifications\.callbackUrl must be at most 255/],
    ['notificationUrl not a URL', set('Notifications.notificationUrl', 'notify-me'), 'D2', /notifications\.notificationUrl must be an absolute/],
    ['logoUrl too long', set('styling.logoUrl', `https://m.co/${'x'.repeat(250)}`), 'D2', /styling\.logoUrl must be at most 255/],
    ['theme an unknown name', set('styling.theme', 'Neon'), 'D2', /styling\.theme Neon/],
    ['receipt without address', set('electronicReceipt.address', undefined), 'D2', /electronicReceipt\.address is required when method/],
    ['receipt method 2', set('electronicReceipt.method', 2), 'D2', /electronicReceipt\.method 2 is not a valid code/],
    ['msisdn with a +', set('communication.msisdn', '+27721234567'), 'D2', /communication\.msisdn must be 11 digits/],
    ['message too long', set('communication.message', `{PaymentUrl}${'m'.repeat(90)}`), 'D2', /communication\.message must be at most 99/],
    ['message without {PaymentUrl}', set('communication.message', 'Pay now'), 'D2', /must contain \{PaymentUrl\}/],
    ['recurring missing', set('recurring', undefined), 'D2', /recurring is required/],
    ['category missing', set('recurring.category', undefined), 'D2', /recurring\.category is required/],
    ['category 3', set('recurring.category', 3), 'D2', /recurring\.category 3 is not a valid code/],
    ['category 2, as the seed example has it (FixedPeriodTEP)', set('recurring.category', 2), 'D1', /FixedPeriodTEP is not enabled/],
    ['category OngoingTEP', set('recurring.category', 'OngoingTEP'), 'D1', /OngoingTEP is not enabled/],
    ['frequency 10', set('recurring.frequency', 10), 'D2', /recurring\.frequency 10 is not a valid code/],
    ['frequency missing', set('recurring.frequency', undefined), 'D2', /recurring\.frequency is required/],
    ['monthly day 32', set('recurring.regularPaymentDay', 32), 'D2', /regularPaymentDay must be 1-31 for Monthly/],
    ['weekly day 8', (r) => set('recurring.regularPaymentDay', 8)(set('recurring.frequency', 'Weekly')(r)), 'D2', /must be 1-7 for Weekly/],
    ['fortnightly day 0', (r) => set('recurring.regularPaymentDay', 0)(set('recurring.frequency', 5)(r)), 'D2', /must be 1-7 for Fortnightly/],
    ['biweekly day 6', (r) => set('recurring.regularPaymentDay', 6)(set('recurring.frequency', 3)(r)), 'D2', /must be 1-5 for BiWeekly/],
    ['quarterly day 32', (r) => set('recurring.regularPaymentDay', 32)(set('recurring.frequency', 7)(r)), 'D2', /must be 1-31 for Quarterly/],
    ['twice-annually day 32', (r) => set('recurring.regularPaymentDay', 32)(set('recurring.frequency', 'TwiceAnnually')(r)), 'D2', /must be 1-31 for TwiceAnnually/],
    ['annual day 367', (r) => set('recurring.regularPaymentDay', 367)(set('recurring.frequency', 9)(r)), 'D2', /must be 1-366 for Annually/],
    ['category 6 without a day', set('recurring.regularPaymentDay', undefined), 'D2', /regularPaymentDay is required for ongoing fixed/],
    ['category 6 without a first date', set('recurring.firstPaymentDate', undefined), 'D2', /firstPaymentDate is required for ongoing fixed/],
    ['a first date in the past', (r) => set('recurring.firstPaymentDate', dayFrom(c.now(), -1))(r), 'D2', /firstPaymentDate must not be in the past/],
    ['a first date not ISO', set('recurring.firstPaymentDate', '01/04/2031'), 'D2', /firstPaymentDate must be an ISO 8601 date/],
    ['a first date not in the calendar', set('recurring.firstPaymentDate', '2031-02-30'), 'D2', /firstPaymentDate is not a calendar date/],
    ['a last date before the first', (r) => set('recurring.lastPaymentDate', today())(r), 'D2', /lastPaymentDate must not be before firstPaymentDate/],
    ['category 1 without an end', (r) => ({ ...r, recurring: { category: 1, frequency: 6, regularPaymentDay: 1 } }), 'D2', /numberOfInstallments or lastPaymentDate is required/],
    ['category 11 without an amount', (r) => ({ ...r, recurring: { category: 11, frequency: 1 } }), 'D2', /recurring\.amount is required for ongoing variable/],
    ['recurring amount over its limit', (r) => ({ ...r, recurring: { category: 11, frequency: 1, amount: 500, amountLimit: 400 } }), 'D2', /must not exceed recurring\.amountLimit/],
    ['validity negative', set('recurring.paymentInstrumentMinimumValidityPeriod', -1), 'D2', /paymentInstrumentMinimumValidityPeriod must be 0-600/],
    ['validity not an integer', set('recurring.paymentInstrumentMinimumValidityPeriod', 1.5), 'D2', /paymentInstrumentMinimumValidityPeriod must be an integer/],
  ];
  it.each(cases)('%s', async (_, change, code, message) => {
    const req = change(seedRequest(c.now()));
    const res = await c.initiate(JSON.parse(JSON.stringify(req)));
    expect(res.status).toBe(400);
    expect(res.body.succeeded).toBe(false);
    expect(res.body.data.responseCode).toBe(code);
    expect(res.body.data.responseMessage).toMatch(message);
    expect(res.body.data.responseMessage.length).toBeLessThanOrEqual(99);
    expect(res.body.data.sessionId).toBeNull();
    // A refused request does not use up its traceId.
    if (typeof req.traceId === 'string' && req.traceId.length >= 12 && req.traceId.length <= 99) {
      expect((await c.initiate(seedRequest(c.now(), { traceId: req.traceId }))).body.data.responseCode).toBe('00');
    }
  });
});

describe('headers and bodies', () => {
  it('answers 03 "Invalid merchant" for a wrong or missing api-key', async () => {
    for (const headers of [{ test: 'true' }, { ...HEADERS, 'api-key': '00000000-0000-0000-0000-000000000000' }]) {
      const res = await c.api('/V2/Pay/Recurring', seedRequest(c.now()), headers);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ succeeded: false, data: { responseCode: '03', responseMessage: 'Invalid merchant', echoData: '123' } });
    }
    expect((await c.api('/V2/Pay/Recurring', seedRequest(c.now()), { ...HEADERS, 'api-key': HEADERS['api-key'].toUpperCase() })).body.data.responseCode).toBe('00');
  });

  it('answers D1 for test: false or no test header (this is the UAT host), D2 for another value', async () => {
    expect((await c.api('/V2/Pay/Recurring', seedRequest(c.now()), { 'api-key': HEADERS['api-key'] })).body.data).toMatchObject({ responseCode: 'D1' });
    expect((await c.api('/V2/Pay/Recurring', seedRequest(c.now()), { ...HEADERS, test: 'false' })).body.data).toMatchObject({ responseCode: 'D1' });
    expect((await c.api('/V2/Pay/Recurring', seedRequest(c.now()), { ...HEADERS, test: 'yes' })).body.data).toMatchObject({ responseCode: 'D2' });
  });

  it('serves /v2/… as well as /V2/…, and takes text/json', async () => {
    expect((await c.api('/v2/Pay/Recurring', seedRequest(c.now()))).body.data.responseCode).toBe('00');
    const res = await c.call('POST', `${P}/V2/Pay/Recurring`, JSON.stringify(seedRequest(c.now())), { ...HEADERS, 'content-type': 'text/json' });
    expect(res.body.data.responseCode).toBe('00');
  });

  it.each([
    ['malformed JSON', '{"traceId": ', 'application/json'],
    ['a JSON array', '[1,2]', 'application/json'],
    ['a JSON string', '"hello"', 'application/json'],
    ['a form', 'traceId=abc', 'application/x-www-form-urlencoded'],
    ['plain text', 'hello', 'text/plain'],
    ['an empty body', '', 'application/json'],
    ['wrong types everywhere', JSON.stringify({ traceId: 5, amount: 'many', basket: 'none', recurring: [] }), 'application/json'],
  ])('answers %s in the envelope with D2 and HTTP 400, never a 500', async (_, body, type) => {
    for (const path of ['/V2/Pay/Recurring', '/V2/Pay/SubmitRecurring', '/V2/Token/Cancel']) {
      const res = await c.call('POST', `${P}${path}`, body, { ...HEADERS, 'content-type': type });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ succeeded: false, data: { responseCode: 'D2' } });
    }
  });

  it('answers a traceId of another length D2 even with a valid rest', async () => {
    expect((await c.initiate(seedRequest(c.now(), { traceId: newTrace().slice(0, 11) }))).body.data.responseCode).toBe('D2');
  });
});
