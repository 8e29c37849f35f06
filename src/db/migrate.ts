import { join } from 'node:path';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import pg from 'pg';
import { ROOT } from '../paths.ts';
import type { Database } from './client.ts';

export const MIGRATIONS_FOLDER = join(ROOT, 'src', 'db', 'migrations');
const config = { migrationsFolder: MIGRATIONS_FOLDER, migrationsTable: 'payrail_migrations', migrationsSchema: 'public' };

// Any fixed number: every payrail process that migrates takes the same lock.
const MIGRATION_LOCK = 7_276_824_501;

/**
 * Applies the committed SQL migrations. On PostgreSQL several processes may start at once: a session
 * advisory lock lets one migrate while the others wait, then find nothing left to do.
 */
export async function migrate(database: Database, postgresUrl?: string): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as unknown as PgliteDatabase, config);
    return;
  }
  if (!postgresUrl) throw new Error('migrating PostgreSQL needs its connection string');
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('SET client_min_messages = warning');
    await migrateNodePg(drizzleNodePg(client), config);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}
