import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../../../test/helpers/harness.ts';
import { DEMO_PAYFAST_CARD_TOKEN } from '../../demo/ids.ts';
import { ITN_FIELDS, newRef, P, readItn, startSandbox, type Client, type Receiver } from './test-client.ts';

/** Ad hoc charges (`POST /api/subscriptions/{token}/adhoc`) in production's shapes, their ITNs, the ITN behaviours, and the transaction query. */

let h: Harness;
let receiver: Receiver;
let c: Client;
beforeAll(async () => {
  ({ h, receiver, client: c } = await startSandbox());
});
afterEach(async () => {
  await c.resetBehaviour();
});
afterAll(async () => {
  await receiver.close();
  await h.close();
});

const charge = { amount: 29_900, item_name: '30 Day bundle', item_description: 'Auto-recharge' };
/** The answer's exact bytes: key order and types matter to a client parsing PayFast. */
const bytes = (code: number, status: string, data: Record<string, unknown>) => JSON.stringify({ code, status, data });

describe('ad hoc answers', () => {
  it('approves in production’s shape: HTTP 200, "response" the string "true", a 10-digit pf_payment_id, no amount', async () => {
    const res = await c.adhoc(await c.cardToken(), { ...charge, m_payment_id: newRef() });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const pf = res.json().data.pf_payment_id;
    expect(pf).toMatch(/^[0-9]{10}$/);
    expect(res.body).toBe(bytes(200, 'success', { response: 'true', message: 'Transaction was successful(00)', pf_payment_id: pf }));
  });

  it('answers boolean true with adhocSuccess "boolean", as PayFast’s sandbox host does', async () => {
    await c.behave({ adhocSuccess: 'boolean' });
    const res = await c.adhoc(await c.cardToken(), { ...charge, m_payment_id: newRef() });
    expect(res.body).toBe(bytes(200, 'success', { response: true, message: 'Transaction was successful(00)', pf_payment_id: res.json().data.pf_payment_id }));
  });

  it('declines inside an HTTP 200 with the bank’s code, and records the decline', async () => {
    for (const [outcome, code, reason] of [['decline', '05', 'DO NOT HONOUR'], ['insufficient_funds', '51', 'INSUFFICIENT FUNDS']] as const) {
      const ref = newRef();
      const res = await c.adhoc(await c.cardToken(outcome), { ...charge, m_payment_id: ref });
      expect(res.statusCode).toBe(200);
      const pf = res.json().data.pf_payment_id;
      expect(pf).toMatch(/^[0-9]{10}$/);
      expect(res.body).toBe(bytes(200, 'success', { response: code, message: `${reason} (${code})`, pf_payment_id: pf }));
      expect((await c.rows(ref)).map((r) => [r.id, r.status, r.resultCode])).toEqual([[pf, 'declined', code]]);
    }
  });

  it('declines with an object {code, reason} with declineShape "object"', async () => {
    await c.behave({ declineShape: 'object' });
    const res = await c.adhoc(await c.cardToken('decline'), { ...charge, m_payment_id: newRef() });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(bytes(200, 'success', { response: { code: '05', reason: 'DO NOT HONOUR' }, message: 'DO NOT HONOUR (05)', pf_payment_id: res.json().data.pf_payment_id }));
  });

  it('refuses bad requests with a 4xx in PayFast’s failed shape, charging nothing', async () => {
    const bad = await h.app.inject({ method: 'POST', url: `${P}/api/subscriptions/${DEMO_PAYFAST_CARD_TOKEN}/adhoc`, headers: { ...c.apiHeaders(), 'content-type': 'application/json' }, payload: '{oops' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ code: 400, status: 'failed', data: { message: expect.any(String) } });
    const bodies: Record<string, unknown>[] = [
      { amount: 1.5, item_name: 'x' },
      { amount: -100, item_name: 'x' },
      { amount: 'abc', item_name: 'x' },
      { amount: 100 },
      { amount: 100, item_name: 'x', m_payment_id: 'y'.repeat(101) },
      { amount: 100, item_name: 'x', itn: 'maybe' },
      { amount: 100, item_name: 'x', itn: 2 },
    ];
    for (const body of bodies) {
      const res = await c.adhoc(DEMO_PAYFAST_CARD_TOKEN, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual({ code: 400, status: 'failed', data: { message: expect.stringMatching(/amount|item_name|m_payment_id|itn/) } });
    }
    const cancelled = await c.cardToken();
    await h.app.inject({ method: 'PUT', url: `${P}/api/subscriptions/${cancelled}/cancel`, headers: c.apiHeaders() });
    for (const token of ['not-a-token', randomUUID(), cancelled]) {
      const res = await c.adhoc(token, { amount: 100, item_name: 'x' });
      expect(res.statusCode).toBe(404);
      expect(res.body).toBe(bytes(404, 'failed', { message: 'Subscription not found.' }));
    }
    expect(await c.tokenRows(cancelled)).toEqual([]);
  });

  it('does not deduplicate on m_payment_id: the same one charged twice is two approvals', async () => {
    const token = await c.cardToken();
    const ref = newRef();
    const first = (await c.adhoc(token, { ...charge, m_payment_id: ref })).json();
    const second = (await c.adhoc(token, { ...charge, m_payment_id: ref })).json();
    expect([first.data.response, second.data.response]).toEqual(['true', 'true']);
    expect(second.data.pf_payment_id).not.toBe(first.data.pf_payment_id);
    const ledger = (await c.get(`${P}/transactions?merchant_reference=${ref}`)).json().items;
    expect(ledger.map((r: { id: string; status: string; amount_cents: number }) => [r.id, r.status, r.amount_cents])).toEqual([
      [first.data.pf_payment_id, 'approved', 29_900],
      [second.data.pf_payment_id, 'approved', 29_900],
    ]);
  });

  it('answers 503 to the first charge of a card …0259 token only, whatever its m_payment_id, and charges nothing then', async () => {
    const token = await c.cardToken('unavailable_once', receiver.fresh().url);
    const [a, b, d] = [newRef(), newRef(), newRef()];
    const first = await c.adhoc(token, { ...charge, m_payment_id: a });
    expect(first.statusCode).toBe(503);
    expect(first.body).toBe(bytes(503, 'error', { message: 'Service unavailable: nothing was charged. Try again.' }));
    expect((await c.rows(a)).map((r) => r.status)).toEqual(['unavailable']);
    expect(await c.itnsFor(a)).toEqual([]);
    // The 503 was never processed: it is no transaction to query.
    expect((await c.query((await c.rows(a))[0]!.id)).statusCode).toBe(404);
    // payrail's next attempt has a new m_payment_id: it is approved, and so is every later one.
    expect((await c.adhoc(token, { ...charge, m_payment_id: b })).json().data.response).toBe('true');
    expect((await c.adhoc(token, { ...charge, m_payment_id: d })).json().data.response).toBe('true');
    expect((await c.tokenRows(token)).map((r) => r.status).sort()).toEqual(['approved', 'approved', 'unavailable']);
    // Another token of that card meets its own 503.
    expect((await c.adhoc(await c.cardToken('unavailable_once'), { ...charge, m_payment_id: newRef() })).statusCode).toBe(503);
  });

  it('charges card …0119 and sends its ITN, but drops the connection without an answer', async () => {
    const notify = receiver.fresh();
    const token = await c.cardToken('lost_response', notify.url);
    const ref = newRef();
    const body = { ...charge, m_payment_id: ref };
    const headers = c.apiHeaders(Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])));
    const sent = fetch(`${h.baseUrl}${P}/api/subscriptions/${token}/adhoc`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await expect(sent).rejects.toThrow();
    expect((await c.rows(ref)).map((r) => r.status)).toEqual(['approved']);
    const [itn] = await receiver.waitFor(notify.path, 1);
    expect(readItn(itn!.body).values.get('payment_status')).toBe('COMPLETE');
    expect(readItn(itn!.body).values.get('m_payment_id')).toBe(ref);
  });
});

