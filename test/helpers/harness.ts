import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { inject } from 'vitest';
import { buildApp, type BuildOptions } from '../../src/app.ts';
import { withListeningPort, type Config } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { openPglite, openPostgres, type Database } from '../../src/db/client.ts';
import { DEMO } from '../../src/demo/ids.ts';
import type { App } from '../../src/http/route-kit.ts';
import { Secret } from '../../src/lib/secret.ts';
import { signToken } from '../../src/lib/tokens.ts';
import { TokenVault } from '../../src/lib/token-vault.ts';
import type { Connector } from '../../src/providers/contract.ts';
import { createConnectorRegistry } from '../../src/providers/registry.ts';
import { createTelemetry } from '../../src/lib/telemetry.ts';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, testConfig } from './config.ts';
import { FIX } from './fixtures.ts';
import { adminUrl, databaseUrl } from './postgres.ts';
import { tempDir } from './temp.ts';

export interface Harness {
  app: App;
  /** With `listen: true`: payrail's address on a random port (connectors reach the sandboxes over real HTTP). */
  baseUrl: string;
  ctx: AppContext;
  /** PostgreSQL only: the connection string of this test file's database. */
  url: string | null;
  tokens: {
    customer: string;
    integrator: string;
    admin: string;
    otherCustomer: string;
    otherOperatorCustomer: string;
    otherOperatorIntegrator: string;
  };
  /** GET/POST/PUT/PATCH with a bearer token; returns status, headers and parsed JSON. */
  call(method: string, url: string, options?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  text: string;
}

/** A fresh copy of the seeded template database for this test file. */
export async function freshDatabase(): Promise<{ database: Database; url: string | null; drop(): Promise<void> }> {
  if (inject('engine') === 'pglite') {
    const database = await openPglite({ loadDataDir: new Blob([readFileSync(inject('template'))]) });
    return { database, url: null, drop: () => database.close() };
  }
  const name = `${inject('template')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('template')}`);
  const url = databaseUrl(name);
  const database = openPostgres(url, 10);
  return {
    database,
    url,
    async drop() {
      await database.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * A PGlite data dir (for a payrail process: PAYRAIL_DATA_DIR) holding a copy of the migrated, seeded
 * template, so a started process skips creating and seeding its database.
 */
export async function seededDataDir(): Promise<string> {
  const dataDir = join(tempDir('data'), 'data');
  mkdirSync(dataDir, { recursive: true });
  await (await openPglite({ dataDir: join(dataDir, 'pglite'), loadDataDir: new Blob([readFileSync(inject('template'))]) })).close();
  return dataDir;
}

export function testTokens() {
  const secret = new Secret(TEST_JWT_SECRET);
  return {
    customer: signToken(secret, { sub: DEMO.customerUserId, operatorId: DEMO.operatorId, role: 'customer', customerId: DEMO.customerId }),
    integrator: signToken(secret, { sub: DEMO.integratorUserId, operatorId: DEMO.operatorId, role: 'integrator' }),
    admin: signToken(secret, { sub: DEMO.adminUserId, operatorId: DEMO.operatorId, role: 'admin' }),
    otherCustomer: signToken(secret, { sub: FIX.otherCustomer.userId, operatorId: DEMO.operatorId, role: 'customer', customerId: FIX.otherCustomer.customerId }),
    otherOperatorCustomer: signToken(secret, { sub: FIX.otherOperator.userId, operatorId: FIX.otherOperator.operatorId, role: 'customer', customerId: FIX.otherOperator.customerId }),
    otherOperatorIntegrator: signToken(secret, { sub: FIX.otherOperator.integratorUserId, operatorId: FIX.otherOperator.operatorId, role: 'integrator' }),
  };
}

export interface HarnessOptions {
  config?: Config;
  clock?: () => Date;
  build?: BuildOptions;
  listen?: boolean;
  /** The connectors payrail has (default: the registry's). */
  connectors?: readonly Connector[];
  /** The logger (default: silent, or TEST_LOG_LEVEL); tests that read the log lines give their own. */
  log?: pino.Logger;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { database, url, drop } = await freshDatabase();
  const ctx: AppContext = {
    config: options.config ?? testConfig(),
    database,
    vault: new TokenVault(new Secret(TEST_ENCRYPTION_KEY)),
    clock: options.clock ?? (() => new Date()),
    log: options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    connectors: createConnectorRegistry(options.connectors),
    telemetry: createTelemetry(),
  };
  const app = await buildApp(ctx, options.build);
  await app.ready();
  let baseUrl = ctx.config.publicUrl;
  if (options.listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    ctx.config = withListeningPort({ ...ctx.config, port: -1 }, port);
    baseUrl = ctx.config.publicUrl;
  }
  const tokens = testTokens();
  return {
    app,
    baseUrl,
    ctx,
    url,
    tokens,
    async call(method, path, opts = {}) {
      const token = opts.token === undefined ? tokens.customer : opts.token;
      const res = await app.inject({
        method: method as 'GET',
        url: path,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(opts.headers ?? {}) },
        ...(opts.body === undefined ? {} : { payload: opts.body as object }),
      });
      let body: unknown = null;
      try {
        body = res.body.length > 0 ? JSON.parse(res.body) : null;
      } catch {
        body = res.body;
      }
      return { status: res.statusCode, headers: res.headers, body, text: res.body };
    },
    async close() {
      await app.close();
      await drop();
    },
  };
}
