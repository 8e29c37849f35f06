import { randomUUID } from 'node:crypto';
import { and, eq, like } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../../../test/helpers/harness.ts';
import { DEMO_PAYFAST_CARD_TOKEN } from '../../demo/ids.ts';
import { sandboxNotifications, sandboxSessions, sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import { card, FORM, ITN_FIELDS, P, readItn, startSandbox, type Client, type Receiver } from './test-client.ts';

/** The hosted form, the payment page, ITNs of pages, server confirmation, token fetch/cancel, card update, behaviour settings. */

let h: Harness;
let receiver: Receiver;
let c: Client;
let notifyUrl: string;
beforeAll(async () => {
  ({ h, receiver, client: c } = await startSandbox());
  notifyUrl = receiver.fresh().url;
});
afterEach(async () => {
  await c.resetBehaviour();
});
afterAll(async () => {
  await receiver.close();
  await h.close();
});

describe('POST /eng/process (the hosted form)', () => {
  it('opens a payment page for a valid form, signed or not, at an absolute URL', async () => {
    for (const form of [c.paymentForm(notifyUrl), c.signedForm(c.paymentForm(notifyUrl, { name_first: 'Konstand', item_description: 'A ~ test (1)' }))]) {
      const res = await c.post(`${P}/eng/process`, form);
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
    const res = await c.post(`${P}/eng/process`, c.paymentForm(notifyUrl, override));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain(named);
  });

  it('refuses empty and non-form bodies with a 4xx', async () => {
    expect((await c.post(`${P}/eng/process`, '')).statusCode).toBe(400);
    expect((await c.post(`${P}/eng/process`, '[1,2]', { 'content-type': 'application/json' })).statusCode).toBe(400);
    expect((await c.post(`${P}/eng/process`, '{"merchant_id":{"a":1}}', { 'content-type': 'application/json' })).statusCode).toBe(400);
    expect((await c.post(`${P}/eng/process`, 'hello', { 'content-type': 'text/plain' })).statusCode).toBe(400);
    expect((await c.post(`${P}/eng/process`, 'a=%00', FORM)).statusCode).toBe(400);
    // A lone surrogate in JSON is stored as U+FFFD, as a form post would have it, not a failed jsonb insert.
    const lone = await c.post(`${P}/eng/process`, JSON.stringify(c.paymentForm(notifyUrl, { item_name: 'Caf\ud800' })), { 'content-type': 'application/json' });
    expect(lone.statusCode).toBe(302);
    expect((await c.adhoc(DEMO_PAYFAST_CARD_TOKEN, { amount: 100, item_name: '\udc00', item_description: 'x\ud800', itn: 0 })).statusCode).toBe(200);
  });

  it('does not deduplicate on m_payment_id: a second page of a paid m_payment_id opens and charges again', async () => {
    const first = await c.openPage(notifyUrl);
    expect((await c.post(first.path, card('4242424242424242'))).statusCode).toBe(302);
    const second = await c.openPage(notifyUrl, { m_payment_id: first.ref });
    expect(second.id).not.toBe(first.id);
    expect((await c.post(second.path, card('4242424242424242'))).statusCode).toBe(302);
    const charged = await c.rows(first.ref);
    expect(charged.map((r) => r.status)).toEqual(['approved', 'approved']);
    expect(new Set(charged.map((r) => r.id)).size).toBe(2);
  });
});

describe('the payment page', () => {
  it('is 404 for unknown or malformed ids, 410 once expired, and is never found by a query', async () => {
    for (const id of [randomUUID(), 'nope', '%00', 'x'.repeat(180), "1'; drop table x; --"]) {
      expect((await c.get(`${P}/eng/process/payment/${id}`)).statusCode).toBe(404);
      expect((await c.post(`${P}/eng/process/payment/${id}`, card('4242424242424242'))).statusCode).toBe(404);
    }
    const page = await c.openPage(notifyUrl);
    // An open page has made no transaction: neither its uuid nor its m_payment_id finds anything.
    expect((await c.query(page.id)).statusCode).toBe(404);
    expect((await c.query(page.ref)).statusCode).toBe(404);
    await h.ctx.database.db.update(sandboxSessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(sandboxSessions.id, page.id));
    expect((await c.get(page.path)).statusCode).toBe(410);
    expect((await c.post(page.path, card('4242424242424242'))).statusCode).toBe(410);
    expect((await c.query(page.id)).statusCode).toBe(404);
  });

  it('shows the summary, and re-renders a bad card with its error', async () => {
    const page = await c.openPage(notifyUrl, { amount: '379.00', item_name: 'Monthly Recurring 20/10' });
    const res = await c.get(page.path);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('R 379.00');
    expect(res.body).toContain('Monthly Recurring 20/10');
    expect(res.body).toContain('https://shop.example/cancelled');
    const bad = await c.post(page.path, { ...card('4242424242424241') });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Enter a valid card number.');
    expect((await c.post(page.path, { ...card('4242424242424242'), expiry: '01/20' })).body).toContain('expired');
    expect((await c.get(page.path)).statusCode).toBe(200);
  });

  it('declines a card once: FAILED ITN, a way back to the merchant, the page is done, and its pf_payment_id queries FAILED', async () => {
    for (const [number, message] of [['4000000000000002', 'DO NOT HONOUR'], ['4000000000009995', 'INSUFFICIENT FUNDS']] as const) {
      const page = await c.openPage(notifyUrl);
      const res = await c.post(page.path, card(number));
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(message);
      expect(res.body).toContain('href="https://shop.example/cancelled"');
      expect((await c.rows(page.ref)).map((r) => r.status)).toEqual(['declined']);
      const [itn] = await c.itnsFor(page.ref);
      expect(itn!.body).toContain('payment_status=FAILED');
      expect(itn!.body).not.toContain('token=');
      const after = await c.get(page.path);
      expect(after.statusCode).toBe(410);
      expect(after.body).toContain('declined');
      const pf = readItn(itn!.body).values.get('pf_payment_id')!;
      expect((await c.query(pf)).json().data.response).toMatchObject({ m_payment_id: page.ref, pf_payment_id: pf, payment_status: 'FAILED', result_description: message });
    }
  });

  it('answers 503 once for card …0259, then approves the retry', async () => {
    const page = await c.openPage(notifyUrl);
    const first = await c.post(page.path, card('4000000000000259'));
    expect(first.statusCode).toBe(503);
    expect(first.body).toContain('try again');
    expect(await c.itnsFor(page.ref)).toHaveLength(0);
    expect((await c.post(page.path, card('4000000000000259'))).statusCode).toBe(302);
    expect((await c.rows(page.ref)).map((r) => r.status).sort()).toEqual(['approved', 'unavailable']);
  });

  it('approves card …0119 and sends the ITN, but the browser only hears the connection was lost', async () => {
    const page = await c.openPage(notifyUrl, { subscription_type: '2' });
    const res = await c.post(page.path, card('4000000000000119'));
    expect(res.statusCode).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('connection');
    expect((await c.rows(page.ref)).map((r) => r.status)).toEqual(['approved']);
    const [itn] = await c.itnsFor(page.ref);
    const { fields, values, signed } = readItn(itn!.body);
    expect(fields.map(([k]) => k)).toEqual([...ITN_FIELDS, 'token', 'billing_date', 'card_last4', 'card_expiry', 'signature']);
    expect(signed).toBe(true);
    expect(values.get('amount_gross')).toBe('100.00');
    expect(values.get('amount_fee')).toBe('-5.50');
    expect(values.get('amount_net')).toBe('94.50');
    expect(values.get('card_expiry')).toBe('12/30');
    // The paid page's transaction is found by its pf_payment_id.
    expect((await c.query(values.get('pf_payment_id')!)).json().data.response).toMatchObject({ m_payment_id: page.ref, payment_status: 'COMPLETE', amount_gross: '100.00', item_name: 'Test item' });
  });

  it('shows a success page when the merchant gave no return_url', async () => {
    const form = c.paymentForm(notifyUrl);
    delete form.return_url;
    const res = await c.post(`${P}/eng/process`, form);
    const paid = await c.post(new URL(res.headers.location as string).pathname, card('4242424242424242'));
    expect(paid.statusCode).toBe(200);
    expect(paid.body).toContain('successful');
  });

  it('sends the ITN of a form without notify_url to the merchant account’s default notify URL', async () => {
    const page = await c.openPage(null);
    expect((await c.post(page.path, card('4242424242424242'))).statusCode).toBe(302);
    expect((await c.itnsFor(page.ref)).map((n) => n.url)).toEqual([`${h.ctx.config.publicUrl}/callbacks/payfast/itn`]);
    const elsewhere = receiver.fresh();
    expect((await c.behave({ notifyUrl: elsewhere.url })).statusCode).toBe(200);
    const next = await c.openPage(null);
    await c.post(next.path, card('4000000000000002'));
    const [arrived] = await receiver.waitFor(elsewhere.path, 1);
    expect(arrived!.body).toMatch(new RegExp(`^m_payment_id=${next.ref}&.*payment_status=FAILED`));
  });
});

describe('POST /eng/query/validate', () => {
  it('says VALID only for an ITN the sandbox sent, with or without its signature', async () => {
    const page = await c.openPage(notifyUrl);
    await c.post(page.path, card('4242424242424242'));
    const [itn] = await c.itnsFor(page.ref);
    const body = itn!.body;
    const withoutSignature = body.replace(/&signature=[0-9a-f]+$/, '');
    const validate = async (payload: string, headers: Record<string, string> = FORM) => (await c.post(`${P}/eng/query/validate`, payload, headers)).body;
    expect(await validate(body)).toBe('VALID');
    expect(await validate(withoutSignature)).toBe('VALID');
    expect(await validate(withoutSignature.replace(/\+/g, '%20'))).toBe('VALID');
    expect(await validate(withoutSignature, { 'content-type': 'text/plain' })).toBe('VALID');
    expect(await validate(withoutSignature.replace('amount_gross=100.00', 'amount_gross=1.00'))).toBe('INVALID');
    expect(await validate('')).toBe('INVALID');
    expect(await validate('a\u0000b=1', { 'content-type': 'text/plain' })).toBe('INVALID');
    expect(await validate('{"a":1}', { 'content-type': 'application/json' })).toBe('INVALID');
  });

  it('answers an HTML 403 page instead of VALID with validate "html_403", and VALID again once reset', async () => {
    const page = await c.openPage(notifyUrl);
    await c.post(page.path, card('4242424242424242'));
    const [itn] = await c.itnsFor(page.ref);
    expect((await c.behave({ validate: 'html_403' })).json()).toMatchObject({ validate: 'html_403' });
    const refused = await c.post(`${P}/eng/query/validate`, itn!.body);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(refused.body).toContain('<h1>403 Forbidden</h1>');
    expect(refused.body).not.toContain('VALID');
    await c.resetBehaviour();
    expect((await c.post(`${P}/eng/query/validate`, itn!.body)).body).toBe('VALID');
  });
});

describe('the API: signatures, fetch and cancel', () => {
  it('answers a signed ping, with or without ?testing=true', async () => {
    expect((await c.get(`${P}/api/ping`, c.apiHeaders())).json()).toMatchObject({ code: 200, status: 'success' });
    expect((await c.get(`${P}/api/ping?testing=true`, c.apiHeaders())).statusCode).toBe(200);
    expect((await c.get(`${P}/api/ping?testing=true`, c.apiHeaders({ testing: 'true' }))).statusCode).toBe(200);
  });

  it('refuses missing or wrong credentials in PayFast’s shape', async () => {
    const cases: [Record<string, string>, number][] = [
      [{}, 401],
      [c.apiHeaders({}, { signature: '0'.repeat(32) }), 401],
      [c.apiHeaders({}, { 'merchant-id': '10000101' }), 401],
      [c.apiHeaders({}, { version: 'v2' }), 400],
      [c.apiHeaders({}, { timestamp: 'yesterday' }), 400],
    ];
    for (const [headers, status] of cases) {
      const res = await c.get(`${P}/api/ping`, headers);
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual({ code: status, status: 'failed', data: { message: expect.any(String) } });
    }
  });

  it('fetches a token without its card number, and cancels it', async () => {
    const token = await c.cardToken();
    const fetched = await c.get(`${P}/api/subscriptions/${token}/fetch`, c.apiHeaders());
    expect(fetched.json().data.response).toMatchObject({ token, status_text: 'ACTIVE' });
    expect(fetched.body).not.toContain('424242');
    const cancelled = await h.app.inject({ method: 'PUT', url: `${P}/api/subscriptions/${token}/cancel`, headers: c.apiHeaders() });
    expect(cancelled.json()).toMatchObject({ code: 200, status: 'success' });
    expect((await c.get(`${P}/api/subscriptions/${token}/fetch`, c.apiHeaders())).json().data.response.status_text).toBe('CANCELLED');
    expect((await c.get(`${P}/api/subscriptions/${randomUUID()}/fetch`, c.apiHeaders())).statusCode).toBe(404);
  });
});

describe('card update pages', () => {
  it('refuses unknown tokens and unsafe return URLs, re-renders bad cards, and records a R0.00 update', async () => {
    expect((await c.get(`${P}/eng/recurring/update/${randomUUID()}`)).statusCode).toBe(404);
    expect((await c.get(`${P}/eng/recurring/update/%00`)).statusCode).toBe(404);
    const token = await c.cardToken();
    expect((await c.get(`${P}/eng/recurring/update/${token}?return=javascript:alert(1)`)).statusCode).toBe(400);
    expect((await c.post(`${P}/eng/recurring/update/${token}`, { ...card('1234'), return: 'data:text/html,hi' })).statusCode).toBe(400);
    const bad = await c.post(`${P}/eng/recurring/update/${token}`, card('1234'));
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Update your card');
    const done = await c.post(`${P}/eng/recurring/update/${token}`, card('4000000000000002'));
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('0002');
    const [row] = await h.ctx.database.db.select().from(sandboxTokens).where(eq(sandboxTokens.token, token));
    expect(row).toMatchObject({ outcome: 'decline', cardLast4: '0002' });
    const updates = await h.ctx.database.db.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.token, token), eq(sandboxTransactions.kind, 'card_update')));
    expect(updates).toEqual([expect.objectContaining({ status: 'approved', amountCents: 0 })]);
    // The token came from no payment, so it has no notify_url: the notice goes to the merchant account's default.
    const [notice] = await h.ctx.database.db.select().from(sandboxNotifications).where(like(sandboxNotifications.body, `%token=${token}%`));
    expect(notice).toMatchObject({ url: `${h.ctx.config.publicUrl}/callbacks/payfast/itn` });
    expect(notice!.body).toContain('payment_status=UPDATED');
    // A card update is not a payment: its pf_payment_id finds nothing.
    expect((await c.query(updates[0]!.id)).statusCode).toBe(404);
    // The updated card now declines (inside an HTTP 200, as PayFast does).
    expect((await c.adhoc(token, { amount: 100, item_name: 'x', itn: false })).json().data.response).toBe('05');
  });

  it('sends the card-update notice to the token’s notify_url, or the default set in the behaviour', async () => {
    const own = receiver.fresh();
    const withUrl = await c.cardToken('approve', own.url);
    await c.post(`${P}/eng/recurring/update/${withUrl}`, card('4242424242424242'));
    const [arrived] = await receiver.waitFor(own.path, 1);
    expect(readItn(arrived!.body)).toMatchObject({ signed: true });
    expect(arrived!.body).toContain(`token=${withUrl}`);
    const fallback = receiver.fresh();
    await c.behave({ notifyUrl: fallback.url });
    const without = await c.cardToken();
    await c.post(`${P}/eng/recurring/update/${without}`, card('4242424242424242'));
    expect((await receiver.waitFor(fallback.path, 1))[0]!.body).toContain(`token=${without}`);
  });

  it('keeps a ledger readable at /transactions', async () => {
    const res = await c.get(`${P}/transactions?status=approved`);
    expect(res.statusCode).toBe(200);
    expect(res.json().items.length).toBeGreaterThan(0);
  });
});