describe('ITNs of ad hoc charges', () => {
  it('are sent for an approval, to the token’s notify_url, signed, in PayFast’s fields and order', async () => {
    const notify = receiver.fresh();
    const token = await c.cardToken('approve', notify.url);
    const ref = newRef();
    const answer = (await c.adhoc(token, { ...charge, m_payment_id: ref })).json();
    const [itn] = await receiver.waitFor(notify.path, 1);
    const { fields, signed } = readItn(itn!.body);
    expect(signed).toBe(true);
    expect(fields).toEqual([
      ['m_payment_id', ref],
      ['pf_payment_id', answer.data.pf_payment_id],
      ['payment_status', 'COMPLETE'],
      ['item_name', '30 Day bundle'],
      ['item_description', 'Auto-recharge'],
      ['amount_gross', '299.00'],
      ['amount_fee', '-12.47'],
      ['amount_net', '286.53'],
      ...['custom_str1', 'custom_str2', 'custom_str3', 'custom_str4', 'custom_str5', 'custom_int1', 'custom_int2', 'custom_int3', 'custom_int4', 'custom_int5', 'name_first', 'name_last', 'email_address'].map((k) => [k, '']),
      ['merchant_id', '10000100'],
      ['token', token],
      ['billing_date', '2025-03-04'],
      ['card_last4', '4242'],
      ['card_expiry', '01/32'],
      ['signature', expect.stringMatching(/^[0-9a-f]{32}$/)],
    ]);
    // The merchant's server confirmation recognises it.
    expect((await c.post(`${P}/eng/query/validate`, itn!.body)).body).toBe('VALID');
  });

  it('are sent for a decline as FAILED with no fee, and never for a 503', async () => {
    const notify = receiver.fresh();
    const ref = newRef();
    const answer = (await c.adhoc(await c.cardToken('insufficient_funds', notify.url), { ...charge, m_payment_id: ref })).json();
    const [itn] = await receiver.waitFor(notify.path, 1);
    const { values, fields, signed } = readItn(itn!.body);
    expect(signed).toBe(true);
    expect(fields.map(([k]) => k)).toEqual([...ITN_FIELDS, 'token', 'billing_date', 'card_last4', 'card_expiry', 'signature']);
    expect(Object.fromEntries(values)).toMatchObject({ m_payment_id: ref, pf_payment_id: answer.data.pf_payment_id, payment_status: 'FAILED', amount_gross: '299.00', amount_fee: '0.00', amount_net: '299.00' });
  });

  it('are not sent when the request says itn false, "false", 0 or "0"', async () => {
    const notify = receiver.fresh();
    const token = await c.cardToken('approve', notify.url);
    const declining = await c.cardToken('decline', notify.url);
    for (const itn of [false, 'false', 0, '0']) {
      const ref = newRef();
      expect((await c.adhoc(token, { ...charge, m_payment_id: ref, itn })).json().data.response).toBe('true');
      const refused = newRef();
      expect((await c.adhoc(declining, { ...charge, m_payment_id: refused, itn })).json().data.response).toBe('05');
      expect([...(await c.itnsFor(ref)), ...(await c.itnsFor(refused))]).toEqual([]);
    }
    // `itn` true, "1" are the default: sent.
    for (const itn of [true, '1', 1, 'true']) await c.adhoc(token, { ...charge, m_payment_id: newRef(), itn });
    expect(await receiver.waitFor(notify.path, 4)).toHaveLength(4);
    expect(await c.itnsTo(notify.url)).toHaveLength(4);
  });

  it('go to the merchant account’s default notify URL for a token without one: payrail’s, or the one set in the behaviour', async () => {
    const token = await c.cardToken('approve', null);
    const ref = newRef();
    await c.adhoc(token, { ...charge, m_payment_id: ref });
    expect((await c.itnsFor(ref)).map((n) => n.url)).toEqual([`${h.ctx.config.publicUrl}/callbacks/payfast/itn`]);
    const fallback = receiver.fresh();
    await c.behave({ notifyUrl: fallback.url });
    const next = newRef();
    await c.adhoc(token, { ...charge, m_payment_id: next });
    expect(readItn((await receiver.waitFor(fallback.path, 1))[0]!.body).values.get('m_payment_id')).toBe(next);
  });
});

