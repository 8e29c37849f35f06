/**
 * `npm run bench`: for PGlite (and PostgreSQL when DATABASE_URL is set), load each hot path of a real
 * `payrail serve` and a bare-Fastify baseline making the same number of database round trips, one after
 * the other on the same machine, and report each path's req/s as a ratio to its baseline. Absolute
 * numbers depend on the machine; the ratio is what to compare between runs. See bench/README.md.
 */
import { cpus, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startChild, stopAllChildren, waitForHttp, type Child } from './children.ts';
import { preparePglite, preparePostgres, postgresVersion, type BenchDatabase, type Engine } from './databases.ts';
import { measure, verify, type LoadSettings, type Target } from './load.ts';
import { isFailed, printReport, ratio, writeJson, writeReport, type BaselineResult, type EngineReport, type PathResult } from './report.ts';
import { BASELINES, ENCRYPTION_KEY, JWT_SECRET, SCENARIOS, runContext, type BaselineKey } from './scenarios.ts';
import { benchBilling } from './billing.ts';
import { benchVends } from './vend.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number above 0, got "${raw}"`);
  return n;
}

/** `BENCH_ONLY=submit,mediums`: only the paths whose names contain one of these (all by default). */
const only = (process.env.BENCH_ONLY ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const SELECTED = SCENARIOS.filter((s) => only.length === 0 || only.some((o) => s.name.includes(o)));

const settings: LoadSettings = {
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  durationSeconds: positiveInt('BENCH_DURATION', 10),
  warmupSeconds: 2,
};

/** The children get our environment minus anything that could point them at another database or config. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k.startsWith('PAYRAIL_') || k.startsWith('BENCH_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Fails with the child's stderr if it died while we were loading it. */
function assertAlive(child: Child): void {
  if (child.process.exitCode !== null || child.process.signalCode !== null) {
    throw new Error(`${child.name} exited (${child.process.exitCode ?? child.process.signalCode}) during the run:\n${child.stderr()}`);
  }
}

async function runBaselines(db: BenchDatabase): Promise<Record<string, BaselineResult>> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = childEnv({ ...db.baselineEnv, BENCH_PORT: String(port), BENCH_ENCRYPTION_KEY: ENCRYPTION_KEY });
  const child = startChild('baseline-server', ['--import', 'tsx', join(ROOT, 'bench', 'baseline-server.ts')], env, ROOT);
  try {
    const used = [...new Set(SELECTED.map((s) => s.baseline))] as BaselineKey[];
    await waitForHttp(child, base + BASELINES[used[0]!].path);
    const results: Record<string, BaselineResult> = {};
    for (const key of used) {
      const b = BASELINES[key];
      const target: Target = { url: base + b.path, method: 'GET', headers: {} };
      await verify(`baseline ${b.name}`, target);
      log(`  baseline ${b.name} …`);
      results[key] = { name: b.name, url: target.url, roundTrips: b.roundTrips, ...(await measure(target, settings)) };
      assertAlive(child);
    }
    return results;
  } finally {
    await child.stop();
  }
}

async function runPayrail(db: BenchDatabase, baselines: Record<string, BaselineResult>): Promise<PathResult[]> {
  // Scenarios that need the server configured differently get a payrail process of their own.
  const groups = new Map<string, typeof SCENARIOS>();
  for (const s of SELECTED) {
    const key = JSON.stringify(s.serverEnv ?? {});
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const results = new Map<string, PathResult>();
  for (const [key, scenarios] of groups) {
    for (const r of await runPayrailWith(db, baselines, JSON.parse(key) as Record<string, string>, scenarios)) results.set(r.name, r);
  }
  return SELECTED.map((s) => results.get(s.name)!);
}

async function runPayrailWith(
  db: BenchDatabase,
  baselines: Record<string, BaselineResult>,
  serverEnv: Record<string, string>,
  scenarios: typeof SCENARIOS,
): Promise<PathResult[]> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = childEnv({
    ...db.payrailEnv,
    PORT: String(port),
    HOST: '127.0.0.1',
    PAYRAIL_JWT_SECRET: JWT_SECRET,
    PAYRAIL_ENCRYPTION_KEY: ENCRYPTION_KEY,
    PAYRAIL_SANDBOX: 'true',
    PAYRAIL_DEMO: 'true',
    // As in production: request logging on (to /dev/null), so its cost is part of the measurement.
    PAYRAIL_LOG_LEVEL: 'info',
    ...serverEnv,
  });
  const child = startChild('payrail', [join(ROOT, 'bin', 'payrail.js'), 'serve'], env, ROOT);
  try {
    await waitForHttp(child, `${base}/health`);
    const run = runContext();
    const results: PathResult[] = [];
    for (const s of scenarios) {
      let target: Target = { url: base + s.path, method: s.method, headers: s.headers(run), ...(s.body ? { body: s.body(run) } : {}) };
      if (s.bodies) {
        const count = s.bodyCount?.[db.engine] ?? 1_000;
        log(`  ${s.name}: preparing ${count} requests …`);
        const bodies = await s.bodies(base, run, count);
        await verify(s.name, { ...target, body: bodies[0] });
        target = { ...target, bodies: bodies.slice(1) };
      } else {
        await verify(s.name, target);
      }
      log(`  ${s.name} …`);
      const m = await measure(target, settings);
      assertAlive(child);
      const checks = s.check ? await s.check(base, run) : undefined;
      const b = baselines[s.baseline]!;
      results.push({ name: s.name, method: s.method, url: target.url, ...m, baseline: b.name, baselineReqPerSec: b.reqPerSec, ratio: ratio(m.reqPerSec, b.reqPerSec), ...(checks ? { checks } : {}) });
    }
    return results;
  } finally {
    await child.stop();
  }
}

