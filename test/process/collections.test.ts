import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/config.ts';
import { freshDatabase, seededDataDir, testTokens } from '../helpers/harness.ts';
import { freePort, payrailStarter, runPayrail } from '../helpers/process.ts';
import type { Database } from '../../src/db/client.ts';
import * as t from '../../src/db/schema.ts';
import { insertMedium } from '../../src/modules/mediums/repo.ts';
import { Secret } from '../../src/lib/secret.ts';
import { TokenVault } from '../../src/lib/token-vault.ts';
import { tempDir } from '../helpers/temp.ts';

/**
 * Collections across real processes: a payrail killed with SIGKILL while a provider is charging the card,
 * and (PostgreSQL) two payrail processes taking 50 concurrent submits of one purchase.
 */
const base = { PAYRAIL_JWT_SECRET: TEST_JWT_SECRET, PAYRAIL_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, PAYRAIL_SANDBOX: 'true', PAYRAIL_JOBS_INTERVAL_MS: '100' };
const { start, started, stopAll } = payrailStarter(base);
afterAll(stopAll);

const customer = testTokens().customer;
/** The global "Add new payment method" medium: a Peach checkout. */
const GLOBAL_OPAQUE = 'aa8b416b-a7d9-4bc0-af81-041722e11ad4';
const submitArrears = (url: string) =>
  fetch(`${url}/purchases/submit-for-collection`, {
    method: 'POST',
    headers: { authorization: `Bearer ${customer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ service_id: DEMO.services.recurringInArrears, medium_id: DEMO.mediums.card, purchase_id: DEMO.purchases.arrears, success_url: null, failure_url: null, process_immediate_purchase: true }),
  });
const approved = async (url: string) =>
  ((await (await fetch(`${url}/sandbox/payfast/transactions?status=approved`)).json()) as { items: { amount: string; merchant_reference: string }[] }).items;
const arrearsPayments = async (url: string) =>
  ((await (await fetch(`${url}/payments?purchaseId=${DEMO.purchases.arrears}`, { headers: { authorization: `Bearer ${customer}` } })).json()) as { items: { status: string }[] }).items;
const until = async <T>(what: string, check: () => Promise<T | null | false | undefined>, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Where each engine keeps its data between the two lives of the process. */
async function storage(): Promise<{ env: Record<string, string>; database: Database | null; drop(): Promise<void> }> {
  if (inject('engine') === 'pglite') return { env: { PAYRAIL_DATA_DIR: await seededDataDir() }, database: null, drop: async () => {} };
  const db = await freshDatabase();
  return { env: { DATABASE_URL: db.url!, PAYRAIL_DEMO: 'false', PAYRAIL_DATA_DIR: tempDir('kill') }, database: db.database, drop: db.drop };
}

describe('kill -9 between the provider’s charge and the database update', () => {
  it('after restart the janitor settles the payment from the provider’s record; nothing is charged twice', async () => {
    const store = await storage();
    try {
      // The sandbox takes 4 s to answer a token charge: the process dies while it waits. (Its own janitor is
      // off, so that only the restarted process can settle the attempt.)
      const first = await start({ ...store.env, PAYRAIL_SANDBOX_ANSWER_DELAY_MS: '4000', PAYRAIL_JOBS_IN_PROCESS: 'false', PAYRAIL_JANITOR_FIRST_CHECK_MS: '0' });
      const inFlight = submitArrears(first.url).catch((err: Error) => err);
      const [charge] = await until('the sandbox to charge the card', async () => {
        const items = (await approved(first.url)).filter((i) => i.amount === '379.00');
        return items.length > 0 ? items : null;
      });
      first.child.kill('SIGKILL');
      expect(await inFlight).toBeInstanceOf(Error); // the customer's request died with the process
      await first.exited;

      const second = await start({ ...store.env, PAYRAIL_JANITOR_FIRST_CHECK_MS: '0' });
      // The attempt was recorded before the provider was called, so it survived; the janitor asks the provider.
      const payments = await until('the janitor to settle the payment', async () => {
        const list = await arrearsPayments(second.url);
        return list.some((p) => p.status === 'succeeded') ? list : null;
      });
      expect(payments.map((p) => p.status)).toEqual(['succeeded']);
      const charges = (await approved(second.url)).filter((i) => i.amount === '379.00');
      expect(charges).toHaveLength(1);
      expect(charges[0]!.merchant_reference).toBe(charge!.merchant_reference);

      const details = await (await fetch(`${second.url}/services/${DEMO.services.recurringInArrears}/details-and-actions`, { headers: { authorization: `Bearer ${customer}` } })).json();
      expect(details).toMatchObject({ must_pay_info: null, billing_status: 'PaidUp' });
      // And a new submit is refused: the purchase is paid.
      expect((await submitArrears(second.url)).status).toBe(409);
      expect((await approved(second.url)).filter((i) => i.amount === '379.00')).toHaveLength(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await store.drop();
    }
  });
});

describe.runIf(inject('engine') === 'postgres')('two payrail processes on one PostgreSQL', () => {
  it('50 concurrent submits of one purchase across both: one charge, one succeeded payment, 49 × 409', async () => {
    const store = await storage();
    try {
      const [a, b] = await Promise.all([start(store.env), start(store.env)]);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => submitArrears(i % 2 === 0 ? a.url : b.url)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
      expect((await approved(a.url)).filter((i) => i.amount === '379.00')).toHaveLength(1);
      expect((await arrearsPayments(b.url)).map((p) => p.status)).toEqual(['succeeded']);
    } finally {
      for (const p of started) p.child.kill('SIGKILL');
      await store.drop();
    }
  });
});

describe.runIf(inject('engine') === 'postgres')('payrail worker', () => {
  it('settles an attempt whose answer was lost, left by an API process that runs no jobs', async () => {
    const store = await storage();
    try {
      // A card whose charge succeeds but whose answer is lost (test card …0119), known to the sandbox.
      const token = crypto.randomUUID();
      const mediumId = crypto.randomUUID();
      await store.database!.db.transaction(async (tx) => {
        await tx.insert(t.sandboxTokens).values({ token, provider: 'PayFast', outcome: 'lost_response', cardBin: '400000', cardLast4: '0119', expiryMonth: 12, expiryYear: 2031, holder: 'K Nel' });
        await insertMedium(tx, new TokenVault(new Secret(TEST_ENCRYPTION_KEY)), { id: mediumId, operatorId: DEMO.operatorId, customerId: DEMO.customerId, mediumType: 'CreditCard', provider: 'PayFast', externalReference: 'lost', accountName: 'K Nel', accountNumber: '0119' }, { provider: 'PayFast', value: token });
        // PayFast's ITN for the charge is lost too: only a look-up can settle it.
        await tx.insert(t.sandboxBehaviours).values({ provider: 'PayFast', settings: { itn: 'off' } });
      });
      const api = await start({ ...store.env, PAYRAIL_JOBS_IN_PROCESS: 'false', PAYRAIL_SANDBOX_LOST_RESPONSE_MS: '0', PAYRAIL_JANITOR_FIRST_CHECK_MS: '0' });
      const res = await fetch(`${api.url}/purchases/submit-for-collection`, {
        method: 'POST',
        headers: { authorization: `Bearer ${customer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ service_id: DEMO.services.recurringInArrears, medium_id: mediumId, purchase_id: DEMO.purchases.arrears }),
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ payment_status: 'unknown', purchase_status_id: 2 });
      await new Promise((r) => setTimeout(r, 500));
      expect((await arrearsPayments(api.url)).map((p) => p.status)).toEqual(['unknown']); // nobody settles it here

      // The worker reaches the sandbox where the API serves it.
      const worker = runPayrail(['worker'], { ...base, ...store.env, PAYRAIL_PUBLIC_URL: api.url });
      const payments = await until('the worker to settle the payment', async () => {
        const list = await arrearsPayments(api.url);
        return list[0]?.status === 'succeeded' ? list : null;
      });
      expect(payments).toHaveLength(1);
      expect(worker.output()).toContain('payrail worker is running jobs: janitor, callbacks, webhooks, billing, billing-collections, captures, payment-feeds');
      expect((await approved(api.url)).filter((i) => i.amount === '379.00')).toHaveLength(1);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      for (const p of started) p.child.kill('SIGKILL');
      await store.drop();
    }
  });
});

