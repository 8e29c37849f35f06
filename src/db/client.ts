import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import * as schema from './schema.ts';

export type Schema = typeof schema;
/** The Drizzle handle repositories use; the same type on PGlite and PostgreSQL. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Repositories take either the database or an open transaction. */
export type Executor = Db | Tx;

/** A raw parameterised query; `name` makes it a prepared statement on PostgreSQL (PGlite ignores it). */
export type RawQuery = <R extends Record<string, unknown>>(text: string, params?: readonly unknown[], name?: string) => Promise<R[]>;

/** Inside `Database.transaction`: raw statements and Drizzle, both on the transaction's connection. */
export interface RawTransaction {
  query: RawQuery;
  db: Db;
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /**
   * A transaction for hot paths: a few hand-written prepared statements (one round trip each, no query
   * building), with Drizzle at hand on the same connection for the rare branches.
   */
  transaction<T>(fn: (tx: RawTransaction) => Promise<T>): Promise<T>;
  /**
   * A raw parameterised query for read models that need one round trip. `name` makes it a prepared
   * statement on PostgreSQL (planned once per connection); PGlite ignores it.
   */
  query<R extends Record<string, unknown>>(text: string, params?: readonly unknown[], name?: string): Promise<R[]>;
  close(): Promise<void>;
}

// Cents and sequence numbers stay well inside 2^53; dates stay calendar strings, never local-time Dates.
const INT8 = 20;
const DATE = 1082;
const NUMERIC = 1700;

export async function openPglite(options: { dataDir?: string; loadDataDir?: Blob | File } = {}): Promise<Database> {
  const client = new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    parsers: {
      [INT8]: (v: string) => Number(v),
      [DATE]: (v: string) => v,
      [NUMERIC]: (v: string) => v,
    },
  });
  await client.waitReady;
  await client.exec(`SET TIME ZONE 'UTC'`);
  return pgliteDatabase(client);
}

export function pgliteDatabase(client: PGlite): Database {
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    async query(text, params = []) {
      const result = await client.query(text, params as unknown[]);
      return result.rows as never;
    },
    transaction(fn) {
      return client.transaction(async (t) => {
        const query: RawQuery = async (text, params = []) => (await t.query(text, params as unknown[])).rows as never;
        return fn({ query, db: drizzlePglite(t as unknown as PGlite, { schema }) as unknown as Db });
      });
    },
    close: () => client.close(),
  };
}

const drizzleByClient = new WeakMap<pg.PoolClient, Db>();

/**
 * Every statement is planned generically (plan_cache_mode): a named one once per connection, kept until the
 * tables it reads are analysed again. So a named statement must read its big tables by an index whatever
 * their size when it was planned. A job's claim is not named: it is planned at each claim for its table as
 * it is then, since a plan made while the table was small (a first billing run's collections, before any
 * statistics) scans all of it, and would go on doing so at every claim once the table holds a million rows.
 */
export function openPostgres(url: string, poolSize = 10): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: '-c timezone=UTC -c plan_cache_mode=force_generic_plan',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8) return (v: string) => Number(v);
        if (oid === DATE || oid === NUMERIC) return (v: string) => v;
        return pg.types.getTypeParser(oid, format);
      }) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = drizzleNodePg(pool, { schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    async query(text, params = [], name) {
      const result = await pool.query({ text, values: params as unknown[], ...(name ? { name } : {}) });
      return result.rows;
    },
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const query: RawQuery = async (text, params = [], name) => (await client.query({ text, values: params as unknown[], ...(name ? { name } : {}) })).rows;
        // One Drizzle handle per pooled connection, made once (building one walks the whole schema).
        let handle = drizzleByClient.get(client);
        if (!handle) drizzleByClient.set(client, (handle = drizzleNodePg(client, { schema }) as unknown as Db));
        const result = await fn({ query, db: handle });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

