import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX } from '../../../test/helpers/fixtures.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import * as t from '../../db/schema.ts';
import { DEMO } from '../../demo/ids.ts';

/**
 * Ids a client may choose are unique across operators. Taking one that another operator uses must be
 * answered exactly as taking one of your own (README, "Client-chosen ids"): otherwise the answer tells
 * a tenant what exists elsewhere. And the other operator's record stays as it was.
 */
let h: Harness;
let foreignSourceId: string;
let foreignPriceId: string;
beforeAll(async () => {
  h = await createHarness();
  const [source] = await h.ctx.database.db.select().from(t.purchaseSources).where(eq(t.purchaseSources.operatorId, FIX.otherOperator.operatorId));
  const [price] = await h.ctx.database.db.select().from(t.productPrices).where(eq(t.productPrices.productId, FIX.otherOperator.productId));
  foreignSourceId = source!.id;
  foreignPriceId = price!.id;
});
afterAll(() => h.close());

const dayPrice = { description: '3 Day bundle', purchase_line_type_id: 1, price_incl: 9.5, period_contribution_per_quantity: 3 };

/** Each client-chosen id: how to send it, an id of the caller's own operator, one of another's, and where it is stored. */
const cases: { what: string; request: (id: string) => [string, string, object]; own: () => string; foreign: () => string; table: keyof typeof tables }[] = [
  { what: 'a customer', request: (id) => ['POST', '/customers', { id, name: 'Copy' }], own: () => DEMO.customerId, foreign: () => FIX.otherOperator.customerId, table: 'customers' },
  { what: 'a user of a new customer', request: (id) => ['POST', '/customers', { name: 'Holder', users: [{ id, name: 'Copy' }] }], own: () => DEMO.customerUserId, foreign: () => FIX.otherOperator.userId, table: 'users' },
  { what: 'a user of a customer', request: (id) => ['POST', `/customers/${DEMO.customerId}/users`, { id, name: 'Copy' }], own: () => DEMO.customerUserId, foreign: () => FIX.otherOperator.userId, table: 'users' },
  { what: 'a collector', request: (id) => ['POST', '/collectors', { id, name: 'Copy' }], own: () => DEMO.collectorId, foreign: () => FIX.otherOperator.collectorId, table: 'collectors' },
  { what: 'a purchase source of a new collector', request: (id) => ['POST', '/collectors', { name: 'Holder', purchase_sources: [{ id, name: 'Copy' }] }], own: () => DEMO.sources.cash, foreign: () => foreignSourceId, table: 'purchaseSources' },
  { what: 'a purchase source of a collector', request: (id) => ['POST', `/collectors/${DEMO.collectorId}/purchase-sources`, { id, name: 'Copy source' }], own: () => DEMO.sources.cash, foreign: () => foreignSourceId, table: 'purchaseSources' },
  { what: 'a product', request: (id) => ['POST', '/products', { id, name: 'Copy', billing_scheme: 'DayBundle', prices: [dayPrice] }], own: () => DEMO.products.dayBundle, foreign: () => FIX.otherOperator.productId, table: 'products' },
  { what: 'a product price', request: (id) => ['POST', '/products', { name: 'Copy', billing_scheme: 'DayBundle', prices: [{ ...dayPrice, id }] }], own: () => DEMO.prices.bundle1Day, foreign: () => foreignPriceId, table: 'productPrices' },
  {
    what: 'a service (POST /orders)',
    request: (id) => ['POST', '/orders', { service_id: id, customer_id: DEMO.customerId, product_id: DEMO.products.dayBundle, collector_id: DEMO.collectorId }],
    own: () => DEMO.services.dayBundle,
    foreign: () => FIX.otherOperator.serviceId,
    table: 'services',
  },
];
const tables = { customers: t.customers, users: t.users, collectors: t.collectors, purchaseSources: t.purchaseSources, products: t.products, productPrices: t.productPrices, services: t.services };

async function row(table: keyof typeof tables, id: string) {
  const tbl = tables[table];
  return h.ctx.database.db.select().from(tbl).where(eq(tbl.id, id));
}

/** Everything the caller could tell apart: rows written anywhere would show in these counts. */
async function counts() {
  const out: Record<string, number> = {};
  for (const [name, tbl] of Object.entries(tables)) out[name] = (await h.ctx.database.db.select({ id: tbl.id }).from(tbl)).length;
  return out;
}

describe('client-chosen ids (security)', () => {
  it.each(cases)('answers $what with an id of another operator exactly as with one of our own, and changes nothing', async ({ request, own, foreign, table }) => {
    const [ownId, foreignId] = [own(), foreign()];
    const before = { own: await row(table, ownId), foreign: await row(table, foreignId), counts: await counts() };
    expect(before.own).toHaveLength(1);
    expect(before.foreign).toHaveLength(1);

    const [method, path, ownBody] = request(ownId);
    const mine = await h.call(method, path, { token: h.tokens.integrator, body: ownBody });
    const theirs = await h.call(method, request(foreignId)[1], { token: h.tokens.integrator, body: request(foreignId)[2] });

    expect(mine.status, mine.text).toBe(409);
    expect(theirs.status, theirs.text).toBe(409);
    expect(theirs.headers['content-type']).toBe(mine.headers['content-type']);
    // Byte for byte, once each id is written as <id>.
    expect(theirs.text.replaceAll(foreignId, '<id>')).toBe(mine.text.replaceAll(ownId, '<id>'));
    expect(mine.text).toContain(ownId);
    expect(theirs.text).not.toMatch(/Other ISP|22222222-2222-4222-8222-222222222201/);

    expect(await row(table, ownId)).toEqual(before.own);
    expect(await row(table, foreignId)).toEqual(before.foreign);
    expect(await counts()).toEqual(before.counts);
  });

  it('still tells a taken purchase source name apart (names are per collector: nothing of another operator)', async () => {
    const res = await h.call('POST', `/collectors/${DEMO.collectorId}/purchase-sources`, { token: h.tokens.integrator, body: { id: foreignSourceId, name: 'Cash' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'purchase_source.exists', detail: 'The collector already has a purchase source named "Cash".' });
  });
});
