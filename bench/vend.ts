/**
 * The vending part of `npm run bench` (SPEC §12; `BENCH_ONLY=vend`): how long a customer waits for the token
 * after their payment is accepted. A `payrail serve` (sandbox + demo, jobs in process, as `npm start` runs)
 * sells BENCH_VENDS electricity purchases (default 200) on the demo meter, BENCH_VEND_CONCURRENCY at a time
 * (default 4): buy-now by amount, pay with the demo card, then poll `GET /purchases/{id}/tokens` every 10 ms
 * until the token is issued. Reports p50/p95/p99/max from the payment's answer to the token, against a
 * baseline measured in the same run: the same poll's own round trip (a tokens read of an issued purchase).
 * Checks afterwards that the vendor issued exactly one token per purchase.
 */
import { join } from 'node:path';
import { DEMO } from '../src/demo/ids.ts';
import { startChild, waitForHttp, freePort } from './children.ts';
import type { BenchDatabase } from './databases.ts';
import { ENCRYPTION_KEY, JWT_SECRET, runContext } from './scenarios.ts';

export interface VendBenchReport {
  engine: string;
  vends: number;
  concurrency: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  pollRoundTripP50Ms: number;
  tokensIssued: number;
  doubleVends: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

export async function benchVends(db: BenchDatabase, root: string, childEnv: (extra: Record<string, string>) => NodeJS.ProcessEnv): Promise<VendBenchReport> {
  const total = Number(process.env.BENCH_VENDS ?? 200);
  const concurrency = Number(process.env.BENCH_VEND_CONCURRENCY ?? 4);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = childEnv({ ...db.payrailEnv, PORT: String(port), HOST: '127.0.0.1', PAYRAIL_JWT_SECRET: JWT_SECRET, PAYRAIL_ENCRYPTION_KEY: ENCRYPTION_KEY, PAYRAIL_SANDBOX: 'true', PAYRAIL_DEMO: 'true', PAYRAIL_LOG_LEVEL: 'info' });
  const child = startChild('payrail', [join(root, 'bin', 'payrail.js'), 'serve'], env, root);
  try {
    await waitForHttp(child, `${base}/health`);
    const { customerToken } = runContext();
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${customerToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const waits: number[] = [];
    const polls: number[] = [];
    const purchases: string[] = [];
    let next = 0;
    const one = async () => {
      while (next < total) {
        next++;
        const quote = await call('POST', '/purchases/buy-now', { service_id: DEMO.services.electricity, amount: 50 });
        if (quote.status !== 201) throw new Error(`buy-now answered ${quote.status}: ${JSON.stringify(quote.body)}`);
        const paid = await call('POST', '/purchases/submit-for-collection', { service_id: DEMO.services.electricity, purchase_id: quote.body.id, medium_id: DEMO.mediums.card });
        if (paid.status !== 200) throw new Error(`submit answered ${paid.status}: ${JSON.stringify(paid.body)}`);
        const from = performance.now();
        purchases.push(quote.body.id);
        for (;;) {
          const t0 = performance.now();
          const tokens = await call('GET', `/purchases/${quote.body.id}/tokens`);
          if (tokens.body.status === 'issued') {
            waits.push(performance.now() - from);
            polls.push(performance.now() - t0);
            break;
          }
          if (tokens.body.status === 'failed') throw new Error(`vend failed: ${JSON.stringify(tokens.body.failure)}`);
          if (performance.now() - from > 60_000) throw new Error('no token within a minute');
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, one));
    const ledger = (await (await fetch(`${base}/sandbox/vendor/transactions?status=approved`)).json()) as { items: { kind: string; merchant_reference: string }[] };
    const vends = ledger.items.filter((i) => i.kind === 'vend');
    const sorted = [...waits].sort((a, b) => a - b);
    const pollSorted = [...polls].sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      engine: db.engine,
      vends: waits.length,
      concurrency,
      p50Ms: round(percentile(sorted, 50)),
      p95Ms: round(percentile(sorted, 95)),
      p99Ms: round(percentile(sorted, 99)),
      maxMs: round(sorted.at(-1) ?? 0),
      pollRoundTripP50Ms: round(percentile(pollSorted, 50)),
      tokensIssued: vends.length,
      doubleVends: vends.length - new Set(vends.map((v) => v.merchant_reference)).size,
    };
  } finally {
    child.process.kill('SIGTERM');
  }
}
