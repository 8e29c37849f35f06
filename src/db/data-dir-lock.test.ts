import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, DataDirUnusableError } from './data-dir-lock.ts';
import { processIdentity, type ProcessIdentity } from './process-identity.ts';
import { tempDir } from '../../test/helpers/temp.ts';

const dir = () => tempDir('lock');

describe('the data-dir lock', () => {
  it('refuses a second holder while the first lives, and frees the dir on release', () => {
    const d = dir();
    const first = acquireDataDirLock(d);
    const holder = JSON.parse(readFileSync(join(d, 'payrail.lock'), 'utf8'));
    expect(holder.pid).toBe(process.pid);
    // The same process asking again is a second holder too (two apps in one process would also clash).
    // An older lock file, without its holder's start time: a live pid is taken as the holder.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const { bootId: _, startTicks: __, ...oldFormat } = holder;
      writeFileSync(join(d, 'payrail.lock'), JSON.stringify({ ...oldFormat, pid: child.pid, token: 'someone-else' }));
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

  describe.runIf(processIdentity(process.pid))('with /proc: a pid is the holder only if it started when the holder did', () => {
    const sleeper = async () => {
      const child = spawn('sleep', ['60']);
      await new Promise((resolve) => child.on('spawn', resolve));
      return child;
    };
    const lockNaming = (d: string, pid: number, identity: Partial<ProcessIdentity>) =>
      writeFileSync(join(d, 'payrail.lock'), JSON.stringify({ pid, hostname: hostname(), startedAt: 'then', token: 'theirs', ...processIdentity(pid), ...identity }));

    it('takes over a lock whose pid now belongs to an unrelated live process (a reused pid), and says why', async () => {
      const d = dir();
      const stranger = await sleeper();
      try {
        lockNaming(d, stranger.pid!, { startTicks: processIdentity(stranger.pid!)!.startTicks - 1 });
        const lock = acquireDataDirLock(d);
        expect(JSON.parse(readFileSync(join(d, 'payrail.lock'), 'utf8')).pid).toBe(process.pid);
        expect(lock.tookOver?.reason).toBe(`pid ${stranger.pid} now belongs to another process (started at another time)`);
        expect(lock.tookOver?.holder?.token).toBe('theirs');
        lock.release();
      } finally {
        stranger.kill('SIGKILL');
      }
    });

    it('takes over a lock written in an earlier boot', async () => {
      const d = dir();
      const stranger = await sleeper();
      try {
        lockNaming(d, stranger.pid!, { bootId: '00000000-0000-4000-8000-000000000000' });
        const lock = acquireDataDirLock(d);
        expect(lock.tookOver?.reason).toMatch(/later boot/);
        lock.release();
      } finally {
        stranger.kill('SIGKILL');
      }
    });

    it('still refuses a live process that really holds the lock', async () => {
      const d = dir();
      const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { acquireDataDirLock } from ${JSON.stringify(join(import.meta.dirname, 'data-dir-lock.ts'))}; acquireDataDirLock(${JSON.stringify(d)}); console.log('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise((resolve) => holder.stdout.once('data', resolve));
        expect(JSON.parse(readFileSync(join(d, 'payrail.lock'), 'utf8'))).toMatchObject({ pid: holder.pid, ...processIdentity(holder.pid!) });
        expect(() => acquireDataDirLock(d)).toThrow(new RegExp(`data dir .* is in use by another payrail process \\(pid ${holder.pid} on `));
      } finally {
        holder.kill('SIGKILL');
      }
    });
  });
});