describe('kill -9 during a batch of card, payment-link and checkout submits', () => {
  it('after restart every purchase is paid once or payable again — none Submitted for ever, none charged twice', async () => {
    const store = await storage();
    const integrator = testTokens().integrator;
    // A deadline short enough for a test, long enough for PayFast's ITNs to come once the process is back.
    // Both lives on one address, as a real deployment has: PayFast's ITNs go to the URL it was given.
    const env = { ...store.env, PORT: String(await freePort()), PAYRAIL_ATTEMPT_DEADLINE_MS: '10000', PAYRAIL_JANITOR_FIRST_CHECK_MS: '0' };
    try {
      // The sandbox holds each card charge for 400 ms before answering: the process dies with charges in flight.
      const first = await start({ ...env, PAYRAIL_SANDBOX_ANSWER_DELAY_MS: '400', PAYRAIL_JOBS_IN_PROCESS: 'false' });
      const order = async () => {
        const res = await fetch(`${first.url}/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${integrator}`, 'content-type': 'application/json' },
          body: JSON.stringify({ customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId }),
        });
        expect(res.status).toBe(201);
        const placed = (await res.json()) as { service: { id: string }; upfront_purchase: { id: string } };
        return { serviceId: placed.service.id, purchaseId: placed.upfront_purchase.id };
      };
      const mediums = [DEMO.mediums.card, DEMO.mediums.paymentLink, GLOBAL_OPAQUE];
      const batch = await Promise.all(Array.from({ length: 18 }, async (_, i) => ({ ...(await order()), mediumId: mediums[i % 3]! })));
      const submit = (url: string, p: (typeof batch)[number]) =>
        fetch(`${url}/purchases/submit-for-collection`, {
          method: 'POST',
          headers: { authorization: `Bearer ${customer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ service_id: p.serviceId, purchase_id: p.purchaseId, medium_id: p.mediumId }),
        });
      const inFlight = batch.map((p) => submit(first.url, p).catch((err: Error) => err));
      // Some card charges reached the sandbox (and are waiting to answer) when the process dies.
      await until('card charges in flight', async () => (await approved(first.url)).length >= 2, 20_000);
      first.child.kill('SIGKILL');
      await first.exited;
      await Promise.all(inFlight);

      const second = await start(env);
      const purchase = async (id: string) =>
        (await (await fetch(`${second.url}/payments?purchaseId=${id}`, { headers: { authorization: `Bearer ${customer}` } })).json()) as { items: { status: string; kind: string; merchant_reference: string }[] };
      const statusOf = async (p: (typeof batch)[number]) => {
        const res = await fetch(`${second.url}/purchases?serviceId=${p.serviceId}`, { headers: { authorization: `Bearer ${customer}` } });
        const { items } = (await res.json()) as { items: { id: string; purchase_status_id: number }[] };
        return items.find((i) => i.id === p.purchaseId)!.purchase_status_id;
      };
      // Within the deadline (10 s) and the janitor's next rounds, every card purchase is paid exactly when PayFast
      // charged it (its ITN, resent once PayFast can reach payrail again, settles it — or pays it as a late success
      // if the deadline came first) and payable again otherwise (not_sent).
      const chargedFor = async (p: (typeof batch)[number]) => {
        const charges = await approved(second.url);
        const refs = new Set((await purchase(p.purchaseId)).items.map((a) => a.merchant_reference));
        return charges.filter((c) => refs.has(c.merchant_reference)).length;
      };
      await until('every card purchase paid exactly when charged', async () => {
        for (const p of batch.filter((b) => b.mediumId === DEMO.mediums.card)) {
          const { items } = await purchase(p.purchaseId);
          if (items.some((a) => a.status === 'pending' || a.status === 'unknown')) return false;
          if (((await statusOf(p)) === 4) !== ((await chargedFor(p)) === 1)) return false;
        }
        return true;
      }, 90_000);

      const charges = await approved(second.url);
      const refs = new Map<string, number>();
      for (const c of charges) refs.set(c.merchant_reference, (refs.get(c.merchant_reference) ?? 0) + 1);
      for (const p of batch) {
        const { items } = await purchase(p.purchaseId);
        const ours = items.map((a) => a.merchant_reference);
        const charged = ours.reduce((n, r) => n + (refs.get(r) ?? 0), 0);
        expect(charged, `purchase ${p.purchaseId} charged ${charged} times`).toBeLessThanOrEqual(1);
        const paid = (await statusOf(p)) === 4;
        if (p.mediumId === DEMO.mediums.card) {
          // Paid exactly when the provider charged it; otherwise payable again (not_sent, or never started).
          expect(paid).toBe(charged === 1);
          if (!paid) expect(await statusOf(p)).toBe(3);
        }
        // Nothing is stuck: a purchase not paid takes a new attempt (a page left open is superseded after 10 s).
        if (!paid) {
          const again = await until(`a new attempt on ${p.purchaseId}`, async () => {
            const res = await submit(second.url, { ...p, mediumId: DEMO.mediums.card });
            return res.status === 409 ? null : res;
          }, 30_000);
          expect(again.status).toBe(200);
        }
      }
      // And each purchase now has exactly one charge.
      const after = await approved(second.url);
      const perRef = new Map<string, number>();
      for (const c of after) perRef.set(c.merchant_reference, (perRef.get(c.merchant_reference) ?? 0) + 1);
      for (const p of batch) {
        const { items } = await purchase(p.purchaseId);
        expect(items.reduce((n, a) => n + (perRef.get(a.merchant_reference) ?? 0), 0)).toBe(1);
      }
    } finally {
      for (const p of started) p.child.kill('SIGKILL');
      await store.drop();
    }
  }, 180_000);
});
