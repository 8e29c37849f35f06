import { join } from 'node:path';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { openPglite, openPostgres, type Database } from '../db/client.ts';
import { acquireDataDirLock, type DataDirLock } from '../db/data-dir-lock.ts';
import { migrate } from '../db/migrate.ts';
import { registerFormBodyParser } from '../http/form-body.ts';
import { registerJsonBodyParser } from '../http/json-body.ts';
import { errorHandler, instanceOf, problem, sendProblem } from '../http/problem.ts';
import type { App } from '../http/route-kit.ts';
import { mountSandboxes, SANDBOXES } from './registry.ts';

export interface SandboxServer {
  /** Where the sandboxes listen: `${url}/sandbox/<name>`. */
  url: string;
  /** The merchant (payrail) the sandboxes notify when a notice has no address of its own. */
  merchantUrl: string;
  stop(): Promise<void>;
}

/**
 * `payrail sandbox`: the provider sandboxes alone, on their own port, as the providers' side of the world
 * would be — a payrail elsewhere points its PAYRAIL_<PROVIDER>_BASE_URL variables here. State lives in the
 * `sandbox` schema of its own embedded database (PAYRAIL_SANDBOX_DATA_DIR), or of DATABASE_URL.
 */
export async function startSandboxServer(config: Config, log: Logger): Promise<SandboxServer> {
  let lock: DataDirLock | null = null;
  let database: Database;
  if (config.databaseUrl) {
    database = openPostgres(config.databaseUrl.reveal(), 5);
  } else {
    lock = acquireDataDirLock(config.sandboxes.dataDir);
    try {
      database = await openPglite({ dataDir: join(config.sandboxes.dataDir, 'pglite') });
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  const close = async () => {
    await database.close();
    lock?.release();
  };
  try {
    await migrate(database, config.databaseUrl?.reveal());
    const app = Fastify({ loggerInstance: log, bodyLimit: 1_048_576 }) as unknown as App;
    registerJsonBodyParser(app);
    registerFormBodyParser(app);
    app.setErrorHandler(errorHandler);
    app.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, `There is no ${request.method} ${instanceOf(request)}.`, instanceOf(request), { code: 'route.not_found' })));
    const ctx = { config: { ...config }, database, clock: () => new Date(), log };
    await mountSandboxes(app, ctx, SANDBOXES);
    await app.listen({ port: config.sandboxes.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.sandboxes.port;
    const url = `http://localhost:${port}`;
    // Links and pages the sandboxes hand out are under their own address; notices go to the merchant.
    ctx.config = { ...config, port, publicUrl: url, sandboxes: { ...config.sandboxes, merchantUrl: config.sandboxes.merchantUrl ?? 'http://localhost:8080' } };
    return {
      url,
      merchantUrl: ctx.config.sandboxes.merchantUrl!,
      async stop() {
        await app.close();
        await close();
      },
    };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
