import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.ts';
import { WEB_DIST } from './http/routes/web-app.ts';
import { startJobs } from './jobs/runner.ts';
import { SANDBOXES } from './sandboxes/registry.ts';
import { redactUrl, withListeningPort, type Config } from './config.ts';
import type { AppContext } from './context.ts';
import { openPglite, openPostgres, type Database } from './db/client.ts';
import { acquireDataDirLock, type DataDirLock } from './db/data-dir-lock.ts';
import { migrate } from './db/migrate.ts';
import { DEMO } from './demo/ids.ts';
import { seedDemo } from './demo/seed-demo.ts';
import type { App } from './http/route-kit.ts';
import { withLocalSecrets } from './lib/local-secrets.ts';
import { signToken } from './lib/tokens.ts';
import { TokenVault } from './lib/token-vault.ts';
import { backfillTokenFingerprints } from './modules/mediums/repo.ts';
import { createConnectorRegistry } from './providers/registry.ts';
import { createTelemetry } from './lib/telemetry.ts';

/** Fields that must never reach a log line, wherever they appear. */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  '*.authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.card_number',
  '*.cvv',
  '*.passphrase',
  '*.merchant_key',
];

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  // Asynchronous writes: under load, lines written while one write is in flight go out together instead
  // of one system call each. pino flushes what is pending when the process exits normally.
  const destination = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // nothing left to write, or stdout is gone
    }
  });
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'payrail' } }, destination);
}

export interface Runtime {
  config: Config;
  ctx: AppContext;
  lock: DataDirLock | null;
  close(): Promise<void>;
}

/**
 * Open the database the configuration names (taking the data-dir lock for PGlite), apply migrations and
 * build the context. Used by `serve`, `migrate` and `seed-demo` alike.
 */
export async function openRuntime(rawConfig: Config, log: Logger): Promise<Runtime> {
  const config = withLocalSecrets(rawConfig);
  let lock: DataDirLock | null = null;
  let database: Database;
  if (config.databaseUrl) {
    database = openPostgres(config.databaseUrl.reveal(), config.dbPoolSize);
  } else {
    lock = acquireDataDirLock(config.dataDir);
    try {
      database = await openPglite({ dataDir: join(config.dataDir, 'pglite') });
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  try {
    await migrate(database, config.databaseUrl?.reveal());
  } catch (err) {
    await database.close().catch(() => {});
    lock?.release();
    throw err;
  }
  if (!config.encryptionKey) throw new Error('no encryption key: set PAYRAIL_ENCRYPTION_KEY');
  await backfillTokenFingerprints(database.db, new TokenVault(config.encryptionKey));
  const ctx: AppContext = { config, database, vault: new TokenVault(config.encryptionKey), clock: () => new Date(), log, connectors: createConnectorRegistry(), telemetry: createTelemetry() };
  return {
    config,
    ctx,
    lock,
    async close() {
      await database.close();
      lock?.release();
    },
  };
}

export interface RunningServer {
  app: App;
  runtime: Runtime;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(rawConfig: Config, log: Logger = createLogger(rawConfig)): Promise<RunningServer> {
  const runtime = await openRuntime(rawConfig, log);
  const { config, ctx } = runtime;
  let app: App;
  try {
    if (config.demo && (await seedDemo(ctx))) log.info('seeded the demo data');
    app = await buildApp(ctx, { processMetrics: true });
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await runtime.close().catch(() => {});
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  // Before any request is handled (this runs ahead of I/O callbacks): URLs that follow the real port.
  ctx.config = withListeningPort(config, port);
  runtime.config = ctx.config;

  const jobs = config.jobs.inProcess ? startJobs(ctx) : null;
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: no new requests, finishing the ones in flight');
      await jobs?.stop();
      await app.close();
      await runtime.close();
      log.info('stopped');
    })());
  return { app, runtime, url, stop };
}

/** The start-up banner: every URL, and demo tokens to paste (sandbox mode only). */
export function banner(server: RunningServer): string {
  const { config } = server.runtime;
  const base = config.publicUrl;
  const lines = [
    '',
    `payrail is listening on ${server.url}  (database: ${config.databaseUrl ? `PostgreSQL ${redactUrl(config.databaseUrl.reveal())}` : `PGlite in ${config.dataDir}`})`,
    '',
    `  Web app           ${base}/app${existsSync(join(WEB_DIST, 'index.html')) ? '' : '   (not built: run `npm run build`)'}`,
    `  API               ${base}`,
    `  API docs          ${base}/docs`,
    `  OpenAPI           ${base}/openapi.json`,
    `  Health            ${base}/health`,
    `  Metrics           ${base}/metrics`,
  ];
  if (config.sandbox) {
    lines.push('', 'Provider sandboxes (hosted pages, APIs, and a ledger of every charge):');
    for (const s of SANDBOXES) {
      lines.push(`  ${s.name.padEnd(16)}  ${base}/sandbox/${s.name}    ledger: ${base}/sandbox/${s.name}/transactions`);
      for (const host of Object.keys(s.hosts ?? {})) lines.push(`  ${`${s.name}-${host}`.padEnd(16)}  ${base}/sandbox/${s.name}-${host}    (${s.name}'s ${host} host)`);
    }
  }
  lines.push('', config.jobs.inProcess ? 'Jobs (janitor, callbacks, webhooks) run in this process.' : 'Jobs are off here (PAYRAIL_JOBS_IN_PROCESS=false): run `payrail worker`.');
  if (config.sandbox && config.jwt.secret) {
    const secret = config.jwt.secret;
    const customer = signToken(secret, { sub: DEMO.customerUserId, operatorId: DEMO.operatorId, role: 'customer', customerId: DEMO.customerId });
    const integrator = signToken(secret, { sub: DEMO.integratorUserId, operatorId: DEMO.operatorId, role: 'integrator' });
    const admin = signToken(secret, { sub: DEMO.adminUserId, operatorId: DEMO.operatorId, role: 'admin' });
    lines.push(
      '',
      'Sandbox mode: providers are the built-in sandboxes. Demo bearer tokens (valid 30 days):',
      '',
      `  customer   (Konstand Nel)  ${customer}`,
      `  integrator (Net99)         ${integrator}`,
      `  admin      (Net99)         ${admin}`,
      '',
      'Try:',
      `  curl -H "Authorization: Bearer ${customer.slice(0, 12)}…" ${base}/services/${DEMO.services.recurringInArrears.toUpperCase()}/details-and-actions`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
