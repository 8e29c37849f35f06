import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
let now = Date.now();
beforeAll(async () => {
  h = await createHarness({ clock: () => new Date(now) });
});
afterAll(() => h.close());

const count = async (table: string, where = 'true', params: unknown[] = []) =>
  (await h.ctx.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params))[0]!.n;
const post = (path: string, body: unknown, key?: string, token = h.tokens.integrator) =>
  h.call('POST', path, { token, body, headers: key === undefined ? {} : { 'idempotency-key': key } });

describe('Idempotency-Key (SPEC §3)', () => {
  it('replays the first response to a retry with the same key and body, and creates one customer', async () => {
    const body = { name: 'Replay Customer', email: 'replay@example.co.za' };
    const first = await post('/customers', body, 'key-replay-1');
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await post('/customers', body, 'key-replay-1');
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.text).toBe(first.text);
    // Keys compare bodies by content, not by key order.
    const reordered = await post('/customers', { email: 'replay@example.co.za', name: 'Replay Customer' }, 'key-replay-1');
    expect(reordered.text).toBe(first.text);
    expect(await count('customers', 'name = $1', ['Replay Customer'])).toBe(1);
  });

  it('refuses the same key with another body or path (422) and creates nothing', async () => {
    await post('/customers', { name: 'Mismatch A' }, 'key-mismatch');
    const other = await post('/customers', { name: 'Mismatch B' }, 'key-mismatch');
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ status: 422, code: 'idempotency.key_reused' });
    const otherPath = await post('/collectors', { name: 'Mismatch A' }, 'key-mismatch');
    expect(otherPath.status).toBe(422);
    expect(await count('customers', 'name = $1', ['Mismatch B'])).toBe(0);
    expect(await count('collectors', 'name = $1', ['Mismatch A'])).toBe(0);
  });

  it('keeps and replays an error response too', async () => {
    const body = { customer_id: '00000000-0000-4000-8000-00000000ffff', product_id: DEMO.products.recurring, collector_id: DEMO.collectorId };
    const first = await post('/orders', body, 'key-error');
    expect(first.status).toBe(422);
    const again = await post('/orders', body, 'key-error');
    expect(again.status).toBe(422);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(again.text).toBe(first.text);
  });

  it('scopes keys to the caller: another user with the same key gets their own result', async () => {
    const body = { name: 'Scoped Customer' };
    const mine = await post('/customers', body, 'key-shared', h.tokens.integrator);
    const theirs = await post('/customers', body, 'key-shared', h.tokens.admin);
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.customer.id).not.toBe(mine.body.customer.id);
    expect(await count('customers', 'name = $1', ['Scoped Customer'])).toBe(2);
  });

  it('answers concurrent duplicates with 409 while the first runs, and places one order', async () => {
    const body = { customer_id: DEMO.customerId, product_id: DEMO.products.dayBundle, collector_id: DEMO.collectorId };
    const before = await count('services');
    const results = await Promise.all(Array.from({ length: 12 }, () => post('/orders', body, 'key-concurrent')));
    const created = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
    expect(created).toHaveLength(1);
    for (const r of results) {
      if (r === created[0]) continue;
      if (r.status === 409) expect(r.body.code).toBe('idempotency.in_progress');
      else expect(r.text).toBe(created[0]!.text); // finished first: replayed
    }
    // PGlite has one session and runs the first order to completion before the duplicates look, so they
    // all replay; on PostgreSQL they overlap and must hear 409.
    if (inject('engine') === 'postgres') expect(results.some((r) => r.status === 409)).toBe(true);
    expect(await count('services')).toBe(before + 1);
    const retry = await post('/orders', body, 'key-concurrent');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await count('services')).toBe(before + 1);
  });

  it('says a key whose first request was interrupted is 409 interrupted, and never runs it twice', async () => {
    const body = { name: 'Interrupted' };
    await post('/customers', body, 'key-interrupted');
    // Simulate a crash between claiming the key and recording the response.
    await h.ctx.database.query(`UPDATE idempotency_keys SET state = 'in_progress', response_status = NULL, locked_at = $2 WHERE key = $1`, ['key-interrupted', new Date(now - 10 * 60_000)]);
    const res = await post('/customers', body, 'key-interrupted');
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('idempotency.interrupted');
    expect(await count('customers', 'name = $1', ['Interrupted'])).toBe(1);
  });

  it('forgets a key after 24 hours', async () => {
    await post('/customers', { name: 'Old key A' }, 'key-expiry');
    now += 24 * 3600_000 + 1000;
    const later = await post('/customers', { name: 'Old key B' }, 'key-expiry');
    expect(later.status).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    expect(await count('customers', 'name = $1', ['Old key B'])).toBe(1);
  });

  it('without a key, every POST runs', async () => {
    await post('/customers', { name: 'Twice' });
    await post('/customers', { name: 'Twice' });
    expect(await count('customers', 'name = $1', ['Twice'])).toBe(2);
  });

  it.each([['x'.repeat(256)], ['spaces are not allowed'], ['ключ'], ['']])('refuses the key %j with 400', async (key) => {
    const res = await post('/customers', { name: 'Bad key' }, key);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].name).toBe('headers.idempotency-key');
    expect(await count('customers', 'name = $1', ['Bad key'])).toBe(0);
  });
});