describe('ITN behaviours', () => {
  it('"off": no ITN at all, for ad hoc charges and payment pages alike', async () => {
    await c.behave({ itn: 'off' });
    const notify = receiver.fresh();
    const ref = newRef();
    expect((await c.adhoc(await c.cardToken('approve', notify.url), { ...charge, m_payment_id: ref })).json().data.response).toBe('true');
    const page = await c.openPage(notify.url);
    expect((await c.post(page.path, { card_number: '4242424242424242', expiry: '12/30', cvv: '123', holder: 'T' })).statusCode).toBe(302);
    expect([...(await c.itnsFor(ref)), ...(await c.itnsFor(page.ref)), ...(await c.itnsTo(notify.url))]).toEqual([]);
  });

  it('"late": the ITN arrives itnDelayMs after the charge, not before', async () => {
    // A second: clearly longer than an undelayed ITN takes to arrive, even on a busy test machine.
    await c.behave({ itn: 'late', itnDelayMs: 1_000 });
    const notify = receiver.fresh();
    const ref = newRef();
    const sentAt = Date.now();
    const res = await c.adhoc(await c.cardToken('approve', notify.url), { ...charge, m_payment_id: ref });
    expect(res.json().data.response).toBe('true');
    expect(await c.itnsFor(ref)).toHaveLength(1);
    expect(receiver.at(notify.path)).toEqual([]);
    const [itn] = await receiver.waitFor(notify.path, 1);
    expect(itn!.at - sentAt).toBeGreaterThanOrEqual(990);
    expect(readItn(itn!.body).values.get('m_payment_id')).toBe(ref);
  });

  it('"duplicate": every ITN is sent twice, as two notifications with the same body', async () => {
    await c.behave({ itn: 'duplicate' });
    const notify = receiver.fresh();
    const ref = newRef();
    await c.adhoc(await c.cardToken('approve', notify.url), { ...charge, m_payment_id: ref });
    const stored = await c.itnsFor(ref);
    expect(stored).toHaveLength(2);
    expect(stored[0]!.id).not.toBe(stored[1]!.id);
    expect(stored[0]!.body).toBe(stored[1]!.body);
    const arrived = await receiver.waitFor(notify.path, 2);
    expect(arrived.map((a) => a.body)).toEqual([stored[0]!.body, stored[0]!.body]);
  });

  it('"old_m_payment_id": an ad hoc charge’s ITN carries the token’s previous charge’s m_payment_id (its own for the first)', async () => {
    await c.behave({ itn: 'old_m_payment_id' });
    const notify = receiver.fresh();
    const token = await c.cardToken('approve', notify.url);
    const refs = [newRef(), newRef(), newRef()];
    const ids: string[] = [];
    for (const ref of refs) ids.push((await c.adhoc(token, { ...charge, m_payment_id: ref })).json().data.pf_payment_id);
    const itns = (await receiver.waitFor(notify.path, 3)).map((i) => readItn(i.body));
    const byPf = Object.fromEntries(itns.map((i) => [i.values.get('pf_payment_id'), i]));
    expect(ids.map((id) => byPf[id]!.values.get('m_payment_id'))).toEqual([refs[0], refs[0], refs[1]]);
    expect(itns.every((i) => i.signed)).toBe(true);
  });
});

