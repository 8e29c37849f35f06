/**
 * The billing part of `npm run bench` (SPEC §10), on PostgreSQL (DATABASE_URL) — PGlite is one session
 * and not where a million services are billed:
 *
 * 1. A billing run over N Recurring services due on one date (BENCH_BILLING_SERVICES, default 100,000;
 *    1,000,000 for the figure SPEC §9 asks about), timed against a baseline in the same run: one
 *    `INSERT … SELECT` of N plain rows into a table of the purchase's width. Reports services/s, the ratio to
 *    the baseline rows/s, and this process's peak heap during the run (the run is set-based SQL: Node holds
 *    no per-service state, so the peak does not grow with N — compare two N to see it).
 * 2. The collections a run starts (BENCH_BILLING_COLLECTIONS, default 2,000 services with an approving
 *    sandbox card) worked by one, then by two `payrail worker` processes against a `payrail serve` whose
 *    built-in PayFast sandbox charges them: collections/s from the first attempt to the last outcome, and double
 *    charges counted from the sandbox's ledger (merchant references charged more than once).
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { openPostgres, type Database } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { DEMO } from '../src/demo/ids.ts';
import { seedDemo } from '../src/demo/seed-demo.ts';
import { civilDate } from '../src/domain/periods.ts';
import { Secret } from '../src/lib/secret.ts';
import { TokenVault } from '../src/lib/token-vault.ts';
import { runBilling } from '../src/modules/billing/run-billing.ts';
import { insertMedium } from '../src/modules/mediums/repo.ts';
import { webhookSecretContext } from '../src/modules/webhooks/endpoints.ts';
import * as t from '../src/db/schema.ts';
import { freePort, startChild, waitForHttp } from './children.ts';
import { preparePostgres } from './databases.ts';
import { ENCRYPTION_KEY, JWT_SECRET } from './scenarios.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface BillingBenchReport {
  services: number;
  runSeconds: number;
  servicesPerSec: number;
  baselineRowsPerSec: number;
  ratio: number;
  purchasesCreated: number;
  peakHeapMb: number;
  /** Whether each service has its own customer and card (BENCH_BILLING_CARDS=each: a collection job each), or none. */
  cards: 'each' | 'none';
  collectionsStarted: number;
  /** How the services' ids were made: time-ordered as payrail mints them, or random (BENCH_BILLING_IDS=random). */
  ids: 'time-ordered' | 'random';
  /** Whether the operator has an endpoint taking purchase.created (BENCH_BILLING_WEBHOOK=subscribed), and the events the run left for the dispatcher. */
  webhook: 'subscribed' | 'none';
  undispatchedEvents: number;
  /** WAL the run wrote, and the pages backends had to write out themselves to make room in shared_buffers (cluster-wide counters). */
  walMb: number;
  backendPageWrites: number;
  sharedBuffers: string;
  /** `seconds` from the first attempt started to the last outcome written (the database's stamps); `withStartUpSeconds` from starting the workers. */
  collections: { workers: number; collections: number; seconds: number; perSec: number; withStartUpSeconds: number; doubleCharges: number; paid: number }[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Billing settings of the bench's environment (PAYRAIL_BILLING_CONCURRENCY …) reach the server and workers it starts. */
const passThrough = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PAYRAIL_BILLING_') && k !== 'PAYRAIL_BILLING_TIME')) as Record<string, string>;

/**
 * N Active Recurring services of the demo customer, due on `today`, with `card` (or none) active. Their ids
 * and their plans' are time-ordered, as payrail mints them (src/lib/uuid7.ts); BENCH_BILLING_IDS=random
 * gives them random (version 4) ids instead, as a client that chooses its own random ids would.
 */
async function insertDueServices(database: Database, n: number, today: string, card: string | null): Promise<void> {
  const newId = process.env.BENCH_BILLING_IDS === 'random' ? 'gen_random_uuid()' : 'payrail_uuid7()';
  await database.query(
    `WITH s AS (
       INSERT INTO services (id, operator_id, customer_id, product_id, collector_id, status, billing_status, collection_day, billed_through, on_network_date)
       SELECT ${newId}, $1, $2, $3, $4, 'Active', 'PaidUp', extract(day FROM $5::date)::int, $5::date, $5::date FROM generate_series(1, $6::int)
       RETURNING id
     )
     INSERT INTO purchase_plans (id, service_id, active_medium_id) SELECT ${newId}, id, $7::uuid FROM s`,
    [DEMO.operatorId, DEMO.customerId, DEMO.products.recurring, DEMO.collectorId, today, n, card],
  );
}

/**
 * BENCH_BILLING_CARDS=each: N customers, each with a Valid card and one Active Recurring service due on
 * `today` whose plan charges that card, all with ids made as payrail makes them. The run then also writes a
 * collection job for each service, as a real run does. (The cards hold no token: this part only bills;
 * collections are measured below, with cards that do.)
 */
async function insertDueCustomers(database: Database, n: number, today: string): Promise<void> {
  await database.query(
    `WITH g AS (SELECT i, payrail_uuid7() AS customer_id, payrail_uuid7() AS medium_id, payrail_uuid7() AS service_id, payrail_uuid7() AS plan_id FROM generate_series(1, $5::int) i),
     c AS (INSERT INTO customers (id, operator_id, name) SELECT customer_id, $1, 'Customer ' || i FROM g ORDER BY i RETURNING 1),
     m AS (INSERT INTO mediums (id, operator_id, customer_id, medium_type, status, provider, external_reference, account_name, account_number)
           SELECT medium_id, $1, customer_id, 'CreditCard', 'Valid', 'PayFast', 'bench ' || i, 'Bench', '1111' FROM g ORDER BY i RETURNING 1),
     s AS (INSERT INTO services (id, operator_id, customer_id, product_id, collector_id, status, billing_status, collection_day, billed_through, on_network_date)
           SELECT service_id, $1, customer_id, $2, $3, 'Active', 'PaidUp', extract(day FROM $4::date)::int, $4::date, $4::date FROM g ORDER BY i RETURNING 1),
     p AS (INSERT INTO purchase_plans (id, service_id, active_medium_id) SELECT plan_id, service_id, medium_id FROM g ORDER BY i RETURNING 1)
     SELECT (SELECT count(*) FROM c) + (SELECT count(*) FROM m) + (SELECT count(*) FROM s) + (SELECT count(*) FROM p) AS n`,
    [DEMO.operatorId, DEMO.products.recurring, DEMO.collectorId, today, n],
  );
}

async function approvingCard(database: Database): Promise<string> {
  const token = randomUUID();
  const card = randomUUID();
  await database.db.transaction(async (tx) => {
    await tx.insert(t.sandboxTokens).values({ token, provider: 'PayFast', outcome: 'approve', cardBin: '400000', cardLast4: '1111', expiryMonth: 12, expiryYear: 2031, holder: 'Bench' });
    await insertMedium(tx, new TokenVault(new Secret(ENCRYPTION_KEY)), { id: card, operatorId: DEMO.operatorId, customerId: DEMO.customerId, mediumType: 'CreditCard', provider: 'PayFast', externalReference: 'bench', accountName: 'Bench', accountNumber: '1111', expiryMonth: 12, expiryYear: 2031 }, { provider: 'PayFast', value: token });
  });
  return card;
}

/**
 * Writes out what the set-up dirtied (a million services, then the baseline's rows) before a timed part,
 * so that part is not charged with flushing them. Needs a superuser or pg_checkpoint; without, the part
 * runs as it is and the bench says so.
 */
async function settle(database: Database): Promise<void> {
  try {
    await database.query('CHECKPOINT');
  } catch (err) {
    log(`  (no CHECKPOINT before the timed part: ${(err as Error).message})`);
  }
}

async function freshDatabase(adminUrl: string) {
  const db = await preparePostgres(adminUrl);
  const url = db.payrailEnv.DATABASE_URL!;
  const database = openPostgres(url, 8);
  await migrate(database, url);
  const ctx = { config: { demo: true }, database, vault: new TokenVault(new Secret(ENCRYPTION_KEY)), clock: () => new Date(), log: pino({ level: 'silent' }) };
  await seedDemo(ctx as never);
  return { db, url, database, ctx };
}

export async function benchBilling(adminUrl: string): Promise<BillingBenchReport> {
  const n = Number(process.env.BENCH_BILLING_SERVICES ?? 100_000);
  const m = Number(process.env.BENCH_BILLING_COLLECTIONS ?? 2_000);
  // 1. The run over N services, and the baseline, on one fresh database. `today` is read once its operator
  // exists (a run's as_of may not be before the operator's first day, which may have begun meanwhile).
  const run = await freshDatabase(adminUrl);
  const today = civilDate(new Date());
  let report: Omit<BillingBenchReport, 'collections'>;
  try {
    const cards = process.env.BENCH_BILLING_CARDS === 'each' ? 'each' : 'none';
    log(`  billing: ${n.toLocaleString('en')} Recurring services due ${today}${cards === 'each' ? ', each of its own customer with a card' : ''} …`);
    if (cards === 'each') await insertDueCustomers(run.database, n, today);
    else await insertDueServices(run.database, n, today, null);
    // BENCH_BILLING_WEBHOOK=subscribed: the operator has an enabled endpoint taking purchase.created, so
    // the run writes each event (for the dispatcher), as a subscribed operator's run does; without, none.
    const webhook = process.env.BENCH_BILLING_WEBHOOK === 'subscribed' ? 'subscribed' : 'none';
    if (webhook === 'subscribed') {
      const id = randomUUID();
      await run.database.query(
        `INSERT INTO webhook_endpoints (id, operator_id, url, event_types, enabled, sealed_secret, created_at, updated_at) VALUES ($1, $2, 'http://127.0.0.1:9/hooks', '["purchase.created"]', true, $3, now(), now())`,
        [id, DEMO.operatorId, run.ctx.vault.seal(randomUUID(), webhookSecretContext(id))],
      );
    }
    for (const table of ['services', 'purchase_plans', 'customers', 'mediums']) await run.database.query(`VACUUM ANALYZE ${table}`);
    await run.database.query('CREATE TABLE bench_plain (id uuid PRIMARY KEY, operator_id uuid, service_id uuid, status_id smallint, amount_cents bigint, period_start date, period_end date, created_at timestamptz)');
    await settle(run.database);
    let t0 = performance.now();
    await run.database.query(`INSERT INTO bench_plain SELECT gen_random_uuid(), operator_id, id, 3, 37900, billed_through, billed_through + 30, now() FROM services WHERE billed_through = $1::date`, [today]);
    const baselineSeconds = (performance.now() - t0) / 1000;

    await settle(run.database);
    const io = async () => (await run.database.query<{ wal: number; backend: number }>('SELECT (SELECT wal_bytes FROM pg_stat_wal)::float8 AS wal, (SELECT buffers_backend FROM pg_stat_bgwriter)::float8 AS backend'))[0]!;
    const [{ shared_buffers: sharedBuffers }] = (await run.database.query<{ shared_buffers: string }>('SHOW shared_buffers')) as [{ shared_buffers: string }];
    const ioBefore = await io();
    let peak = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
    t0 = performance.now();
    const lanes = process.env.PAYRAIL_BILLING_RUN_LANES ? Number(process.env.PAYRAIL_BILLING_RUN_LANES) : undefined;
    const { run: made } = await runBilling(run.ctx as never, DEMO.operatorId, today, { id: 'bench', role: 'system', requestId: null }, lanes ? { lanes } : {});
    const runSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const ioAfter = await io();
    report = {
      services: n,
      runSeconds,
      servicesPerSec: Math.round(n / runSeconds),
      baselineRowsPerSec: Math.round(n / baselineSeconds),
      ratio: Math.round((n / runSeconds / (n / baselineSeconds)) * 1000) / 1000,
      purchasesCreated: made.purchasesCreated,
      peakHeapMb: Math.round(peak / 1_048_576),
      cards,
      collectionsStarted: made.collectionsStarted,
      ids: cards === 'none' && process.env.BENCH_BILLING_IDS === 'random' ? 'random' : 'time-ordered',
      webhook,
      undispatchedEvents: (await run.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_events WHERE dispatched_at IS NULL AND type = 'purchase.created'`))[0]!.n,
      walMb: Math.round((ioAfter.wal - ioBefore.wal) / 1_048_576),
      backendPageWrites: ioAfter.backend - ioBefore.backend,
      sharedBuffers,
    };
    log(`  billing run: ${report.servicesPerSec.toLocaleString('en')} services/s (${runSeconds.toFixed(1)} s), baseline INSERT … SELECT ${report.baselineRowsPerSec.toLocaleString('en')} rows/s, ratio ${report.ratio}, peak heap ${report.peakHeapMb} MB; ${report.collectionsStarted.toLocaleString('en')} collection jobs; ${report.ids} ids, ${report.undispatchedEvents.toLocaleString('en')} purchase.created events to dispatch, WAL ${report.walMb.toLocaleString('en')} MB, ${report.backendPageWrites.toLocaleString('en')} pages written out by backends (shared_buffers ${sharedBuffers})`);
  } finally {
    await run.database.close();
    await run.db.dispose();
  }

  // 2. The collections of a run, worked by one and by two worker processes.
  const collections: BillingBenchReport['collections'] = [];
  for (const workers of [1, 2]) {
    const fresh = await freshDatabase(adminUrl);
    const today = civilDate(new Date());
    try {
      const card = await approvingCard(fresh.database);
      await insertDueServices(fresh.database, m, today, card);
      await runBilling(fresh.ctx as never, DEMO.operatorId, today, { id: 'bench', role: 'system', requestId: null });
      const port = await freePort();
      const common = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: fresh.url, PAYRAIL_JWT_SECRET: JWT_SECRET, PAYRAIL_ENCRYPTION_KEY: ENCRYPTION_KEY, PAYRAIL_SANDBOX: 'true', PAYRAIL_LOG_LEVEL: 'warn', PAYRAIL_BILLING_TIME: 'off', ...passThrough() };
      const serve = startChild('payrail (sandbox host)', [join(ROOT, 'bin', 'payrail.js'), 'serve'], { ...common, PORT: String(port), HOST: '127.0.0.1', PAYRAIL_JOBS_IN_PROCESS: 'false' }, ROOT);
      await waitForHttp(serve, `http://127.0.0.1:${port}/health`);
      // BENCH_PAYFAST_ITN=off: the collections alone, without PayFast's notification of each charge.
      if (process.env.BENCH_PAYFAST_ITN === 'off') await fetch(`http://127.0.0.1:${port}/sandbox/payfast/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"itn":"off"}' });
      // The ITNs the sandbox sends are stored by the API and processed by the workers' callback job. The
      // workers look for work as configured (PAYRAIL_JOBS_INTERVAL_MS, 2 s; BENCH_JOBS_INTERVAL_MS overrides):
      // a job with a full batch runs again at once, so the interval is the latency of a quiet job, and looking
      // every 20 ms costs the workers more than the collections (65/s instead of 107/s with one worker).
      const t0 = performance.now();
      const children = Array.from({ length: workers }, (_, i) =>
        startChild(`payrail worker ${i + 1}`, [join(ROOT, 'bin', 'payrail.js'), 'worker'], { ...common, PAYRAIL_PUBLIC_URL: `http://127.0.0.1:${port}`, ...(process.env.BENCH_JOBS_INTERVAL_MS ? { PAYRAIL_JOBS_INTERVAL_MS: process.env.BENCH_JOBS_INTERVAL_MS } : {}) }, ROOT),
      );
      let done = 0;
      for (;;) {
        const [row] = await fresh.database.query<{ open: number }>(`SELECT count(*)::int AS open FROM billing_collections WHERE status <> 'done'`);
        done = m - row!.open;
        if (row!.open === 0) break;
        if (performance.now() - t0 > 600_000) throw new Error(`collections still open after 10 minutes (${done}/${m})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const withStartUp = (performance.now() - t0) / 1000;
      // Timed by the database's own stamps, from the first attempt started (the first claim's) to the last
      // outcome written: the workers' start-up (loading, connecting) is not collections' time.
      const [span] = await fresh.database.query<{ seconds: number }>(
        `SELECT extract(epoch FROM max(c.finished_at) - min(p.created_at))::float8 AS seconds FROM billing_collections c JOIN payments p ON p.id = c.payment_id`,
      );
      const seconds = span!.seconds;
      const [dup] = await fresh.database.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT merchant_reference FROM sandbox.transactions WHERE status = 'approved' AND merchant_reference IS NOT NULL GROUP BY merchant_reference HAVING count(*) > 1) d`,
      );
      const [paid] = await fresh.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM purchases WHERE creation_event_id = 2 AND status_id = 4`);
      collections.push({ workers, collections: m, seconds, perSec: Math.round(m / seconds), withStartUpSeconds: withStartUp, doubleCharges: dup!.n, paid: paid!.n });
      log(`  collections with ${workers} worker${workers > 1 ? 's' : ''}: ${Math.round(m / seconds)}/s (${m} in ${seconds.toFixed(1)} s from the first attempt to the last outcome; ${withStartUp.toFixed(1)} s with the workers' start-up), ${paid!.n} paid, ${dup!.n} double charges`);
      for (const c of children) await c.stop();
      await serve.stop();
    } finally {
      await fresh.database.close();
      await fresh.db.dispose();
    }
  }
  return { ...report, collections };
}

// `node --import tsx bench/billing.ts`: this part alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    log('bench/billing.ts needs DATABASE_URL (PostgreSQL).');
    process.exit(2);
  }
  benchBilling(url).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.exit(0);
    },
    (err) => {
      log(String(err?.stack ?? err));
      process.exit(1);
    },
  );
}
