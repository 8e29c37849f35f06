import { ConfigError, loadConfig } from './config.ts';
import { DataDirLockedError, DataDirUnusableError } from './db/data-dir-lock.ts';
import { seedDemo } from './demo/seed-demo.ts';
import { findUser } from './modules/customers/repo.ts';
import { banner, createLogger, EXIT_FLUSH_MS, openRuntime, startServer } from './server.ts';
import { signToken } from './lib/tokens.ts';
import { isUuid } from './http/schemas/common.ts';
import { isIsoDate } from './domain/periods.ts';
import { parseFlags } from './lib/cli-flags.ts';
import { AppError } from './lib/errors.ts';
import { runBilling } from './modules/billing/run-billing.ts';
import { JOBS, startJobs } from './jobs/runner.ts';
import { CONNECTORS } from './providers/registry.ts';
import { hostVariable } from './providers/settings.ts';
import { SANDBOXES } from './sandboxes/registry.ts';
import { startSandboxServer, type SandboxServer } from './sandboxes/standalone.ts';

const HELP = `payrail — Purchase Order Service and Payment Service

Usage: payrail <command> [options]

Commands:
  serve              Run the HTTP API, the sandboxes and (unless PAYRAIL_JOBS_IN_PROCESS=false) the jobs (the default)
  worker             Run only the background jobs: janitor, stored callbacks, outbound webhooks (PostgreSQL scale-out)
  sandbox [--port N] Run the provider sandboxes alone, on their own port (PAYRAIL_SANDBOX_PORT, 8090), for a payrail elsewhere
  migrate            Apply database migrations and exit
  seed-demo          Apply migrations and load the demo data into an empty database
  billing-run --as-of YYYY-MM-DD [--operator ID]
                     Run billing for a date (every operator, or one) and print each run's figures; its
                     collections are worked by the jobs (serve or worker). Running a date again changes nothing.
  token <user-id>    Print a bearer token for a user (sandbox mode: PAYRAIL_JWT_SECRET or the generated one)
  help, --help       Show this help

Configuration is read from environment variables (see README.md), for example:
  PORT (8080)  HOST (127.0.0.1)  DATABASE_URL (embedded PGlite when unset)  PAYRAIL_DATA_DIR (./data)
  PAYRAIL_JWT_SECRET  PAYRAIL_PUBLIC_URL  PAYRAIL_SANDBOX  PAYRAIL_DEMO  PAYRAIL_LOG_LEVEL
`;

/** The grace period: from the signal to the end of the process, whatever is still in flight. */
const GRACE_MS = 15_000;

/**
 * Graceful shutdown on SIGTERM/SIGINT: finish what is in flight, then exit; a second signal exits at once.
 * Every exit runs the 'exit' handlers, which release the data-dir lock and flush the log within
 * EXIT_FLUSH_MS, so the timer leaves them that much of the grace period.
 *
 * Installed before any work starts, and told how to stop once there is something to stop: a signal that
 * found no handler (a supervisor stopping what it just saw become ready) would end the process the
 * default way, without its 'exit' handlers, and leave the data-dir lock behind. Before there is anything
 * to stop, a signal exits at once (through those handlers).
 */