describe('GET /api/process/query/{id}', () => {
  const record = (m_payment_id: string, pf_payment_id: string, payment_status: string, result_description: string) => ({
    m_payment_id,
    pf_payment_id,
    payment_status,
    amount_gross: '299.00',
    item_name: '30 Day bundle',
    result_description,
    created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  });

  it('finds a transaction by its pf_payment_id: COMPLETE for an approval, FAILED for a decline', async () => {
    const ref = newRef();
    const approved = (await c.adhoc(await c.cardToken(), { ...charge, m_payment_id: ref, itn: 0 })).json().data.pf_payment_id;
    const res = await c.query(approved);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ code: 200, status: 'success', data: { response: record(ref, approved, 'COMPLETE', 'Transaction was successful') } });
    const declinedRef = newRef();
    const declined = (await c.adhoc(await c.cardToken('decline'), { ...charge, m_payment_id: declinedRef, itn: 0 })).json().data.pf_payment_id;
    expect((await c.query(declined)).json().data.response).toEqual(record(declinedRef, declined, 'FAILED', 'DO NOT HONOUR'));
  });

  it('finds a token’s most recent processed ad hoc charge by the token', async () => {
    const token = await c.cardToken('unavailable_once');
    expect((await c.query(token)).statusCode).toBe(404);
    // Only a 503 so far: that was never processed, so there is still nothing to find.
    expect((await c.adhoc(token, { ...charge, m_payment_id: newRef() })).statusCode).toBe(503);
    expect((await c.query(token)).statusCode).toBe(404);
    const first = newRef();
    const firstId = (await c.adhoc(token, { ...charge, m_payment_id: first, itn: 0 })).json().data.pf_payment_id;
    expect((await c.query(token)).json().data.response).toEqual(record(first, firstId, 'COMPLETE', 'Transaction was successful'));
    const second = newRef();
    const secondId = (await c.adhoc(token, { ...charge, m_payment_id: second, itn: 0 })).json().data.pf_payment_id;
    expect((await c.query(token)).json().data.response).toEqual(record(second, secondId, 'COMPLETE', 'Transaction was successful'));
  });

  it('never finds by m_payment_id, and answers 404 in PayFast’s shape for anything it does not know', async () => {
    const ref = newRef();
    await c.adhoc(await c.cardToken(), { ...charge, m_payment_id: ref, itn: 0 });
    for (const id of [ref, newRef(), '1234567890', randomUUID(), 'x'.repeat(150), '%00']) {
      const res = await c.query(id);
      expect(res.statusCode, id).toBe(404);
      expect(res.body).toBe(bytes(404, 'failed', { message: 'Transaction not found.' }));
    }
  });

  it('is signed like every API call', async () => {
    const res = await h.app.inject({ method: 'GET', url: `${P}/api/process/query/1234567890`, headers: c.apiHeaders({}, { signature: '0'.repeat(32) }) });
    expect(res.statusCode).toBe(401);
  });
});