describe('GET|PUT|DELETE /sandbox/payfast/behaviour', () => {
  const DEFAULTS = { adhocSuccess: 'string', declineShape: 'code', itn: 'normal', itnDelayMs: 2000, validate: 'normal', notifyUrl: null };

  it('shows the defaults, changes only the fields named, and restores the defaults', async () => {
    expect((await c.get(`${P}/behaviour`)).json()).toEqual(DEFAULTS);
    expect((await c.behave({ itn: 'late', itnDelayMs: 50 })).json()).toEqual({ ...DEFAULTS, itn: 'late', itnDelayMs: 50 });
    expect((await c.behave({ notifyUrl: 'https://shop.example/itn' })).json()).toEqual({ ...DEFAULTS, itn: 'late', itnDelayMs: 50, notifyUrl: 'https://shop.example/itn' });
    expect((await c.behave({ notifyUrl: null, adhocSuccess: 'boolean', declineShape: 'object', validate: 'html_403' })).json()).toEqual({ ...DEFAULTS, itn: 'late', itnDelayMs: 50, adhocSuccess: 'boolean', declineShape: 'object', validate: 'html_403' });
    expect((await h.app.inject({ method: 'DELETE', url: `${P}/behaviour` })).json()).toEqual(DEFAULTS);
    expect((await c.get(`${P}/behaviour`)).json()).toEqual(DEFAULTS);
  });

  it.each([
    [{ color: 'red' }, 'color'],
    [{ adhocSuccess: 'yes' }, 'adhocSuccess'],
    [{ adhocSuccess: true }, 'adhocSuccess'],
    [{ declineShape: 'text' }, 'declineShape'],
    [{ itn: 'sometimes' }, 'itn'],
    [{ itn: null }, 'itn'],
    [{ itnDelayMs: -1 }, 'itnDelayMs'],
    [{ itnDelayMs: 1.5 }, 'itnDelayMs'],
    [{ itnDelayMs: '2000' }, 'itnDelayMs'],
    [{ itnDelayMs: 3_600_001 }, 'itnDelayMs'],
    [{ validate: 'html' }, 'validate'],
    [{ notifyUrl: 'ftp://shop.example/itn' }, 'notifyUrl'],
    [{ notifyUrl: 42 }, 'notifyUrl'],
    [{ itn: 'off', extra: 1 }, 'extra'],
  ])('refuses %o with a 400 naming %s, and changes nothing', async (body, named) => {
    const res = await c.behave(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ message: expect.stringContaining(named) });
    expect((await c.get(`${P}/behaviour`)).json()).toEqual(DEFAULTS);
  });

  it('refuses bodies that are not a JSON object with a 400 in the same shape', async () => {
    for (const payload of ['[1]', '"off"', 'null', '{oops']) {
      const res = await h.app.inject({ method: 'PUT', url: `${P}/behaviour`, headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json()).toEqual({ message: expect.any(String) });
    }
  });
});

describe('a hostile client of the sandbox', () => {
  it('gets a 4xx, never a 5xx, for junk anywhere', async () => {
    const junk = fc.string({ maxLength: 40, unit: 'binary' });
    const form = fc.dictionary(fc.constantFrom('merchant_id', 'amount', 'item_name', 'return_url', 'card_number', 'expiry', 'return', 'signature', 'itn', 'x'), junk);
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
          `${P}/behaviour`,
        ];
        for (const url of urls) {
          const res = await h.app.inject({ method, url, headers: { ...FORM, ...c.apiHeaders(method === 'GET' ? {} : fields) }, payload: method === 'GET' ? undefined : new URLSearchParams(fields).toString() });
          expect(res.statusCode, `${method} ${url} ${JSON.stringify(fields)} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
        }
      }),
      { numRuns: 25 },
    );
  });
});