function handleSignals(log: ReturnType<typeof createLogger>): (stop: () => Promise<void>) => void {
  let stop: (() => Promise<void>) | null = null;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    if (!stop) {
      log.warn({ signal }, 'signal received before payrail was running: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'signal received');
    setTimeout(() => {
      log.warn({ graceMs: GRACE_MS }, 'shutdown did not finish within the grace period: exiting now');
      process.exit(1);
    }, GRACE_MS - EXIT_FLUSH_MS).unref();
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return (fn) => {
    stop = fn;
  };
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...args] = argv;
  if (['help', '--help', '-h'].includes(command) || args.includes('--help')) {
    process.stdout.write(HELP);
    return 0;
  }
  // The standalone sandboxes are the providers' side: they are sandbox mode by definition, and need none of payrail's secrets.
  const config = command === 'sandbox' ? loadConfig({ PAYRAIL_SANDBOX: 'true', ...process.env }) : loadConfig();
  const log = createLogger(config);
  const stopOnSignals = handleSignals(log);

  switch (command) {
    case 'serve': {
      const server = await startServer(config, log);
      stopOnSignals(server.stop);
      process.stdout.write(banner(server));
      return -1; // keep running
    }
    case 'worker': {
      const runtime = await openRuntime(config, log);
      const jobs = startJobs(runtime.ctx);
      stopOnSignals(async () => {
        await jobs.stop();
        await runtime.close();
      });
      log.info({ jobs: JOBS.map((j) => j.name), intervalMs: config.jobs.intervalMs }, 'worker running');
      process.stdout.write(`payrail worker is running jobs: ${JOBS.map((j) => j.name).join(', ')}\n`);
      return -1;
    }
    case 'sandbox': {
      const portArg = args.indexOf('--port');
      const port = portArg === -1 ? config.sandboxes.port : Number(args[portArg + 1]);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write('Usage: payrail sandbox [--port N]  (N from 0 to 65535)\n');
        return 2;
      }
      const server = await startSandboxServer({ ...config, sandboxes: { ...config.sandboxes, port } }, log);
      stopOnSignals(server.stop);
      process.stdout.write(sandboxBanner(server));
      return -1;
    }
    case 'migrate': {
      const runtime = await openRuntime(config, log);
      await runtime.close();
      process.stdout.write('Migrations applied.\n');
      return 0;
    }
    case 'seed-demo': {
      const runtime = await openRuntime(config, log);
      try {
        const seeded = await seedDemo(runtime.ctx);
        process.stdout.write(seeded ? 'Demo data loaded.\n' : 'The database already has data; demo data was not loaded.\n');
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'billing-run': {
      const usage = 'Usage: payrail billing-run --as-of YYYY-MM-DD [--operator <operator-id>]\n';
      const parsed = parseFlags(args, ['--as-of', '--operator']);
      if ('error' in parsed) {
        process.stderr.write(`${parsed.error}\n${usage}`);
        return 2;
      }
      const { '--as-of': asOf, '--operator': only } = parsed.flags;
      if (!asOf || !isIsoDate(asOf) || (only !== undefined && !isUuid(only))) {
        const why = !asOf ? '--as-of is required.' : !isIsoDate(asOf) ? `"${asOf}" is not a calendar date.` : `"${only}" is not an operator id.`;
        process.stderr.write(`${why}\n${usage}`);
        return 2;
      }
      const runtime = await openRuntime(config, log);
      try {
        const operatorIds = only ? [only] : (await runtime.ctx.database.query<{ id: string }>('SELECT id FROM operators ORDER BY created_at')).map((r) => r.id);
        let failed = 0;
        for (const operatorId of operatorIds) {
          try {
            const { run, created } = await runBilling(runtime.ctx, operatorId, asOf, { id: 'cli', role: 'system', requestId: `billing-run:${asOf}` });
            process.stdout.write(
              `${created ? 'Billing run' : 'Billing run (already made; nothing changed)'} ${run.id} for ${asOf}, operator ${operatorId}: ` +
                `${run.purchasesCreated} purchases created, ${run.collectionsStarted} collections started, ${run.retriesStarted} retries started, ` +
                `${run.servicesSuspended} services suspended, ${run.purchasesFailed} purchases failed.\n`,
            );
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            failed++;
            process.stderr.write(`Operator ${operatorId}: ${err.message}\n`);
          }
        }
        if (operatorIds.length === 0) process.stdout.write('No operators: nothing to bill.\n');
        return failed > 0 ? 1 : 0;
      } finally {
        await runtime.close();
      }
    }
    case 'token': {
      const userId = args[0];
      if (!userId) {
        process.stderr.write('Usage: payrail token <user-id>\n');
        return 2;
      }
      if (!config.sandbox) {
        process.stderr.write('payrail signs tokens only in sandbox mode; outside it, tokens come from your identity provider.\n');
        return 2;
      }
      if (!isUuid(userId)) {
        process.stderr.write(`"${userId}" is not a user id (a UUID).\n`);
        return 2;
      }
      const runtime = await openRuntime(config, log);
      try {
        if (!runtime.config.jwt.secret) throw new Error('no PAYRAIL_JWT_SECRET to sign with');
        const rows = await runtime.ctx.database.query<{ operator_id: string }>('SELECT operator_id FROM users WHERE id = $1::uuid', [userId]);
        const user = rows[0] ? await findUser(runtime.ctx.database.db, rows[0].operator_id, userId) : null;
        if (!user) {
          const empty = (await runtime.ctx.database.query('SELECT 1 FROM operators LIMIT 1')).length === 0;
          process.stderr.write(`No user with id ${userId}.${empty ? ' The database is empty: load the demo data with `npm run payrail -- seed-demo` (or `npm start`).' : ''}\n`);
          return 1;
        }
        process.stdout.write(`${signToken(runtime.config.jwt.secret, { sub: user.id, operatorId: user.operatorId, role: user.role, customerId: user.customerId })}\n`);
      } finally {
        await runtime.close();
      }
      return 0;
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof DataDirUnusableError) {
      process.stderr.write(`payrail: ${err.message}\n`);
      process.exit(78); // EX_CONFIG: nothing to retry until the operator acts
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      process.stderr.write(`payrail: cannot listen on ${e.address ?? 'HOST'}:${e.port ?? 'PORT'} (${code}). Set PORT (or HOST) to a free address.\n`);
      process.exit(78);
    }
    process.stderr.write(`payrail: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

/** What `payrail sandbox` prints: where each sandbox is, and the variables that point a payrail at them. */
function sandboxBanner(server: SandboxServer): string {
  const lines = ['', `payrail sandboxes are listening on ${server.url}  (notices without an address of their own go to ${server.merchantUrl}: PAYRAIL_SANDBOX_MERCHANT_URL)`, ''];
  for (const s of SANDBOXES) lines.push(`  ${s.name.padEnd(10)} ${server.url}/sandbox/${s.name}    ledger: ${server.url}/sandbox/${s.name}/transactions`);
  lines.push('', 'Point a payrail at them (sandbox mode on, no credentials: the sandboxes\' published test merchants are used):', '');
  for (const c of CONNECTORS) {
    for (const [host, path] of Object.entries(c.settings?.hosts ?? {})) lines.push(`  ${hostVariable(c.settings!.key, host)}=${server.url}${path}`);
  }
  lines.push('');
  return lines.join('\n');
}
