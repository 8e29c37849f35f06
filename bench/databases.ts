import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type Engine = 'pglite' | 'postgres';

/** Where one engine's servers keep their data for one run, and how to throw it away afterwards. */
export interface BenchDatabase {
  engine: Engine;
  /** Environment for `payrail serve`. */
  payrailEnv: Record<string, string>;
  /** Environment for baseline-server.ts. */
  baselineEnv: Record<string, string>;
  /** Human-readable target, for the header. */
  describe: string;
  dispose(): Promise<void>;
}

/**
 * PGlite: two fresh temp data dirs, one per server (a PGlite data dir belongs to one process).
 * Both are migrated and seeded by the servers themselves.
 */
export function preparePglite(): BenchDatabase {
  const payrailDir = mkdtempSync(join(tmpdir(), 'payrail-bench-'));
  const baselineDir = mkdtempSync(join(tmpdir(), 'payrail-bench-baseline-'));
  return {
    engine: 'pglite',
    payrailEnv: { PAYRAIL_DATA_DIR: payrailDir },
    baselineEnv: { BENCH_DATA_DIR: baselineDir },
    describe: `PGlite in ${tmpdir()}`,
    async dispose() {
      for (const dir of [payrailDir, baselineDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * PostgreSQL: a throwaway database next to the one DATABASE_URL names, shared by both servers (the
 * baseline server migrates and seeds it first; payrail then finds it ready). Dropped WITH (FORCE) at the
 * end, which also ends any connection a dying child left open.
 */
export async function preparePostgres(adminUrl: string): Promise<BenchDatabase> {
  const name = `payrail_bench_${Date.now()}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let disposed = false;
  return {
    engine: 'postgres',
    payrailEnv: { DATABASE_URL: url.toString(), PAYRAIL_DB_POOL_SIZE: '10' },
    baselineEnv: { BENCH_DATABASE_URL: url.toString() },
    describe: `PostgreSQL database ${name} on ${url.host}`,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The PostgreSQL server's version, for the machine-info header. */
export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}
