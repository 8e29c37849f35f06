import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq, like } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO_PAYFAST_CARD_TOKEN } from '../../demo/ids.ts';
import type { CardOutcome } from '../kit/cards.ts';
import { sandboxNotifications, sandboxSessions, sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { apiSignature, formSignature } from '../../providers/payfast/signature.ts';
import { FORM_FIELDS } from '../../providers/payfast/transformers.ts';

let h: Harness;
let receiver: Server;
let notifyUrl: string;
beforeAll(async () => {
  h = await createHarness();
  receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/itn`;
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
  await h.close();
});

const P = '/sandbox/payfast';
const newRef = () => `P${randomBytes(6).toString('hex')}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const post = (url: string, fields: Record<string, string> | string, headers: Record<string, string> = FORM) =>
  h.app.inject({ method: 'POST', url, headers, payload: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString() });
const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });

function paymentForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    merchant_id: MERCHANT.merchantId,
    merchant_key: MERCHANT.merchantKey,
    return_url: 'https://shop.example/paid',
    cancel_url: 'https://shop.example/cancelled',
    notify_url: notifyUrl,
    m_payment_id: newRef(),
    amount: '100.00',
    item_name: 'Test item',
    ...overrides,
  };
}
const signed = (form: Record<string, string>) => ({ ...form, signature: formSignature(FORM_FIELDS.filter((k) => form[k] !== undefined).map((k) => [k, form[k]!] as const), MERCHANT.passphrase) });

/** Posts the hosted form and returns the payment page's path. */
async function openPage(overrides: Record<string, string> = {}): Promise<{ path: string; id: string; ref: string }> {
  const form = paymentForm(overrides);
  const res = await post(`${P}/eng/process`, form);
  expect(res.statusCode, res.body).toBe(302);
  const url = new URL(res.headers.location as string);
  return { path: url.pathname, id: url.pathname.split('/').pop()!, ref: form.m_payment_id! };
}
const card = (number: string) => ({ card_number: number, expiry: '12/30', cvv: '123', holder: 'Test Holder' });
const rows = (ref: string) => h.ctx.database.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.merchantReference, ref));
const itnsFor = (ref: string) => h.ctx.database.db.select().from(sandboxNotifications).where(like(sandboxNotifications.body, `m_payment_id=${ref}&%`));