describe('a token that changes while it is being charged', () => {
  it('is charged as it is after the change: cancelled is 404, a declining card declines; nothing is approved', async () => {
    const changes = [
      { change: `status = 'cancelled'`, status: 404, ledger: [], itns: [] },
      { change: `outcome = 'decline', card_last4 = '0002'`, status: 200, ledger: [['declined', '0002']], itns: ['FAILED'] },
      { change: `card_last4 = '0077'`, status: 200, ledger: [['approved', '0077']], itns: ['COMPLETE'] },
    ];
    for (const { change, status, ledger, itns } of changes) {
      const token = await c.cardToken();
      const ref = newRef();
      // The token changes right after the charge has read it, before it is written.
      const database = h.ctx.database;
      const query = database.query;
      let changed = false;
      database.query = (async (text: string, params?: readonly unknown[], name?: string) => {
        const rows = await query(text, params, name);
        if (name === 'sandbox_payfast_adhoc_read_v2' && !changed) {
          changed = true;
          await query(`UPDATE sandbox.tokens SET ${change} WHERE token = $1`, [token]);
        }
        return rows;
      }) as typeof query;
      let res;
      try {
        res = await c.adhoc(token, { ...charge, m_payment_id: ref });
      } finally {
        database.query = query;
      }
      expect([change, res.statusCode]).toEqual([change, status]);
      if (status === 200) expect(res.json().data.response).toBe(ledger[0]![0] === 'approved' ? 'true' : '05');
      expect((await c.rows(ref)).map((r) => [r.status, r.cardLast4])).toEqual(ledger);
      expect((await c.itnsFor(ref)).map((n) => new URLSearchParams(n.body).get('payment_status'))).toEqual(itns);
    }
  });
});
