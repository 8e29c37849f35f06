import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEMO, DEMO_METERS } from '../../src/demo/ids.ts';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/config.ts';
import { freshDatabase, seededDataDir, testTokens } from '../helpers/harness.ts';
import { payrailStarter } from '../helpers/process.ts';
import { tempDir } from '../helpers/temp.ts';

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
  return { env: { DATABASE_URL: db.url!, PAYRAIL_DEMO: 'false', PAYRAIL_DATA_DIR: tempDir('vend') }, drop: db.drop };
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
  it('between the payment and the vend, and between the vendor issuing a token and payrail storing it: after each restart every paid purchase is vended once', async () => {
    const store = await storage();
    try {
      // First life: no jobs. A purchase is paid and its vend waits; the process dies.
      const first = await start({ ...store.env, PAYRAIL_JOBS_IN_PROCESS: 'false' });
      const paidOnly = await buy(first.url, DEMO.services.electricity, 100);
      expect((await tokens(first.url, paidOnly)).status).toBe('vending');
      first.child.kill('SIGKILL');
      await first.exited;

      // Second life: its jobs vend the waiting purchase. Then a …0408 meter: the vendor issues its token and
      // holds the answer 2.5 s; payrail waits at most 3.5 s, so a claim is leased 13.5 s. The process dies
      // while the answer is held.
      const hold = { PAYRAIL_SANDBOX_LOST_RESPONSE_MS: '2500', PAYRAIL_PROVIDER_TIMEOUT_MS: '3500' };
      const second = await start({ ...store.env, ...hold });
      const shownFirst = await until('the restarted worker to vend', async () => {
        const t = await tokens(second.url, paidOnly);
        return t.status === 'issued' ? t : null;
      });
      expect(shownFirst.tokens).toHaveLength(1);
      expect(await vended(second.url, DEMO_METERS.vends)).toHaveLength(1);
      const order = await call(second.url, 'POST', '/orders', integrator, { customer_id: DEMO.customerId, product_id: DEMO.products.electricity, collector_id: DEMO.collectorId, meter_id: DEMO_METERS.lostFirstAnswer });
      expect(order.status).toBe(201);
      const serviceId = ((await order.json()) as { service: { id: string } }).service.id;
      const held = await buy(second.url, serviceId, 150);
      await until('the vendor to issue the token', async () => (await vended(second.url, DEMO_METERS.lostFirstAnswer)).length > 0);
      second.child.kill('SIGKILL');
      await second.exited;

      // Third life: the retry (same request id) gets the token the vendor issued, and no other.
      const third = await start({ ...store.env, PAYRAIL_SANDBOX_LOST_RESPONSE_MS: '0', PAYRAIL_PROVIDER_TIMEOUT_MS: '3500' });
      const shown = await until('the restarted worker to retry the vend', async () => {
        const t = await tokens(third.url, held);
        return t.status === 'issued' ? t : null;
      });
      expect(shown.tokens).toHaveLength(1);
      expect(await vended(third.url, DEMO_METERS.lostFirstAnswer)).toHaveLength(1);
      expect(await vended(third.url, DEMO_METERS.vends)).toHaveLength(1);
      third.child.kill('SIGTERM');
      expect(await third.exited).toBe(0);
    } finally {
      await store.drop();
    }
  }, 150_000);
});