function apiHeaders(fields: Record<string, string> = {}, overrides: Record<string, string> = {}): Record<string, string> {
  const base = { 'merchant-id': MERCHANT.merchantId, version: 'v1', timestamp: new Date().toISOString() };
  return { ...base, signature: apiSignature({ ...base, ...fields }, MERCHANT.passphrase), ...overrides };
}
const adhoc = (token: string, body: Record<string, unknown>, headers = apiHeaders(Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])))) =>
  h.app.inject({ method: 'POST', url: `${P}/api/subscriptions/${token}/adhoc`, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
const query = (id: string) => h.app.inject({ method: 'GET', url: `${P}/api/process/query/${encodeURIComponent(id)}`, headers: apiHeaders() });

async function cardToken(outcome: CardOutcome = 'approve', notify: string | null = null): Promise<string> {
  const token = randomUUID();
  await h.ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PayFast', outcome, cardBin: '424242', cardLast4: '4242', expiryMonth: 1, expiryYear: 2032, holder: 'Test', notifyUrl: notify });
  return token;
}

describe('POST /eng/process (the hosted form)', () => {
  it('opens a payment page for a valid form, signed or not, at an absolute URL', async () => {
    for (const form of [paymentForm(), signed(paymentForm({ name_first: 'Konstand', item_description: 'A ~ test (1)' }))]) {
      const res = await post(`${P}/eng/process`, form);
      expect(res.statusCode, res.body).toBe(302);
      expect(res.headers.location).toMatch(new RegExp(`^http://localhost(:80)?${P}/eng/process/payment/[0-9a-f-]{36}$`));
    }
  });

  it.each([
    [{ merchant_id: '10000101' }, 'merchant_id'],
    [{ merchant_key: 'nope' }, 'merchant_key'],
    [{ signature: '0'.repeat(32) }, 'Generated signature does not match submitted signature'],
    [{ amount: '' }, 'amount'],
    [{ amount: '10' }, 'amount'],
    [{ amount: '0.00' }, 'amount'],
    [{ amount: '-1.00' }, 'amount'],
    [{ amount: '1.005' }, 'amount'],
    [{ item_name: '' }, 'item_name'],
    [{ item_name: 'x'.repeat(101) }, 'item_name'],
    [{ return_url: 'javascript:alert(1)' }, 'return_url'],
    [{ notify_url: 'ftp://shop.example/itn' }, 'notify_url'],
    [{ m_payment_id: 'x'.repeat(101) }, 'm_payment_id'],
    [{ subscription_type: '1' }, 'subscription_type'],
    [{ email_address: 'not-an-email' }, 'email_address'],
  ])('refuses %o with a 400 page naming %s', async (override, named) => {
    const res = await post(`${P}/eng/process`, paymentForm(override));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain(named);
  });

  it('refuses empty and non-form bodies with a 4xx', async () => {
    expect((await post(`${P}/eng/process`, '')).statusCode).toBe(400);
    expect((await post(`${P}/eng/process`, '[1,2]', { 'content-type': 'application/json' })).statusCode).toBe(400);
    expect((await post(`${P}/eng/process`, '{"merchant_id":{"a":1}}', { 'content-type': 'application/json' })).statusCode).toBe(400);
    expect((await post(`${P}/eng/process`, 'hello', { 'content-type': 'text/plain' })).statusCode).toBe(400);
    expect((await post(`${P}/eng/process`, 'a=%00', FORM)).statusCode).toBe(400);
    // A lone surrogate in JSON is stored as U+FFFD, as a form post would have it, not a failed jsonb insert.
    const lone = await post(`${P}/eng/process`, JSON.stringify(paymentForm({ item_name: 'Caf\ud800' })), { 'content-type': 'application/json' });
    expect(lone.statusCode).toBe(302);
    expect((await adhoc(DEMO_PAYFAST_CARD_TOKEN, { amount: 100, item_name: '\udc00', item_description: 'x\ud800' })).statusCode).toBe(200);
  });

  it('refuses an m_payment_id that has been paid already', async () => {
    const page = await openPage();
    expect((await post(page.path, card('4242424242424242'))).statusCode).toBe(302);
    const again = await post(`${P}/eng/process`, paymentForm({ m_payment_id: page.ref }));
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('Duplicate m_payment_id');
  });
});

describe('the payment page', () => {
  it('is 404 for unknown or malformed ids, 410 once expired', async () => {
    for (const id of [randomUUID(), 'nope', '%00', 'x'.repeat(180), "1'; drop table x; --"]) {
      expect((await get(`${P}/eng/process/payment/${id}`)).statusCode).toBe(404);
      expect((await post(`${P}/eng/process/payment/${id}`, card('4242424242424242'))).statusCode).toBe(404);
    }
    const page = await openPage();
    expect((await query(page.ref)).json().data.response.payment_status).toBe('PENDING');
    await h.ctx.database.db.update(sandboxSessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(sandboxSessions.id, page.id));
    expect((await get(page.path)).statusCode).toBe(410);
    expect((await post(page.path, card('4242424242424242'))).statusCode).toBe(410);
    expect((await query(page.ref)).json().data.response.payment_status).toBe('CANCELLED');
  });

  it('shows the summary, and re-renders a bad card with its error', async () => {
    const page = await openPage({ amount: '379.00', item_name: 'Monthly Recurring 20/10' });
    const res = await get(page.path);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('R 379.00');
    expect(res.body).toContain('Monthly Recurring 20/10');
    expect(res.body).toContain('https://shop.example/cancelled');
    const bad = await post(page.path, { ...card('4242424242424241') });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Enter a valid card number.');
    expect((await post(page.path, { ...card('4242424242424242'), expiry: '01/20' })).body).toContain('expired');
    expect((await get(page.path)).statusCode).toBe(200);
  });

  it('declines a card once: FAILED ITN, a way back to the merchant, and the page is done', async () => {
    for (const [number, message] of [['4000000000000002', 'DO NOT HONOUR'], ['4000000000009995', 'INSUFFICIENT FUNDS']] as const) {
      const page = await openPage();
      const res = await post(page.path, card(number));
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(message);
      expect(res.body).toContain('href="https://shop.example/cancelled"');
      expect((await rows(page.ref)).map((r) => r.status)).toEqual(['declined']);
      const [itn] = await itnsFor(page.ref);
      expect(itn!.body).toContain('payment_status=FAILED');
      expect(itn!.body).not.toContain('token=');
      const after = await get(page.path);
      expect(after.statusCode).toBe(410);
      expect(after.body).toContain('declined');
      expect((await query(page.ref)).json().data.response.payment_status).toBe('FAILED');
    }
  });

  it('answers 503 once for card …0259, then approves the retry', async () => {
    const page = await openPage();
    const first = await post(page.path, card('4000000000000259'));
    expect(first.statusCode).toBe(503);
    expect(first.body).toContain('try again');
    expect((await post(page.path, card('4000000000000259'))).statusCode).toBe(302);
    expect((await rows(page.ref)).map((r) => r.status).sort()).toEqual(['approved', 'unavailable']);
  });

  it('approves card …0119 and sends the ITN, but the browser only hears the connection was lost', async () => {
    const page = await openPage({ subscription_type: '2' });
    const res = await post(page.path, card('4000000000000119'));
    expect(res.statusCode).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('connection');
    expect((await rows(page.ref)).map((r) => r.status)).toEqual(['approved']);
    const [itn] = await itnsFor(page.ref);
    const fields = [...new URLSearchParams(itn!.body)].map(([k]) => k);
    expect(fields).toEqual([
      'm_payment_id', 'pf_payment_id', 'payment_status', 'item_name', 'item_description', 'amount_gross', 'amount_fee', 'amount_net',
      'custom_str1', 'custom_str2', 'custom_str3', 'custom_str4', 'custom_str5', 'custom_int1', 'custom_int2', 'custom_int3', 'custom_int4', 'custom_int5',
      'name_first', 'name_last', 'email_address', 'merchant_id', 'token', 'billing_date', 'card_last4', 'card_expiry', 'signature',
    ]);
    const values = new URLSearchParams(itn!.body);
    expect(values.get('amount_gross')).toBe('100.00');
    expect(values.get('amount_fee')).toBe('-5.50');
    expect(values.get('amount_net')).toBe('94.50');
    expect(values.get('card_expiry')).toBe('12/30');
  });

  it('shows a success page when the merchant gave no return_url', async () => {
    const form = paymentForm();
    delete form.return_url;
    const res = await post(`${P}/eng/process`, form);
    const paid = await post(new URL(res.headers.location as string).pathname, card('4242424242424242'));
    expect(paid.statusCode).toBe(200);
    expect(paid.body).toContain('successful');
  });
});

describe('POST /eng/query/validate', () => {
  it('says VALID only for an ITN the sandbox sent, with or without its signature', async () => {
    const page = await openPage();
    await post(page.path, card('4242424242424242'));
    const [itn] = await itnsFor(page.ref);
    const body = itn!.body;
    const withoutSignature = body.replace(/&signature=[0-9a-f]+$/, '');
    const validate = async (payload: string, headers: Record<string, string> = FORM) => (await post(`${P}/eng/query/validate`, payload, headers)).body;
    expect(await validate(body)).toBe('VALID');
    expect(await validate(withoutSignature)).toBe('VALID');
    expect(await validate(withoutSignature.replace(/\+/g, '%20'))).toBe('VALID');
    expect(await validate(withoutSignature, { 'content-type': 'text/plain' })).toBe('VALID');
    expect(await validate(withoutSignature.replace('amount_gross=100.00', 'amount_gross=1.00'))).toBe('INVALID');
    expect(await validate('')).toBe('INVALID');
    expect(await validate('a\u0000b=1', { 'content-type': 'text/plain' })).toBe('INVALID');
    expect(await validate('{"a":1}', { 'content-type': 'application/json' })).toBe('INVALID');
  });
});

describe('the API', () => {
  it('answers a signed ping, with or without ?testing=true', async () => {
    expect((await get(`${P}/api/ping`, apiHeaders())).json()).toMatchObject({ code: 200, status: 'success' });
    expect((await get(`${P}/api/ping?testing=true`, apiHeaders())).statusCode).toBe(200);
    expect((await get(`${P}/api/ping?testing=true`, apiHeaders({ testing: 'true' }))).statusCode).toBe(200);
  });

  it('refuses missing or wrong credentials in PayFast’s shape', async () => {
    const cases: [Record<string, string>, number][] = [
      [{}, 401],
      [apiHeaders({}, { signature: '0'.repeat(32) }), 401],
      [apiHeaders({}, { 'merchant-id': '10000101' }), 401],
      [apiHeaders({}, { version: 'v2' }), 400],
      [apiHeaders({}, { timestamp: 'yesterday' }), 400],
    ];
    for (const [headers, status] of cases) {
      const res = await get(`${P}/api/ping`, headers);
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual({ code: status, status: 'failed', data: { message: expect.any(String) } });
    }
  });

  it('validates ad hoc charges and answers approvals with the same pf_payment_id on a repeat', async () => {
    const bad = await h.app.inject({ method: 'POST', url: `${P}/api/subscriptions/${DEMO_PAYFAST_CARD_TOKEN}/adhoc`, headers: { ...apiHeaders(), 'content-type': 'application/json' }, payload: '{oops' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 400, status: 'failed' });
    for (const body of [{ amount: 1.5, item_name: 'x' }, { amount: -100, item_name: 'x' }, { amount: 'abc', item_name: 'x' }, { amount: 100 }, { amount: 100, item_name: 'x', m_payment_id: 'y'.repeat(101) }]) {
      const res = await adhoc(DEMO_PAYFAST_CARD_TOKEN, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().data.message).toMatch(/amount|item_name|m_payment_id/);
    }
    expect((await adhoc('not-a-token', { amount: 100, item_name: 'x' })).statusCode).toBe(404);
    expect((await adhoc(randomUUID(), { amount: 100, item_name: 'x' })).statusCode).toBe(404);

    const ref = newRef();
    const ok = await adhoc(DEMO_PAYFAST_CARD_TOKEN, { amount: 29_900, item_name: '30 Day bundle', m_payment_id: ref });
    expect(ok.json()).toMatchObject({ code: 200, status: 'success', data: { response: true, message: 'Transaction was successful(00)', amount: 29_900 } });
    const again = await adhoc(DEMO_PAYFAST_CARD_TOKEN, { amount: 29_900, item_name: '30 Day bundle', m_payment_id: ref });
    expect(again.json().data.pf_payment_id).toBe(ok.json().data.pf_payment_id);
    expect(await rows(ref)).toHaveLength(1);
    const byPf = (await query(ok.json().data.pf_payment_id)).json();
    expect(byPf.data.response).toMatchObject({ m_payment_id: ref, payment_status: 'COMPLETE', amount_gross: '299.00' });
    expect((await query(ref)).json().data.response.payment_status).toBe('COMPLETE');
  });

  it('declines with PayFast’s messages', async () => {
    const declined = await adhoc(await cardToken('decline'), { amount: 100, item_name: 'x', m_payment_id: newRef() });
    expect(declined.statusCode).toBe(400);
    expect(declined.json()).toEqual({ code: 400, status: 'failed', data: { response: false, message: 'DO NOT HONOUR' } });
    expect((await adhoc(await cardToken('insufficient_funds'), { amount: 100, item_name: 'x' })).json().data.message).toBe('INSUFFICIENT FUNDS');
  });

  it('fetches a token without its card number, and cancels it', async () => {
    const token = await cardToken();
    const fetched = await get(`${P}/api/subscriptions/${token}/fetch`, apiHeaders());
    expect(fetched.json().data.response).toMatchObject({ token, status_text: 'ACTIVE' });
    expect(fetched.body).not.toContain('424242');
    const cancelled = await h.app.inject({ method: 'PUT', url: `${P}/api/subscriptions/${token}/cancel`, headers: apiHeaders() });
    expect(cancelled.json()).toMatchObject({ code: 200, status: 'success' });
    expect((await get(`${P}/api/subscriptions/${token}/fetch`, apiHeaders())).json().data.response.status_text).toBe('CANCELLED');
    expect((await adhoc(token, { amount: 100, item_name: 'x' })).statusCode).toBe(404);
    expect((await get(`${P}/api/subscriptions/${randomUUID()}/fetch`, apiHeaders())).statusCode).toBe(404);
  });

  it('answers 404 to a query about nothing', async () => {
    expect((await query(newRef())).statusCode).toBe(404);
    expect((await query('x'.repeat(150))).statusCode).toBe(404);
  });
});

describe('card update pages', () => {
  it('refuses unknown tokens and unsafe return URLs, re-renders bad cards, and records a R0.00 update', async () => {
    expect((await get(`${P}/eng/recurring/update/${randomUUID()}`)).statusCode).toBe(404);
    expect((await get(`${P}/eng/recurring/update/%00`)).statusCode).toBe(404);
    const token = await cardToken();
    expect((await get(`${P}/eng/recurring/update/${token}?return=javascript:alert(1)`)).statusCode).toBe(400);
    expect((await post(`${P}/eng/recurring/update/${token}`, { ...card('1234'), return: 'data:text/html,hi' })).statusCode).toBe(400);
    const bad = await post(`${P}/eng/recurring/update/${token}`, card('1234'));
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Update your card');
    const done = await post(`${P}/eng/recurring/update/${token}`, card('4000000000000002'));
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('0002');
    const [row] = await h.ctx.database.db.select().from(sandboxTokens).where(eq(sandboxTokens.token, token));
    expect(row).toMatchObject({ outcome: 'decline', cardLast4: '0002' });
    const updates = await h.ctx.database.db.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.token, token), eq(sandboxTransactions.kind, 'card_update')));
    expect(updates).toEqual([expect.objectContaining({ status: 'approved', amountCents: 0 })]);
    // The token came from no payment, so it has no notify_url: the notice goes to the merchant account's default.
    const [notice] = await h.ctx.database.db.select().from(sandboxNotifications).where(like(sandboxNotifications.body, `%token=${token}%`));
    expect(notice).toMatchObject({ url: `${h.ctx.config.publicUrl}/payfast-payments/itn` });
    expect(notice!.body).toContain('payment_status=UPDATED');
    // The updated card now declines.
    expect((await adhoc(token, { amount: 100, item_name: 'x' })).statusCode).toBe(400);
  });

  it('keeps a ledger readable at /transactions', async () => {
    const res = await get(`${P}/transactions?status=approved`);
    expect(res.statusCode).toBe(200);
    expect(res.json().items.length).toBeGreaterThan(0);
  });
});

