import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processIdentity } from './process-identity.ts';

/**
 * PGlite has no lock of its own: a second process on the same data dir silently loses committed
 * writes. payrail therefore holds an exclusive lock file while it runs, and a second process refuses to
 * start. A lock left by a process that no longer exists (kill -9) is taken over, and so is one whose pid
 * now belongs to another process: the lock records its holder's start time and boot (Linux), and a live
 * pid that started at another time, or in another boot, is not the holder. Where /proc cannot tell (or
 * the lock file predates these fields), a live pid is taken as the holder.
 */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `The data dir ${dataDir} is in use by another payrail process (pid ${holder.pid} on ${holder.hostname}, ` +
        `started ${holder.startedAt}). The embedded database belongs to one process: stop that one first, ` +
        `point PAYRAIL_DATA_DIR elsewhere, or set DATABASE_URL to run several processes against PostgreSQL.`,
    );
    this.name = 'DataDirLockedError';
  }
}

interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  token: string;
  /** The holder's boot and start time (see process-identity.ts); absent in older lock files and off Linux. */
  bootId?: string;
  startTicks?: number;
}

export interface DataDirLock {
  readonly path: string;
  /** The stale lock this one replaced, and why it was stale: for a log line. */
  readonly tookOver: { holder: LockHolder | null; reason: string } | null;
  release(): void;
}

const LOCK_FILE = 'payrail.lock';
const UNKNOWN_HOLDER: LockHolder = { pid: 0, hostname: 'unknown', startedAt: 'unknown', token: '' };

/** The data dir cannot be created or written (it is a file, or not ours). */
export class DataDirUnusableError extends Error {
  constructor(dataDir: string, cause: NodeJS.ErrnoException) {
    super(`PAYRAIL_DATA_DIR ${dataDir} cannot be used (${cause.code ?? cause.message}): point it at a directory payrail may create and write.`, { cause });
    this.name = 'DataDirUnusableError';
  }
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new DataDirUnusableError(dataDir, err as NodeJS.ErrnoException);
  }
  const path = join(dataDir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    token: `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    ...processIdentity(process.pid),
  };
  let tookOver: DataDirLock['tookOver'] = null;

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      const release = () => {
        process.off('exit', releaseAtExit);
        // Only our own lock: after a takeover (we were thought gone) the file names its new holder.
        if (readHolder(path)?.token !== me.token) return;
        try {
          unlinkSync(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      };
      const releaseAtExit = () => {
        try {
          release();
        } catch {
          // nothing more can be done while exiting; the next start sees our pid gone and takes over
        }
      };
      // However the process ends (stopped, a forced exit after the grace period, a second signal, a crash),
      // the dir is free for the next start: first among the 'exit' handlers, so none before it can stop it.
      process.prependListener('exit', releaseAtExit);
      return { path, tookOver, release };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR') throw new DataDirUnusableError(dataDir, err as NodeJS.ErrnoException);
      if (code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    const reason = holder ? staleReason(holder) : 'the lock file could not be read';
    if (reason === null) throw new DataDirLockedError(dataDir, holder ?? UNKNOWN_HOLDER);
    tookOver = { holder, reason };
    // The holder is gone (or the file is unreadable debris): remove it and try once more. If another
    // process wins that race, our second `wx` open fails and we report it as the holder.
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const holder = readHolder(path);
  throw new DataDirLockedError(dataDir, holder ?? UNKNOWN_HOLDER);
}

function readHolder(path: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return null;
    return {
      pid: parsed.pid,
      hostname: String(parsed.hostname),
      startedAt: String(parsed.startedAt),
      token: parsed.token,
      ...(typeof parsed.bootId === 'string' && typeof parsed.startTicks === 'number' ? { bootId: parsed.bootId, startTicks: parsed.startTicks } : {}),
    };
  } catch {
    return null;
  }
}

/** Why the holder no longer holds the lock, or null while it may. */
function staleReason(holder: LockHolder): string | null {
  // A lock from another machine (a shared volume) cannot be checked: assume it is held.
  if (holder.hostname !== hostname()) return null;
  // Our own pid in the file means a previous life of this process slot (a container restart), not us.
  if (holder.pid === process.pid) return `it names this process's own pid ${holder.pid}, left by an earlier process with that pid`;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return `its process (pid ${holder.pid}) is gone`;
  }
  // The pid is alive. Pids are handed out again (after a reboot, or once they wrap around): is it the holder?
  if (holder.bootId === undefined || holder.startTicks === undefined) return null;
  const now = processIdentity(holder.pid);
  if (!now) return null;
  if (now.bootId !== holder.bootId) return `pid ${holder.pid} belongs to a process of a later boot`;
  if (now.startTicks !== holder.startTicks) return `pid ${holder.pid} now belongs to another process (started at another time)`;
  return null;
}
