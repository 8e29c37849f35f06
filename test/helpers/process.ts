import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface PayrailProcess {
  child: ChildProcess;
  /** Base URL once listening. */
  url: string;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Run `payrail <command>` as a real child process (port 0: the OS picks one; the banner tells which). */
export function runPayrail(args: string[], env: Record<string, string>): { child: ChildProcess; output(): string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'payrail.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', PAYRAIL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function startPayrail(env: Record<string, string>, timeoutMs = 90_000): Promise<PayrailProcess> {
  const run = runPayrail(['serve'], env);
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void run.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    const m = /payrail is listening on (http:\/\/[^\s]+)/.exec(run.output());
    if (m?.[1]) return { ...run, url: m[1] };
    if (exitCode !== undefined) throw new Error(`payrail exited (${exitCode}) before listening:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  run.child.kill('SIGKILL');
  throw new Error(`payrail did not start in ${timeoutMs} ms:\n${run.output()}`);
}

/**
 * `start(env)` for a test file: starts payrail with `base` + `env`, and kills every process it started
 * when the file ends (register `stopAll` with afterAll).
 */
export function payrailStarter(base: Record<string, string>) {
  const started: PayrailProcess[] = [];
  return {
    started,
    start: async (env: Record<string, string>) => {
      const p = await startPayrail({ ...base, ...env });
      started.push(p);
      return p;
    },
    stopAll: () => {
      for (const p of started) p.child.kill('SIGKILL');
    },
  };
}

/** A port free right now (the OS picks it), for a process that must come back on the same address. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
