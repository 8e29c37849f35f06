/**
 * Group commit: writes asked for at about the same moment by separate callers (concurrent requests, a
 * batch's lanes) go to the database as one statement, and each caller gets its own row back once that
 * statement has committed. A caller waits no longer than it would for its own statement: the first write
 * of a quiet moment is sent at once, and what arrives while a group is being written forms the next group.
 *
 * On a machine where each round trip between processes is dear (a socket write wakes the receiver, and on
 * a virtual machine that switch costs more than the statement), this turns N round trips and N commits into
 * one. Nothing is acknowledged before it is written: a process that dies holding a group has answered none
 * of it.
 *
 * A group whose statement failed without writing anything (`retryAlone` says so: a constraint, a bad value,
 * a deadlock) is written again one by one, so one bad item fails only its own caller. Any other failure (a
 * connection lost, perhaps after the commit) fails every caller of the group: writing again could write twice.
 */
export interface GroupWriter<In, Out> {
  /** Writes `item` with whatever else is waiting; resolves with its result once committed. */
  write(item: In): Promise<Out>;
  /** Resolves once every write asked for so far is done (settled either way). */
  drain(): Promise<void>;
}

export interface GroupOptions<In, Out> {
  /** Writes a group in one statement; returns each item's result, in the items' order. */
  writeMany(items: In[]): Promise<Out[]>;
  /** Groups written at once (each on its own connection); further writes wait for one to finish. */
  maxInFlight?: number;
  /** The largest group (a bigger backlog is split). */
  maxGroup?: number;
  /** Whether a group that failed with `err` wrote nothing, so that its items may be written one by one (default: never). */
  retryAlone?(err: unknown): boolean;
}

/** The writer's own refusal of a statement that answered for the wrong number of items (it may have written them). */
class WrongCount extends Error {}

interface Waiting<In, Out> {
  item: In;
  resolve(out: Out): void;
  reject(err: unknown): void;
}

export function groupWriter<In, Out>(options: GroupOptions<In, Out>): GroupWriter<In, Out> {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxGroup = options.maxGroup ?? 100;
  let queue: Waiting<In, Out>[] = [];
  let inFlight = 0;
  const running = new Set<Promise<void>>();

  const writeMany = async (items: In[]): Promise<Out[]> => {
    const outs = await options.writeMany(items);
    if (outs.length !== items.length) throw new WrongCount(`group commit: ${outs.length} results for ${items.length} items`);
    return outs;
  };
  const settle = async (group: Waiting<In, Out>[]) => {
    try {
      const outs = await writeMany(group.map((w) => w.item));
      group.forEach((w, i) => w.resolve(outs[i]!));
    } catch (err) {
      if (group.length === 1 || err instanceof WrongCount || !(options.retryAlone?.(err) ?? false)) return group.forEach((w) => w.reject(err));
      // One by one: each caller gets its own item's outcome.
      await Promise.all(
        group.map(async (w) => {
          try {
            w.resolve((await writeMany([w.item]))[0]!);
          } catch (e) {
            w.reject(e);
          }
        }),
      );
    }
  };

  const pump = () => {
    while (inFlight < maxInFlight && queue.length > 0) {
      const group = queue.slice(0, maxGroup);
      queue = queue.slice(group.length);
      inFlight++;
      const done = settle(group).finally(() => {
        inFlight--;
        running.delete(done);
        pump();
      });
      running.add(done);
    }
  };

  return {
    write(item) {
      return new Promise<Out>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Sent once the event loop has taken every event already waiting (setImmediate runs after the poll
        // phase), so writes asked for by requests that arrived together share a group.
        if (queue.length === 1) setImmediate(pump);
        else if (queue.length >= maxGroup) pump();
      });
    },
    async drain() {
      while (queue.length > 0 || running.size > 0) await Promise.allSettled([...running, new Promise((r) => setImmediate(r))]);
    },
  };
}