/** Databases still to drop or delete; the signal handler disposes of them too. */
const pending = new Set<BenchDatabase>();

async function benchEngine(engine: Engine): Promise<EngineReport> {
  const db = engine === 'pglite' ? preparePglite() : await preparePostgres(process.env.DATABASE_URL!);
  pending.add(db);
  try {
    const version = engine === 'postgres' ? ` (PostgreSQL ${await postgresVersion(process.env.DATABASE_URL!)})` : '';
    log(`\n${engine}: ${db.describe}${version}`);
    const baselines = await runBaselines(db);
    const paths = await runPayrail(db, baselines);
    const partial = {
      engine,
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      database: db.describe + version,
      connections: settings.connections,
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      baseline: baselines.oneSelect ?? Object.values(baselines)[0]!,
      baselines: Object.fromEntries(Object.values(baselines).map((b) => [b.name, b])),
      paths,
    };
    return { ...partial, failed: isFailed(partial) };
  } finally {
    await stopAllChildren();
    pending.delete(db);
    await db.dispose();
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function cleanUp(): Promise<void> {
  await stopAllChildren();
  await Promise.allSettled([...pending].map((db) => db.dispose()));
}

// Ctrl-C or a kill: stop the servers and drop the databases before going.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping the servers and cleaning up…`);
    cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

async function main(): Promise<number> {
  // `BENCH_ENGINES=postgres`: one engine only.
  const wanted = (process.env.BENCH_ENGINES ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const engines = ((process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']) as Engine[]).filter((e) => wanted.length === 0 || wanted.includes(e));
  const cpu = cpus();
  process.stdout.write(
    `payrail bench: node ${process.version}, ${platform()} ${release()}, ${cpu.length} CPUs (${cpu[0]?.model ?? 'unknown'}), ` +
      `engines: ${engines.join(', ')}; ${settings.connections} connections, ${settings.durationSeconds} s per run\n`,
  );
  let failed = false;
  for (const engine of SELECTED.length > 0 ? engines : []) {
    const report = await benchEngine(engine);
    printReport(report);
    log(`results: ${writeReport(report)}`);
    failed ||= report.failed;
  }
  // Vending after payment (bench/vend.ts), on each engine, when asked for by BENCH_ONLY=vend or when no path was singled out.
  if (only.length === 0 || only.includes('vend')) {
    for (const engine of engines) {
      log(`\n${engine}: vend after payment`);
      const db = engine === 'pglite' ? preparePglite() : await preparePostgres(process.env.DATABASE_URL!);
      try {
        const v = await benchVends(db, ROOT, childEnv);
        process.stdout.write(
          `\nvend after payment (${engine}): ${v.vends} purchases, ${v.concurrency} at a time: p50 ${v.p50Ms} ms, p95 ${v.p95Ms} ms, p99 ${v.p99Ms} ms, max ${v.maxMs} ms ` +
            `(a tokens read alone: p50 ${v.pollRoundTripP50Ms} ms); ${v.tokensIssued} tokens issued, ${v.doubleVends} double vends\n`,
        );
        log(`results: ${writeJson(`vend-${engine}`, v)}`);
        failed ||= v.doubleVends > 0 || v.tokensIssued !== v.vends;
      } finally {
        await db.dispose();
      }
    }
  }
  // Billing runs and their collections (bench/billing.ts): PostgreSQL only, and only when asked for by
  // BENCH_ONLY=billing or when no path was singled out.
  if (process.env.DATABASE_URL && engines.includes('postgres') && (only.length === 0 || only.includes('billing'))) {
    log('\npostgres: billing');
    const billing = await benchBilling(process.env.DATABASE_URL);
    process.stdout.write(
      `\nbilling run: ${billing.services.toLocaleString('en')} services in ${billing.runSeconds.toFixed(1)} s = ${billing.servicesPerSec.toLocaleString('en')} services/s; ` +
        `baseline INSERT … SELECT ${billing.baselineRowsPerSec.toLocaleString('en')} rows/s; ratio ${billing.ratio}; peak heap ${billing.peakHeapMb} MB; ${billing.collectionsStarted} collection jobs; ${billing.ids} ids; WAL ${billing.walMb} MB; ${billing.backendPageWrites} backend page writes (shared_buffers ${billing.sharedBuffers})\n` +
        billing.collections.map((c) => `collections, ${c.workers} worker(s): ${c.perSec}/s (${c.collections} in ${c.seconds.toFixed(1)} s from the first attempt; ${c.withStartUpSeconds.toFixed(1)} s with start-up), ${c.paid} paid, ${c.doubleCharges} double charges\n`).join(''),
    );
    log(`results: ${writeJson('billing', billing)}`);
    failed ||= billing.collections.some((c) => c.doubleCharges > 0 || c.paid !== c.collections);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    log(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
    await cleanUp();
    process.exit(1);
  },
);
