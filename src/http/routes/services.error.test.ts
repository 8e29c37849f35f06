import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEMO } from '../../demo/ids.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('services: bad input is a 400 problem, never a 500', () => {
  it.each([
    '/services/not-a-uuid/details-and-actions',
    '/services/E14C231D5899-44BE-B7A1-AA46893C8D83/details-and-actions',
    '/services/urn:uuid:e14c231d-5899-44be-b7a1-aa46893c8d83/details-and-actions',
    '/services/{e14c231d-5899-44be-b7a1-aa46893c8d83}/details-and-actions',
    "/services/e14c231d-5899-44be-b7a1-aa46893c8d8'/details-and-actions",
    '/services/%00/details-and-actions',
    '/services/not-a-uuid',
  ])('%s → 400', async (url) => {
    const res = await h.call('GET', url);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', code: 'request.invalid' });
    expect(res.body.errors[0].name).toBe('params.id');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('rejects a malformed pagination cursor and limit', async () => {
    const cursor = await h.call('GET', '/services?cursor=definitely-not-ours');
    expect(cursor.status).toBe(400);
    expect(cursor.body.errors).toEqual([{ name: 'query.cursor', reason: 'is not a valid cursor' }]);
    const forged = Buffer.from(JSON.stringify(['x', "'; drop table services; --"])).toString('base64url');
    expect((await h.call('GET', `/services?cursor=${forged}`)).status).toBe(400);
    expect((await h.call('GET', '/services?limit=0')).status).toBe(400);
    expect((await h.call('GET', '/services?limit=101')).status).toBe(400);
    expect((await h.call('GET', '/services?limit=abc')).status).toBe(400);
    // Written as JavaScript would read it, not in plain digits: refused, not taken as 100, 16, 5 or 1.
    for (const limit of ['1e2', '0x10', '%205', '1.0', '']) {
      const res = await h.call('GET', `/services?limit=${limit}`);
      expect([limit, res.status, res.body.errors]).toEqual([limit, 400, [{ name: 'query.limit', reason: 'must be integer' }]]);
    }
    expect((await h.call('GET', '/services?limit=10')).body.items.length).toBeLessThanOrEqual(10);
    expect((await h.call('GET', '/services?customerId=nope')).status).toBe(400);
  });

  // A cursor is base64url of [ms, id, the tag of the list's filters]: hand-made ones that decode, for a list
  // without filters, but are not what the API gives out.
  const UNFILTERED = createHash('sha256').update('[]').digest('base64url').slice(0, 12);
  const forgedCursors = [
    ['an id of 36 dashes', [1796422997361, '-'.repeat(36), UNFILTERED]],
    ['an id of 36 letters', [1796422997361, 'a'.repeat(36), UNFILTERED]],
    ['an id with dashes out of place', [1796422997361, '60c6b0118aaf-4a0c-81f0-d98f9134-240d', UNFILTERED]],
    ['the largest safe integer as the instant', [Number.MAX_SAFE_INTEGER, '60c6b011-8aaf-4a0c-81f0-d98f9134240d', UNFILTERED]],
    ['the last instant a Date holds', [8.64e15, '60c6b011-8aaf-4a0c-81f0-d98f9134240d', UNFILTERED]],
    ['the first instant a Date holds', [-8.64e15, '60c6b011-8aaf-4a0c-81f0-d98f9134240d', UNFILTERED]],
    ['an instant in the year 10000', [Date.UTC(10000, 0, 1), '60c6b011-8aaf-4a0c-81f0-d98f9134240d', UNFILTERED]],
    ['an instant before 1970', [-1, '60c6b011-8aaf-4a0c-81f0-d98f9134240d', UNFILTERED]],
    ['no filters tag (an earlier cursor’s shape)', [1796422997361, '60c6b011-8aaf-4a0c-81f0-d98f9134240d']],
    ['a tag that is not a string', [1796422997361, '60c6b011-8aaf-4a0c-81f0-d98f9134240d', 7]],
  ] as const;

  it('gives out cursors of that shape, and takes one only with the filters it was given for', async () => {
    const first = await h.call('GET', '/services?limit=1', { token: h.tokens.integrator });
    const decoded = JSON.parse(Buffer.from(first.body.next_cursor, 'base64url').toString());
    expect(decoded).toEqual([expect.any(Number), first.body.items[0].id, UNFILTERED]);
    // The same list, another page size: fine.
    const next = await h.call('GET', `/services?limit=2&cursor=${first.body.next_cursor}`, { token: h.tokens.integrator });
    expect(next.status).toBe(200);
    expect(next.body.items.map((s: { id: string }) => s.id)).not.toContain(first.body.items[0].id);
    // Filtered, then the filter changed (or dropped) with the cursor kept: said, not two lists mixed.
    const arrears = await h.call('GET', '/services?billing_status=InArrears&limit=1', { token: h.tokens.integrator });
    expect(arrears.body.next_cursor).not.toBeNull();
    expect((await h.call('GET', `/services?billing_status=InArrears&limit=1&cursor=${arrears.body.next_cursor}`, { token: h.tokens.integrator })).status).toBe(200);
    for (const other of ['billing_status=PaidUp&', '']) {
      const res = await h.call('GET', `/services?${other}limit=1&cursor=${arrears.body.next_cursor}`, { token: h.tokens.integrator });
      expect([other, res.status, res.body.errors]).toEqual([other, 400, [{ name: 'query.cursor', reason: 'was given for other filters' }]]);
    }
  });
  const lists = ['/services', '/purchases', '/billing/runs', '/customers', `/audit-events?entityId=${DEMO.operatorId}`];
  it.each(forgedCursors)('answers a cursor with %s with 400 on every list, never a 500', async (_, value) => {
    const cursor = Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const list of lists) {
      const res = await h.call('GET', `${list}${list.includes('?') ? '&' : '?'}cursor=${cursor}`, { token: h.tokens.integrator });
      expect(res.status, `${list}: ${res.text}`).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body.errors.map((e: { name: string }) => e.name)).toEqual(['query.cursor']);
    }
    const mine = await h.call('GET', `/services?cursor=${cursor}`, { token: h.tokens.customer });
    expect(mine.status, mine.text).toBe(400);
  });

  it.each([
    ['/services?billingStatus=InArrears', 'query.billingStatus'],
    ['/services?BILLING_STATUS=PaidUp', 'query.BILLING_STATUS'],
    ['/services?billing_status[]=PaidUp', 'query.billing_status[]'],
    ['/purchases?dueBefore=2024-01-01', 'query.dueBefore'],
    ['/billing/runs?page=2', 'query.page'],
  ])('refuses %s, a parameter the list does not take, naming it (not the whole list unfiltered)', async (url, name) => {
    const res = await h.call('GET', url, { token: h.tokens.integrator });
    expect(res.status, res.text).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ code: 'request.invalid' });
    expect(res.body.errors).toContainEqual({ name, reason: 'must NOT have additional properties' });
  });

  it('a uuid of nothing is 404, for details-and-actions and for the service', async () => {
    expect((await h.call('GET', '/services/00000000-0000-0000-0000-000000000000/details-and-actions')).status).toBe(404);
    expect((await h.call('GET', '/services/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});

describe('services: reads', () => {
  it('pages through the customer’s services with a cursor, newest first, without repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await h.call('GET', `/services?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.items.map((s) => s.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    const all = await h.call('GET', '/services?limit=100');
    expect(all.body.items.map((s: { id: string }) => s.id)).toEqual(seen);
    expect(all.body.next_cursor).toBeNull();
  });

  it('shows one service with its plan and active medium', async () => {
    const res = await h.call('GET', `/services/${DEMO.services.hybrid}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: DEMO.services.hybrid,
      customer_id: DEMO.customerId,
      product_id: DEMO.products.hybrid,
      service_type: 'HybridDayBundle',
      service_status: 'Active',
      service_status_category: 'ActiveStatuses',
      billing_status: 'PaidUp',
      plan_id: DEMO.plans.hybrid,
      active_medium_id: DEMO.mediums.card,
      collection_day: null,
    });
  });
});