describe('a hostile client of the sandbox', () => {
  it('gets a 4xx, never a 5xx, for junk anywhere', async () => {
    const junk = fc.string({ maxLength: 40, unit: 'binary' });
    const form = fc.dictionary(fc.constantFrom('merchant_id', 'amount', 'item_name', 'return_url', 'card_number', 'expiry', 'return', 'signature', 'x'), junk);
    await fc.assert(
      fc.asyncProperty(junk, form, fc.constantFrom('GET', 'POST', 'PUT'), async (segment, fields, method) => {
        const id = encodeURIComponent(segment) || 'x';
        const urls = [
          `${P}/eng/process`,
          `${P}/eng/process/payment/${id}`,
          `${P}/eng/recurring/update/${id}?return=${id}`,
          `${P}/eng/query/validate`,
          `${P}/api/subscriptions/${id}/adhoc`,
          `${P}/api/subscriptions/${id}/fetch`,
          `${P}/api/subscriptions/${id}/cancel`,
          `${P}/api/process/query/${id}`,
        ];
        for (const url of urls) {
          const res = await h.app.inject({ method, url, headers: { ...FORM, ...apiHeaders(method === 'GET' ? {} : fields) }, payload: method === 'GET' ? undefined : new URLSearchParams(fields).toString() });
          expect(res.statusCode, `${method} ${url} ${JSON.stringify(fields)} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
        }
      }),
      { numRuns: 25 },
    );
  });
});
