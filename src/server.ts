import { existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.ts';
import { WEB_DIST } from './http/routes/web-app.ts';
import { JOBS, startJobs } from './jobs/runner.ts';
import { SANDBOXES } from './sandboxes/registry.ts';
import { redactUrl, withListeningPort, type Config } from './config.ts';
import type { AppContext } from './context.ts';
import { openPglite, openPostgres, type Database } from './db/client.ts';
import { acquireDataDirLock, type DataDirLock } from './db/data-dir-lock.ts';
import { migrate } from './db/migrate.ts';
import { DEMO } from './demo/ids.ts';
import { seedDemo } from './demo/seed-demo.ts';
import { serializeError } from './http/log-safe-error.ts';
import type { App } from './http/route-kit.ts';
import { withLocalSecrets } from './lib/local-secrets.ts';
import { createLogDestination } from './lib/log-destination.ts';
import { SANDBOX_TOKEN_SECONDS, signToken } from './lib/tokens.ts';
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

/**
 * How long the last log lines may wait, at exit, for a reader that is slow to take them. The shutdown
 * timer leaves this much of the grace period for it, so a process still ends within the grace period.
 */
export const EXIT_FLUSH_MS = 1_000;

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  const destination = createLogDestination({
    fd: 1,
    onClose: (reason) => {
      try {
        writeSync(2, `payrail: stdout cannot be written (${reason.code ?? reason.message}): log lines are dropped from now on\n`);
      } catch {
        // stderr is gone too
      }
    },
  });
  // Touching process.stdout also opens a pipe non-blocking (libuv): a full pipe then answers EAGAIN instead
  // of blocking a write, so the exit flush keeps its deadline. A reader that is gone (EPIPE) is no reason
  // to crash: the lines have nowhere to go, and the destination stops writing them.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    destination.close(err);
  });
  process.once('exit', () => destination.flushSync(EXIT_FLUSH_MS));
  // Errors are logged without the values a database error quotes (a customer's details in an insert).
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'payrail' }, serializers: { err: serializeError } }, destination);
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
    if (lock.tookOver) log.warn({ dataDir: config.dataDir, previousHolder: lock.tookOver.holder }, `took over a stale data-dir lock: ${lock.tookOver.reason}`);
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

/**
 * The start-up banner: every URL, and for the embedded demo (PGlite, demo data, sandbox mode) bearer
 * tokens to paste. Tokens are never printed on PostgreSQL: its log is a production log, and whoever reads
 * a log could use them.
 */
export function banner(server: RunningServer, now = Date.now()): string {
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
  lines.push('', config.jobs.inProcess ? `Jobs (${JOBS.map((j) => j.name).join(', ')}) run in this process.` : 'Jobs are off here (PAYRAIL_JOBS_IN_PROCESS=false): run `payrail worker`.');
  if (config.sandbox && config.databaseUrl) {
    lines.push('', `Sandbox mode on PostgreSQL (PAYRAIL_SANDBOX=true): for trials only. No tokens are printed on PostgreSQL: sign in as one of the demo operator's users at ${base}/app.`);
  }
  if (config.sandbox && config.demo && !config.databaseUrl && config.jwt.secret) {
    const secret = config.jwt.secret;
    const sign = (claims: Parameters<typeof signToken>[1]) => signToken(secret, claims, SANDBOX_TOKEN_SECONDS, now);
    const customer = sign({ sub: DEMO.customerUserId, operatorId: DEMO.operatorId, role: 'customer', customerId: DEMO.customerId });
    const integrator = sign({ sub: DEMO.integratorUserId, operatorId: DEMO.operatorId, role: 'integrator' });
    const admin = sign({ sub: DEMO.adminUserId, operatorId: DEMO.operatorId, role: 'admin' });
    const until = new Date(now + SANDBOX_TOKEN_SECONDS * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    lines.push(
      '',
      `Sandbox mode: providers are the built-in sandboxes. Demo bearer tokens, valid ${SANDBOX_TOKEN_SECONDS / 3600} hours (until ${until}):`,
      `anyone who can read this output (a terminal, a log file, a log collector) can use them until then; after that, restart for new ones or sign in at ${base}/app.`,
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
