import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/config.ts';
import { seededDataDir, testTokens } from '../helpers/harness.ts';
import { startPayrail } from '../helpers/process.ts';

/**
 * A payrail whose parent (a supervisor, a shell pipeline, `npm start`) reads its stdout, sends SIGTERM and
 * exits at once: payrail's log lines then meet a pipe nobody reads (EPIPE). It must still be gone within
 * its grace period and leave the data dir free — every time, idle and with requests in flight.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const PARENT = join(import.meta.dirname, 'piped-parent.mjs');
const GRACE_MS = 15_000;
const RUNS = 20;
const LANES = 2;
const DETAILS = `/services/${DEMO.services.recurringInArrears}/details-and-actions`;
const env = (dataDir: string) => ({ HOST: '127.0.0.1', PORT: '0', PAYRAIL_DATA_DIR: dataDir, PAYRAIL_JWT_SECRET: TEST_JWT_SECRET, PAYRAIL_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, PAYRAIL_SANDBOX: 'true' });

describe.runIf(inject('engine') === 'pglite')('a payrail whose parent sends SIGTERM and exits at once', () => {
  // Two lanes of shutdowns side by side, each on its own data dir: each start proves the dir was left free.
  // Each from the seeded template, not an empty dir: no initdb, no demo seeding, faster starts.
  let lanes: string[] = [];
  const leftovers = new Set<number>();

  beforeAll(async () => {
    lanes = await Promise.all(Array.from({ length: LANES }, seededDataDir));
  });
  afterAll(() => {
    for (const pid of leftovers) kill(pid, 'SIGKILL');
  });

  it(`ends within ${GRACE_MS / 1000} s and frees its data dir, ${RUNS} times in a row, idle and under load`, async () => {
    const failures: string[] = [];
    await Promise.all(
      lanes.map(async (dataDir, lane) => {
        for (let run = 1; run <= RUNS / LANES; run++) {
          const underLoad = run % 2 === 0;
          const failure = await shutDownOnce(dataDir, underLoad);
          if (failure) failures.push(`lane ${lane + 1}, run ${run} (${underLoad ? 'under load' : 'idle'}): ${failure}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  }, (RUNS / LANES) * 60_000);

  it('writes its log to a reader that stays, up to the last line, and starts again on the same data dir', async () => {
    const run = await startPayrail({ ...env(lanes[0]!), PAYRAIL_LOG_LEVEL: 'info' });
    leftovers.add(run.child.pid!);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const last = run.output().trim().split('\n').at(-1) ?? '';
    expect(JSON.parse(last)).toMatchObject({ msg: 'stopped' });
  });

  /** One start, then SIGTERM from a parent that exits at once; the problem seen, or null. */
  async function shutDownOnce(dataDir: string, underLoad: boolean): Promise<string | null> {
    // The default log level (info): a line per request and per shutdown step, as `npm start` writes them.
    const parent = spawn(process.execPath, [PARENT, ROOT], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env(dataDir) }, stdio: ['pipe', 'pipe', 'inherit'] });
    const parentGone = new Promise((resolve) => parent.on('exit', resolve));
    const first = await createInterface({ input: parent.stdout })[Symbol.asyncIterator]().next();
    const report = JSON.parse(first.value ?? '{}') as { pid?: number; url?: string; exited?: unknown; output?: string };
    if (!report.pid || !report.url) return `payrail did not start (exit ${String(report.exited)}): ${report.output ?? ''}`;
    const { pid, url } = report;
    leftovers.add(pid);

    const load = underLoad ? startLoad(url) : null;
    await load?.warm;
    const signalledAt = Date.now();
    parent.stdin.write('go\n');
    await parentGone;
    while (!isGone(pid) && Date.now() - signalledAt < GRACE_MS) await new Promise((r) => setTimeout(r, 50));
    const gone = isGone(pid);
    await load?.stop();
    if (!gone) {
      kill(pid, 'SIGKILL');
      while (!isGone(pid)) await new Promise((r) => setTimeout(r, 50));
      return `still running ${GRACE_MS / 1000} s after SIGTERM`;
    }
    leftovers.delete(pid);
    const lock = join(dataDir, 'payrail.lock');
    if (existsSync(lock)) return `exited but left its data-dir lock: ${readFileSync(lock, 'utf8')}`;
    return null;
  }
});

/** Sixteen clients asking for the demo service's details without pause, until stopped or refused. */
function startLoad(url: string) {
  const abort = new AbortController();
  const token = testTokens().customer;
  let answered = 0;
  let warmed: () => void;
  const warm = new Promise<void>((resolve) => (warmed = resolve));
  const client = async () => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch(`${url}${DETAILS}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
        await res.arrayBuffer();
        if (++answered >= 50) warmed();
      } catch {
        warmed(); // refused: payrail stopped taking requests
        return;
      }
    }
  };
  const clients = Array.from({ length: 16 }, client);
  return {
    warm,
    async stop() {
      abort.abort();
      await Promise.allSettled(clients);
    },
  };
}

/** Gone: no such process, or one that has exited and waits only for its new parent to reap it. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return false;
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
