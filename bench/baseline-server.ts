/**
 * The baseline: a bare Fastify app (no auth, no logging, no schemas) whose one route makes one indexed
 * query through the same driver payrail uses. A hot path's req/s divided by this one's says how much
 * payrail's own work costs on top of the unavoidable HTTP + database round trip.
 *
 * Started by run.ts as its own process, configured through the environment:
 *   BENCH_PORT, BENCH_ENCRYPTION_KEY, and BENCH_DATABASE_URL (PostgreSQL) or BENCH_DATA_DIR (PGlite).
 */
import Fastify from 'fastify';
import { openPglite, openPostgres, type Database } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { seedDemo } from '../src/demo/seed-demo.ts';
import { Secret } from '../src/lib/secret.ts';
import { TokenVault } from '../src/lib/token-vault.ts';

const env = (name: string): string | undefined => process.env[name] || undefined;

const port = Number(env('BENCH_PORT'));
const url = env('BENCH_DATABASE_URL');
const dataDir = env('BENCH_DATA_DIR');
const key = env('BENCH_ENCRYPTION_KEY');
if (!Number.isInteger(port) || !key || (!url && !dataDir)) {
  throw new Error('baseline-server needs BENCH_PORT, BENCH_ENCRYPTION_KEY and BENCH_DATABASE_URL or BENCH_DATA_DIR');
}

// Pool of 10, as payrail runs with PAYRAIL_DB_POOL_SIZE=10 in the bench.
const database: Database = url ? openPostgres(url, 10) : await openPglite({ dataDir: dataDir! });
// Same schema and rows as payrail's: migrating twice is a no-op, and seedDemo skips a seeded database.
await migrate(database, url);
await seedDemo({ database, vault: new TokenVault(new Secret(key)), clock: () => new Date() });

const app = Fastify({ logger: false });
app.get<{ Params: { id: string }; Querystring: { times?: string } }>('/baseline/:id', async (request, reply) => {
  // `times` sequential round trips (1 by default): a path making that many has this as its floor.
  const times = Math.min(Math.max(Number(request.query.times ?? 1) || 1, 1), 200);
  let rows: Record<string, unknown>[] = [];
  for (let i = 0; i < times; i++) {
    // A named statement: planned once per connection, as payrail's read models are.
    rows = await database.query('SELECT id, status, billing_status FROM services WHERE id = $1', [request.params.id], 'bench_baseline_v1');
  }
  if (rows.length === 0) return reply.status(404).send({ error: 'not found' });
  return rows[0];
});
await app.listen({ port, host: '127.0.0.1' });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  await database.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// run.ts holds our stdin open; if it dies without killing us, stdin ends and we go too.
process.stdin.on('end', stop).resume();
