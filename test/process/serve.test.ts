import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.ts';
import { processIdentity } from '../../src/db/process-identity.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/config.ts';
import { testTokens } from '../helpers/harness.ts';
import { adminUrl, databaseUrl } from '../helpers/postgres.ts';
import { payrailStarter, runPayrail } from '../helpers/process.ts';
import { tempDir } from '../helpers/temp.ts';

const env = { PAYRAIL_JWT_SECRET: TEST_JWT_SECRET, PAYRAIL_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, PAYRAIL_SANDBOX: 'true' };
const { start, stopAll } = payrailStarter(env);
afterAll(stopAll);
const get = (base: string, path: string, token = testTokens().customer) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
const DETAILS = `/services/${DEMO.services.recurringInArrears}/details-and-actions`;
/** Every JWT in a process's output, with its claims. */
const printedTokens = (output: string) =>
  [...output.matchAll(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g)].map(([token]) => ({ token, claims: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; iat: number; exp: number } }));

describe.runIf(inject('engine') === 'pglite')('payrail serve on the embedded database', () => {
  const dataDir = join(tempDir('serve'), 'data');

  it('serves the demo data, refuses a second process on the same data dir, and keeps working', async () => {
    const first = await start({ PAYRAIL_DATA_DIR: dataDir });
    expect(first.output()).toContain('Demo bearer tokens, valid 12 hours');
    expect(first.output()).toContain('anyone who can read this output');
    // The embedded demo prints short-lived tokens for its customer, integrator and admin, and they work.
    const tokens = printedTokens(first.output());
    expect(tokens.map((t) => t.claims.sub).sort()).toEqual([DEMO.customerUserId, DEMO.integratorUserId, DEMO.adminUserId].sort());
    for (const { claims } of tokens) expect(claims.exp - claims.iat).toBe(12 * 3600);
    expect((await get(first.url, DETAILS, tokens.find((t) => t.claims.sub === DEMO.customerUserId)!.token)).status).toBe(200);
    // PORT=0: the banner shows the port the OS gave, not 0.
    expect(first.output()).toContain(`API docs          http://localhost:${new URL(first.url).port}/docs`);
    expect((await get(first.url, DETAILS)).status).toBe(200);

    const second = runPayrail(['serve'], { ...env, PAYRAIL_DATA_DIR: dataDir });
    expect(await second.exited).toBe(78);
    expect(second.output()).toMatch(/data dir .* is in use by another payrail process \(pid \d+/);
    expect(second.output()).not.toMatch(/at .*\.ts:\d+/);

    const put = await fetch(`${first.url}/active-payment-medium-for-service?serviceId=${DEMO.services.dayBundle}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${testTokens().customer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ medium_id: DEMO.mediums.card }),
    });
    expect(put.status).toBe(200);
    expect((await get(first.url, '/health')).status).toBe(200);

    // Graceful stop: exit 0 and the lock is gone.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(join(dataDir, 'payrail.lock'))).toBe(false);
    // Two processes, the first creating and seeding an empty data dir: 25 s under the whole suite's load,
    // close to the default 30 s (once over it).
  }, 90_000);

  it('starts again after kill -9, taking over the stale lock, with its data intact', async () => {
    const again = await start({ PAYRAIL_DATA_DIR: dataDir });
    expect(again.output()).not.toContain('seeded the demo data');
    again.child.kill('SIGKILL');
    await again.exited;
    const lock = join(dataDir, 'payrail.lock');
    expect(existsSync(lock)).toBe(true);
    // Meanwhile its pid went to another process (pids are reused): alive, but not the holder. Only where
    // /proc tells processes apart; elsewhere a live pid is taken as the holder.
    const stranger = processIdentity(process.pid) ? spawn('sleep', ['60']) : null;
    if (stranger) {
      await new Promise((resolve) => stranger.on('spawn', resolve));
      writeFileSync(lock, JSON.stringify({ ...JSON.parse(readFileSync(lock, 'utf8')), pid: stranger.pid }));
    }

    const third = await start({ PAYRAIL_DATA_DIR: dataDir }).finally(() => stranger?.kill('SIGKILL'));
    if (stranger) expect(third.output()).toContain(`took over a stale data-dir lock: pid ${stranger.pid} now belongs to another process`);
    const res = await get(third.url, `/active-payment-medium-for-service?serviceId=${DEMO.services.dayBundle}`);
    expect(((await res.json()) as { medium_detail_id: string }).medium_detail_id).toBe(DEMO.mediums.card);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('says plainly when its port is taken', async () => {
    const blocker = (await import('node:net')).createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = runPayrail(['serve'], { ...env, PAYRAIL_DATA_DIR: join(tempDir('port'), 'data'), PORT: String(port) });
      expect(await run.exited).toBe(78);
      expect(run.output()).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(run.output()).not.toMatch(/at .*\.ts:\d+/);
    } finally {
      blocker.close();
    }
  });

  it('refuses to start with a configuration error that names the variable', async () => {
    const bad = runPayrail(['serve'], { ...env, PAYRAIL_DATA_DIR: dataDir, PORT: 'eighty' });
    expect(await bad.exited).toBe(78);
    expect(bad.output()).toContain('PORT must be a whole number');
  });

  it('prints its help', async () => {
    const help = runPayrail(['--help'], {});
    expect(await help.exited).toBe(0);
    for (const command of ['serve', 'migrate', 'seed-demo']) expect(help.output()).toContain(command);
  });

  it('at start, removes the partial bundle a process killed while writing it left, not one a live process is writing', async () => {
    const cache = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'payrail');
    mkdirSync(cache, { recursive: true });
    // A process that has ended: its id is free. This process is alive.
    const ended = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => ended.on('exit', resolve));
    const dead = join(cache, `cli-00000000000000000000.mjs.${ended.pid}.partial`);
    const writing = join(cache, `cli-00000000000000000000.mjs.${process.pid}.partial`);
    writeFileSync(dead, 'half a bundle');
    writeFileSync(writing, 'half a bundle');
    try {
      const help = runPayrail(['--help'], {});
      expect(await help.exited).toBe(0);
      expect(readdirSync(cache).filter((f) => /^cli-[0-9a-f]+\.mjs$/.test(f))).toHaveLength(1);
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(writing)).toBe(true);
    } finally {
      rmSync(dead, { force: true });
      rmSync(writing, { force: true });
    }
  });
});

describe.runIf(inject('engine') === 'postgres')('several payrail processes on one PostgreSQL', () => {
  it('refuses to start without secrets unless sandbox mode is asked for, and says how to ask', async () => {
    const run = runPayrail(['serve'], { DATABASE_URL: databaseUrl('payrail_never_opened'), PAYRAIL_DATA_DIR: tempDir('pg') });
    expect(await run.exited).toBe(78);
    expect(run.output()).toContain('PAYRAIL_JWT_SECRET (or PAYRAIL_JWKS_URL) is required');
    expect(run.output()).toContain('set PAYRAIL_SANDBOX=true explicitly');
    expect(run.output()).not.toContain('listening');
  });

  it('with secrets and PAYRAIL_SANDBOX unset, runs outside sandbox mode: no sandboxes, no sandbox sign-in, no token', async () => {
    const name = `payrail_live_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      // An empty PAYRAIL_SANDBOX counts as unset; PAYRAIL_DEMO asks for the demo data, which never brings tokens.
      const live = await start({ DATABASE_URL: databaseUrl(name), PAYRAIL_SANDBOX: '', PAYRAIL_DEMO: 'true', PAYRAIL_DATA_DIR: tempDir('pg') });
      expect(live.output()).not.toContain('Provider sandboxes');
      expect(printedTokens(live.output())).toEqual([]);
      expect((await fetch(`${live.url}/sandbox/sign-in`)).status).toBe(404);
      expect((await fetch(`${live.url}/sandbox/payfast/transactions`)).status).toBe(404);
      expect((await get(live.url, DETAILS)).status).toBe(200);
      live.child.kill('SIGTERM');
      expect(await live.exited).toBe(0);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('start together on an empty database: one migrates and seeds, both serve the same data', async () => {
    const name = `payrail_serve_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const common = { DATABASE_URL: databaseUrl(name), PAYRAIL_DEMO: 'true', PAYRAIL_DATA_DIR: tempDir('pg') };
      const [a, b] = await Promise.all([start(common), start(common)]);
      for (const p of [a, b]) {
        const res = await get(p.url, DETAILS);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { must_pay_info: { arrears_purchase: { id: string } } }).must_pay_info.arrears_purchase.id).toBe(DEMO.purchases.arrears);
        // Sandbox mode and demo data, asked for explicitly, still print no token: a PostgreSQL log is a production log.
        expect(printedTokens(p.output())).toEqual([]);
        expect(p.output()).not.toContain('Demo bearer tokens');
        expect(p.output()).toContain('No tokens are printed on PostgreSQL');
      }
      const check = new pg.Client({ connectionString: databaseUrl(name) });
      await check.connect();
      expect((await check.query('SELECT count(*)::int AS n FROM operators')).rows[0].n).toBe(1);
      // Every committed migration applied exactly once, though two processes raced to apply them.
      const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      expect((await check.query('SELECT count(*)::int AS n FROM payrail_migrations')).rows[0].n).toBe(journal.entries.length);
      await check.end();
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(await b.exited).toBe(0);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
