import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * PGlite has no lock of its own: a second process on the same data dir silently loses committed
 * writes. payrail therefore holds an exclusive lock file while it runs, and a second process refuses to
 * start. A lock left by a process that no longer exists (kill -9) is taken over.
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
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

const LOCK_FILE = 'payrail.lock';

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
  };

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      const lock: DataDirLock = {
        path,
        release() {
          const holder = readHolder(path);
          if (holder?.token === me.token) unlinkSync(path);
          process.off('exit', lock.release);
        },
      };
      process.on('exit', lock.release);
      return lock;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR') throw new DataDirUnusableError(dataDir, err as NodeJS.ErrnoException);
      if (code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    if (holder && isAlive(holder)) throw new DataDirLockedError(dataDir, holder);
    // The holder is gone (or the file is unreadable debris): remove it and try once more. If another
    // process wins that race, our second `wx` open fails and we report it as the holder.
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const holder = readHolder(path);
  throw new DataDirLockedError(dataDir, holder ?? { pid: 0, hostname: 'unknown', startedAt: 'unknown', token: '' });
}

function readHolder(path: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return null;
    return { pid: parsed.pid, hostname: String(parsed.hostname), startedAt: String(parsed.startedAt), token: parsed.token };
  } catch {
    return null;
  }
}

function isAlive(holder: LockHolder): boolean {
  // A lock from another machine (a shared volume) cannot be checked: assume it is held.
  if (holder.hostname !== hostname()) return true;
  // Our own pid in the file means a previous life of this process slot (a container restart), not us.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
