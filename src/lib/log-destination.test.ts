import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { createLogDestination } from './log-destination.ts';

const fail = (code: string) => Object.assign(new Error(code), { code });

/** A stand-in for write(2): takes at most `chunk` bytes a call, or throws what `error()` returns. */
function fakeFd(chunk = Infinity) {
  const written: Buffer[] = [];
  let error: (() => Error | null) | null = null;
  return {
    written,
    text: () => Buffer.concat(written).toString('utf8'),
    failWith(fn: (() => Error | null) | null) {
      error = fn;
    },
    writeSync: vi.fn((_fd: number, buffer: Buffer) => {
      const e = error?.();
      if (e) throw e;
      const n = Math.min(chunk, buffer.length);
      written.push(Buffer.from(buffer.subarray(0, n)));
      return n;
    }),
  };
}

describe('the log destination', () => {
  it('writes the lines of one turn together, in order, after it', async () => {
    const fd = fakeFd();
    const dest = createLogDestination({ fd: 1, writeSync: fd.writeSync });
    dest.write('one\n');
    dest.write('two\n');
    expect(fd.writeSync).not.toHaveBeenCalled();
    await nextTurn();
    expect(fd.written.map(String)).toEqual(['one\ntwo\n']);
  });

  it('finishes partial writes without splitting or losing a character', async () => {
    const fd = fakeFd(3);
    const dest = createLogDestination({ fd: 1, writeSync: fd.writeSync });
    const lines = ['Konstand Nel — R1 000,00\n', 'ß€𝄞\n'];
    for (const line of lines) dest.write(line);
    await nextTurn();
    expect(fd.text()).toBe(lines.join(''));
  });

  it('tries a full pipe again later, and writes everything once it drains', async () => {
    const fd = fakeFd();
    let full = 3;
    fd.failWith(() => (full-- > 0 ? fail('EAGAIN') : null));
    const dest = createLogDestination({ fd: 1, writeSync: fd.writeSync });
    dest.write('first\n');
    dest.write('second\n');
    await vi.waitFor(() => expect(fd.text()).toBe('first\nsecond\n'));
  });

  it('gives a full pipe at most its budget at exit, and then lets the process go', () => {
    const fd = fakeFd();
    fd.failWith(() => fail('EAGAIN'));
    const dest = createLogDestination({ fd: 1, writeSync: fd.writeSync });
    dest.write('stuck\n');
    dest.flushSync(30);
    expect(fd.writeSync.mock.calls.length).toBeGreaterThan(1);
    // The reader catches up: nothing was dropped meanwhile.
    fd.failWith(null);
    dest.flushSync(30);
    expect(fd.text()).toBe('stuck\n');
  });

  it('stops at once when nobody reads any more (EPIPE), says so once, and drops later lines', async () => {
    const fd = fakeFd();
    fd.failWith(() => fail('EPIPE'));
    const onClose = vi.fn();
    const dest = createLogDestination({ fd: 1, writeSync: fd.writeSync, onClose });
    dest.write('lost\n');
    dest.flushSync(60_000); // would never return if EPIPE were retried
    expect(fd.writeSync).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onClose.mock.calls[0]?.[0]).toMatchObject({ code: 'EPIPE' });
    expect(dest.closed).toBe(true);
    dest.write('after\n');
    await nextTurn();
    dest.flushSync(60_000);
    expect(fd.writeSync).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('writes what is queued at exit before the next turn comes', () => {
    const fd = fakeFd();
    const dest = createLogDestination({ fd: 1, writeSync: fd.writeSync });
    dest.write('stopped\n');
    dest.flushSync(1_000);
    expect(fd.text()).toBe('stopped\n');
  });
});
