import { describe, expect, it } from 'vitest';
import { groupWriter } from './group-commit.ts';

describe('group commit', () => {
  it('writes what is asked for together in one group, and each caller gets its own result', async () => {
    const groups: number[][] = [];
    const writer = groupWriter<number, string>({ writeMany: async (items) => (groups.push(items), items.map((n) => `row ${n}`)) });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => writer.write(n)));
    expect(results).toEqual(['row 1', 'row 2', 'row 3', 'row 4', 'row 5']);
    expect(groups).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('sends the first write of a quiet moment at once, and groups what arrives while groups are being written', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const writer = groupWriter<number, number>({
      maxInFlight: 1,
      writeMany: async (items) => {
        groups.push(items);
        if (groups.length === 1) await gate;
        return items;
      },
    });
    const first = writer.write(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((n) => writer.write(n));
    await new Promise((r) => setImmediate(r));
    // The first group is still being written: the others wait for it, together.
    expect(groups).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(groups).toEqual([[1], [2, 3, 4]]);
  });

  it('splits a backlog larger than a group', async () => {
    const groups: number[][] = [];
    const writer = groupWriter<number, number>({ maxGroup: 2, maxInFlight: 1, writeMany: async (items) => (groups.push(items), items) });
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => writer.write(n)))).toEqual([1, 2, 3, 4, 5]);
    expect(groups.map((g) => g.length)).toEqual([2, 2, 1]);
  });

  it('writes a group that failed without writing again one by one: only the bad item fails, each caller learns its own outcome', async () => {
    const groups: number[][] = [];
    const writer = groupWriter<number, number>({
      retryAlone: (err) => (err as Error).message.includes('breaks the statement'),
      writeMany: async (items) => {
        groups.push(items);
        if (items.includes(3)) throw new Error('item 3 breaks the statement');
        return items.map((n) => n * 10);
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => writer.write(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 20, 'item 3 breaks the statement', 40]);
    expect(groups).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
  });

  it('refuses a writer that answers for the wrong number of items (never resolves a caller with another one’s row), and writes nothing again', async () => {
    let calls = 0;
    const writer = groupWriter<number, number>({ retryAlone: () => true, writeMany: async (items) => (calls++, items.slice(1)) });
    const results = await Promise.allSettled([1, 2].map((n) => writer.write(n)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
  });

  it('fails every caller of a group whose failure may have come after it was written (a lost connection): writing again could write twice', async () => {
    const groups: number[][] = [];
    const writer = groupWriter<number, number>({
      retryAlone: (err) => (err as Error).message !== 'connection lost',
      writeMany: async (items) => {
        groups.push(items);
        throw new Error('connection lost');
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => writer.write(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(groups).toEqual([[1, 2, 3]]);
  });

  it('drain waits for every write asked for', async () => {
    const written: number[] = [];
    const writer = groupWriter<number, void>({ writeMany: async (items) => (await new Promise((r) => setTimeout(r, 5)), written.push(...items), items.map(() => undefined)) });
    void writer.write(1);
    void writer.write(2);
    await writer.drain();
    expect(written).toEqual([1, 2]);
  });
});
