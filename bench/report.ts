import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from './databases.ts';
import type { Measurement } from './load.ts';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export interface BaselineResult extends Measurement {
  name: string;
  url: string;
  roundTrips: number;
}

export interface PathResult extends Measurement {
  name: string;
  method: string;
  url: string;
  /** Name of the baseline it is compared with. */
  baseline: string;
  baselineReqPerSec: number;
  /** reqPerSec ÷ baselineReqPerSec: 1 would mean payrail adds nothing to the HTTP + database round trips. */
  ratio: number;
  /** What the scenario checked after its run (submit-for-collection: charges, double charges). */
  checks?: { failures: number } & Record<string, number>;
}

export interface EngineReport {
  engine: Engine;
  date: string;
  node: string;
  cpus: number;
  database: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** The one-round-trip baseline (every current path's). */
  baseline: BaselineResult;
  /** Every baseline measured, by name (more once paths with other round-trip counts are added). */
  baselines: Record<string, BaselineResult>;
  paths: PathResult[];
  /** Some response was not 2xx, or a connection failed: the numbers do not describe the hot paths. */
  failed: boolean;
}

export function ratio(reqPerSec: number, baselineReqPerSec: number): number {
  return baselineReqPerSec > 0 ? Math.round((reqPerSec / baselineReqPerSec) * 100) / 100 : 0;
}

const problems = (m: Measurement) => m.non2xx + m.errors + m.timeouts;

export function isFailed(report: Omit<EngineReport, 'failed'>): boolean {
  return [...Object.values(report.baselines), ...report.paths].some((m) => problems(m) > 0) || report.paths.some((p) => (p.checks?.failures ?? 0) > 0);
}

export function printReport(report: EngineReport): void {
  const head = ['path', 'req/s', 'p50 ms', 'p99 ms', 'baseline req/s', 'ratio', 'non-2xx', 'errors'];
  const rows: string[][] = [];
  for (const b of Object.values(report.baselines)) {
    rows.push([`baseline: ${b.name} (${b.roundTrips} round trip${b.roundTrips === 1 ? '' : 's'})`, fmt(b.reqPerSec), fmt(b.p50), fmt(b.p99), '', '', String(b.non2xx), String(b.errors + b.timeouts)]);
  }
  for (const p of report.paths) {
    rows.push([p.name, fmt(p.reqPerSec), fmt(p.p50), fmt(p.p99), fmt(p.baselineReqPerSec), p.ratio.toFixed(2), String(p.non2xx), String(p.errors + p.timeouts)]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

  const out = [
    '',
    `== ${report.engine} — ${report.database}`,
    `node ${report.node}, ${report.cpus} CPUs, ${report.connections} connections, ${report.durationSeconds} s per run after a ${report.warmupSeconds} s warm-up`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
  ];
  for (const p of report.paths) {
    if (p.checks) out.push(`${p.checks.failures > 0 ? 'FAILED ' : ''}${p.name} checks: ${Object.entries(p.checks).filter(([k]) => k !== 'failures').map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  for (const m of [...Object.values(report.baselines), ...report.paths]) {
    if (problems(m) > 0) out.push(`FAILED ${m.name}: ${m.non2xx} non-2xx ${JSON.stringify(m.statusCodes)}, ${m.errors} errors, ${m.timeouts} timeouts`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/** bench/results/<ISO time without colons>-<engine>.json, and latest-<engine>.json. */
export function writeReport(report: EngineReport): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(RESULTS_DIR, `${report.date.replace(/:/g, '')}-${report.engine}.json`);
  writeFileSync(file, json);
  writeFileSync(join(RESULTS_DIR, `latest-${report.engine}.json`), json);
  return file;
}

/** Another part's results (the billing bench), beside the engines' as `latest-<name>.json`. */
export function writeJson(name: string, value: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify({ date: new Date().toISOString(), ...(value as object) }, null, 2)}\n`;
  const file = join(RESULTS_DIR, `${new Date().toISOString().replace(/:/g, '')}-${name}.json`);
  writeFileSync(file, json);
  writeFileSync(join(RESULTS_DIR, `latest-${name}.json`), json);
  return file;
}

const fmt = (n: number) => (Number.isInteger(n) || n >= 100 ? Math.round(n).toString() : n.toFixed(2));
