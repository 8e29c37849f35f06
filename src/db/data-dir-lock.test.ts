import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, DataDirUnusableError } from './data-dir-lock.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'payrail-lock-'));

describe('the data-dir lock', () => {
  it('refuses a second holder while the first lives, and frees the dir on release', () => {
    const d = dir();
    const first = acquireDataDirLock(d);
    const holder = JSON.parse(readFileSync(join(d, 'payrail.lock'), 'utf8'));
    expect(holder.pid).toBe(process.pid);
    // The same process asking again is a second holder too (two apps in one process would also clash).
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(join(d, 'payrail.lock'), JSON.stringify({ ...holder, pid: child.pid, token: 'someone-else' }));
      expect(() => acquireDataDirLock(d)).toThrow(DataDirLockedError);
      expect(() => acquireDataDirLock(d)).toThrow(new RegExp(`in use by another payrail process \\(pid ${child.pid}`));
    } finally {
      child.kill('SIGKILL');
    }
    writeFileSync(join(d, 'payrail.lock'), JSON.stringify(holder));
    first.release();
    expect(existsSync(join(d, 'payrail.lock'))).toBe(false);
    acquireDataDirLock(d).release();
  });

  it('takes over a lock left by a process that was killed', async () => {
    const d = dir();
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.on('exit', resolve));
    writeFileSync(join(d, 'payrail.lock'), JSON.stringify({ pid: child.pid, hostname: (await import('node:os')).hostname(), startedAt: 'then', token: 'dead' }));
    const lock = acquireDataDirLock(d);
    expect(JSON.parse(readFileSync(join(d, 'payrail.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock file that is debris, and creates a missing data dir', () => {
    const d = dir();
    writeFileSync(join(d, 'payrail.lock'), 'not json');
    acquireDataDirLock(d).release();
    const nested = join(dir(), 'a', 'b');
    acquireDataDirLock(nested).release();
  });

  it('names PAYRAIL_DATA_DIR when the data dir is a file', () => {
    const file = join(dir(), 'not-a-dir');
    writeFileSync(file, 'x');
    expect(() => acquireDataDirLock(file)).toThrow(DataDirUnusableError);
    expect(() => acquireDataDirLock(file)).toThrow(/PAYRAIL_DATA_DIR .*not-a-dir cannot be used \(EEXIST\)/);
    expect(() => acquireDataDirLock(join(file, 'below'))).toThrow(/ENOTDIR/);
  });

  it('does not release a lock someone else holds now', () => {
    const d = dir();
    const lock = acquireDataDirLock(d);
    writeFileSync(join(d, 'payrail.lock'), JSON.stringify({ pid: 1, hostname: 'x', startedAt: 'now', token: 'theirs' }));
    lock.release();
    expect(existsSync(join(d, 'payrail.lock'))).toBe(true);
  });
});
