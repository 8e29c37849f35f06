import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEMO, DEMO_METERS } from '../../src/demo/ids.ts';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/config.ts';
import { freshDatabase, seededDataDir, testTokens } from '../helpers/harness.ts';
import { payrailStarter } from '../helpers/process.ts';

/**
 * Vending across real processes (SPEC §12): payrail killed with SIGKILL after a utility purchase is paid
 * but before it is vended, and while the vendor is answering a vend. After a restart every paid purchase
 * is vended, and the vendor has issued exactly one token for it.
 */
const base = { PAYRAIL_JWT_SECRET: TEST_JWT_SECRET, PAYRAIL_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, PAYRAIL_SANDBOX: 'true', PAYRAIL_JOBS_INTERVAL_MS: '100' };
const { start, stopAll } = payrailStarter(base);
afterAll(stopAll);

const { customer, integrator } = testTokens();
const call = (url: string, method: string, path: string, token: string, body?: unknown) =>
  fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
const until = async <T>(what: string, check: () => Promise<T | null | false | undefined>, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
/** The vendor's issued tokens for a meter (its ledger over HTTP). */
const vended = async (url: string, meterId: string) =>
  ((await (await fetch(`${url}/sandbox/vendor/transactions?status=approved`)).json()) as { items: { kind: string; merchant_reference: string; details: { meterId?: string; meter_id?: string } }[] }).items.filter(
    (i) => i.kind === 'vend' && (i.details.meterId ?? i.details.meter_id) === meterId,
  );

async function storage(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (inject('engine') === 'pglite') return { env: { PAYRAIL_DATA_DIR: await seededDataDir() }, drop: async () => {} };
  const db = await freshDatabase();
  return { env: { DATABASE_URL: db.url!, PAYRAIL_DEMO: 'false', PAYRAIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'payrail-vend-')) }, drop: db.drop };
}

/** Buys electricity for a service with the demo card: the paid purchase's id. */
async function buy(url: string, serviceId: string, amount: number): Promise<string> {
  const quote = await call(url, 'POST', '/purchases/buy-now', customer, { service_id: serviceId, amount });
  expect(quote.status).toBe(201);
  const { id } = (await quote.json()) as { id: string };
  const paid = await call(url, 'POST', '/purchases/submit-for-collection', customer, { service_id: serviceId, purchase_id: id, medium_id: DEMO.mediums.card });
  expect(paid.status).toBe(200);
  expect(await paid.json()).toMatchObject({ payment_status: 'succeeded', purchase_status_id: 4 });
  return id;
}

const tokens = async (url: string, purchaseId: string) => (await (await call(url, 'GET', `/purchases/${purchaseId}/tokens`, customer)).json()) as { status: string; tokens: { token: string }[] };

describe('kill -9 and vending', () => {
  it('between the payment and the vend: after restart the purchase is vended once', async () => {
    const store = await storage();
    try {
      // No jobs in the first life: the purchase is paid and its vend waits.
      const first = await start({ ...store.env, PAYRAIL_JOBS_IN_PROCESS: 'false' });
      const purchaseId = await buy(first.url, DEMO.services.electricity, 100);
      expect((await tokens(first.url, purchaseId)).status).toBe('vending');
      first.child.kill('SIGKILL');
      await first.exited;

      const second = await start(store.env);
      const shown = await until('the restarted worker to vend', async () => {
        const t = await tokens(second.url, purchaseId);
        return t.status === 'issued' ? t : null;
      });
      expect(shown.tokens).toHaveLength(1);
      expect(await vended(second.url, DEMO_METERS.vends)).toHaveLength(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await store.drop();
    }
  }, 120_000);

  it('between the vendor issuing the token and payrail storing its answer: after restart the retry gets that token, and no other', async () => {
    const store = await storage();
    try {
      // The vendor issues a …0408 meter's token and holds its answer 6 s; payrail waits at most 8 s, so a claim
      // is leased for 18 s. The process dies while the answer is held.
      const first = await start({ ...store.env, PAYRAIL_SANDBOX_LOST_RESPONSE_MS: '6000', PAYRAIL_PROVIDER_TIMEOUT_MS: '8000' });
      const order = await call(first.url, 'POST', '/orders', integrator, { customer_id: DEMO.customerId, product_id: DEMO.products.electricity, collector_id: DEMO.collectorId, meter_id: DEMO_METERS.lostFirstAnswer });
      expect(order.status).toBe(201);
      const serviceId = ((await order.json()) as { service: { id: string } }).service.id;
      const purchaseId = await buy(first.url, serviceId, 150);
      await until('the vendor to issue the token', async () => (await vended(first.url, DEMO_METERS.lostFirstAnswer)).length > 0);
      first.child.kill('SIGKILL');
      await first.exited;

      const second = await start({ ...store.env, PAYRAIL_SANDBOX_LOST_RESPONSE_MS: '0', PAYRAIL_PROVIDER_TIMEOUT_MS: '8000' });
      const shown = await until('the restarted worker to retry the vend', async () => {
        const t = await tokens(second.url, purchaseId);
        return t.status === 'issued' ? t : null;
      });
      expect(shown.tokens).toHaveLength(1);
      const issued = await vended(second.url, DEMO_METERS.lostFirstAnswer);
      expect(issued).toHaveLength(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await store.drop();
    }
  }, 120_000);
});
