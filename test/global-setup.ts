import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openPglite, openPostgres, type Database } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { seedDemo } from '../src/demo/seed-demo.ts';
import { TokenVault } from '../src/lib/token-vault.ts';
import { createConnectorRegistry } from '../src/providers/registry.ts';
import { Secret } from '../src/lib/secret.ts';
import { TEST_ENCRYPTION_KEY } from './helpers/config.ts';
import { seedFixtures } from './helpers/fixtures.ts';
import { adminUrl, databaseUrl } from './helpers/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    engine: 'pglite' | 'postgres';
    /** PGlite: a dump of the migrated, seeded database. PostgreSQL: the name of the template database. */
    template: string;
  }
}

/** Migrate and seed one template per run; every test file starts from a copy of it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engine = project.name === 'postgres' ? 'postgres' : 'pglite';
  project.provide('engine', engine);

  const seed = async (database: Database, url?: string) => {
    await migrate(database, url);
    const ctx = { database, vault: new TokenVault(new Secret(TEST_ENCRYPTION_KEY)), clock: () => new Date(), connectors: createConnectorRegistry() };
    await seedDemo(ctx);
    await seedFixtures(ctx);
  };

  if (engine === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'payrail-test-'));
    const database = await openPglite();
    await seed(database);
    const client = (database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
    const dump = await client.dumpDataDir('none');
    const path = join(dir, 'template.tar');
    writeFileSync(path, Buffer.from(await dump.arrayBuffer()));
    await database.close();
    project.provide('template', path);
    return async () => rmSync(dir, { recursive: true, force: true });
  }

  const name = `payrail_tmpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = databaseUrl(name);
  const database = openPostgres(url, 2);
  await seed(database, url);
  await database.close();
  project.provide('template', name);
  return async () => {
    // Drop the template and any test database a crashed worker left behind.
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`, [name, `${name}_%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.end();
  };
}
