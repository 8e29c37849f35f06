import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * The servers under test run as child processes, so they get their own event loop and heap, like in
 * production. Every child is tracked here so that no exit path (error, Ctrl-C) leaves one behind.
 */
export interface Child {
  name: string;
  process: ChildProcess;
  /** The last of its stderr, to show if it dies. */
  stderr(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();
const STDERR_KEEP = 16_000;

/** Runs `node <args>` in `cwd`. Its stdout (payrail's request log) goes nowhere, as it would cost us CPU. */
export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Child {
  // stdin is a pipe we never write to: it closes when we die, which baseline-server treats as "exit".
  const proc = spawn(process.execPath, [...(process.env.BENCH_CHILD_ARGS ? process.env.BENCH_CHILD_ARGS.split(' ') : []), ...args], { cwd, env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const exited = once(proc, 'exit').then(() => undefined);
  const child: Child = {
    name,
    process: proc,
    stderr: () => stderr,
    async stop(graceMs = 15_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
    },
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

/** Stops every child still running (used by the error and signal paths). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(5_000)));
}

// Last resort, when the process exits without running the async cleanup: nothing may outlive us.
process.on('exit', () => {
  for (const c of live) c.process.kill('SIGKILL');
});

/** A port free right now (the OS picks it; the child binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/**
 * Polls `url` until it answers 200. Fails at once if the child exits, and after `timeoutMs`, either way
 * showing the child's stderr (payrail's startup errors are there).
 */
export async function waitForHttp(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.process.exitCode ?? child.process.signalCode}) before answering ${url}:\n${child.stderr()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} did not answer 200 on ${url} within ${timeoutMs / 1000} s (last: ${last}):\n${child.stderr()}`);
}
