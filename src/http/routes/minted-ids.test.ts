import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import * as t from '../../db/schema.ts';
import { DEMO } from '../../demo/ids.ts';
import { uuid7Time } from '../../lib/uuid7.ts';

/**
 * The ids payrail mints for customers, services, their purchase plans and mediums are time-ordered
 * (version 7), so a billing run reading services in id order reads their pages in order (src/lib/uuid7.ts,
 * bench/README.md). An id the client chooses is kept as it is.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const minted = (id: string, from: number, to: number) => {
  const at = uuid7Time(id);
  expect(at, `${id} is not a version-7 UUID`).not.toBeNull();
  expect(at!).toBeGreaterThanOrEqual(from);
  expect(at!).toBeLessThanOrEqual(to);
  return at!;
};

describe('ids payrail mints', () => {
  it('are time-ordered for a customer, its services, their plans and the mediums an order makes, in the order they were made', async () => {
    const from = Date.now();
    const customer = await h.call('POST', '/customers', { token: h.tokens.integrator, body: { name: 'Thandi Mokoena' } });
    expect(customer.status, customer.text).toBe(201);
    const first = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: customer.body.customer.id, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
    expect(first.status, first.text).toBe(201);
    const second = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: customer.body.customer.id, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
    expect(second.status, second.text).toBe(201);
    const to = Date.now();

    const customerAt = minted(customer.body.customer.id, from, to);
    const firstAt = minted(first.body.service.id, customerAt, to);
    const secondAt = minted(second.body.service.id, firstAt, to);
    expect(secondAt).toBeGreaterThanOrEqual(firstAt);
    for (const order of [first, second]) {
      const [plan] = await h.ctx.database.db.select().from(t.purchasePlans).where(eq(t.purchasePlans.serviceId, order.body.service.id));
      minted(plan!.id, from, to);
    }
    expect(first.body.created_mediums.length).toBeGreaterThan(0);
    for (const m of first.body.created_mediums) minted(m.medium_detail_id, from, to);
  });

  it('keep the id a client chooses, whatever its version', async () => {
    const id = '3f1c2b4e-8a3d-4b7e-9c1a-2d3e4f5a6b7c';
    const customer = await h.call('POST', '/customers', { token: h.tokens.integrator, body: { id, name: 'Own id' } });
    expect(customer.status, customer.text).toBe(201);
    expect(customer.body.customer.id).toBe(id);
    const order = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { service_id: '8d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a', customer_id: id, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId } });
    expect(order.status, order.text).toBe(201);
    expect(order.body.service.id).toBe('8d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a');
  });
});
