import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/config.ts';
import { testTokens } from '../helpers/harness.ts';
import { adminUrl, databaseUrl } from '../helpers/postgres.ts';
import { payrailStarter, runPayrail } from '../helpers/process.ts';

const env = { PAYRAIL_JWT_SECRET: TEST_JWT_SECRET, PAYRAIL_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, PAYRAIL_SANDBOX: 'true' };
const { start, stopAll } = payrailStarter(env);
afterAll(stopAll);
const get = (base: string, path: string, token = testTokens().customer) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
const DETAILS = `/services/${DEMO.services.recurringInArrears}/details-and-actions`;

describe.runIf(inject('engine') === 'pglite')('payrail serve on the embedded database', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'payrail-serve-')), 'data');

  it('serves the demo data, refuses a second process on the same data dir, and keeps working', async () => {
    const first = await start({ PAYRAIL_DATA_DIR: dataDir });
    expect(first.output()).toContain('Demo bearer tokens');
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
  });

  it('starts again after kill -9, taking over the stale lock, with its data intact', async () => {
    const again = await start({ PAYRAIL_DATA_DIR: dataDir });
    expect(again.output()).not.toContain('seeded the demo data');
    again.child.kill('SIGKILL');
    await again.exited;
    expect(existsSync(join(dataDir, 'payrail.lock'))).toBe(true);

    const third = await start({ PAYRAIL_DATA_DIR: dataDir });
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
      const run = runPayrail(['serve'], { ...env, PAYRAIL_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'payrail-port-')), 'data'), PORT: String(port) });
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
});

describe.runIf(inject('engine') === 'postgres')('several payrail processes on one PostgreSQL', () => {
  it('start together on an empty database: one migrates and seeds, both serve the same data', async () => {
    const name = `payrail_serve_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const common = { DATABASE_URL: databaseUrl(name), PAYRAIL_DEMO: 'true', PAYRAIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'payrail-pg-')) };
      const [a, b] = await Promise.all([start(common), start(common)]);
      for (const p of [a, b]) {
        const res = await get(p.url, DETAILS);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { must_pay_info: { arrears_purchase: { id: string } } }).must_pay_info.arrears_purchase.id).toBe(DEMO.purchases.arrears);
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
