import { writeSync as fsWriteSync } from 'node:fs';

/**
 * Where the log lines go: a file descriptor (stdout), written in batches off the request path, and never
 * in the way of an exit.
 *
 * NOTE: pino's asynchronous destination (SonicBoom) retries a failed write for ever inside `flushSync`,
 * which runs in the synchronous 'exit' handler: once stdout's reader is gone (EPIPE), a process asked to
 * stop never ended, holding its data-dir lock. Here the lines written during one turn of the event loop
 * go out together in one write after it; a full pipe (EAGAIN) is tried again a little later; any other
 * error (EPIPE: nobody reads any more) closes the destination and later lines are dropped; and the final
 * flush gives a full pipe a deadline.
 */
export interface LogDestination {
  /** Queue a line (pino's serialised record); written after the current turn of the event loop. */
  write(line: string): void;
  /** Write what is queued now, synchronously; a full pipe gets at most `budgetMs` to take it. */
  flushSync(budgetMs: number): void;
  /** Stop writing (the reader is gone); queued and later lines are dropped. */
  close(reason: NodeJS.ErrnoException): void;
  readonly closed: boolean;
}

export interface LogDestinationOptions {
  fd: number;
  /** Told once, when the destination closes. */
  onClose?: (reason: NodeJS.ErrnoException) => void;
  /** For tests: the system call. */
  writeSync?: (fd: number, buffer: Buffer) => number;
}

const RETRY_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function createLogDestination({ fd, onClose, writeSync = fsWriteSync }: LogDestinationOptions): LogDestination {
  let queued: string[] = [];
  let unwritten: Buffer | null = null; // what a partial write left
  let scheduled = false;
  let closed = false;

  /** Write until nothing is left (true), or until a full pipe outlasts `deadline` (false). */
  const drain = (deadline: number): boolean => {
    while (!closed) {
      if (!unwritten) {
        if (queued.length === 0) return true;
        unwritten = Buffer.from(queued.join(''));
        queued = [];
      }
      try {
        const n = writeSync(fd, unwritten);
        unwritten = n >= unwritten.length ? null : unwritten.subarray(n);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // EINTR: a signal arrived mid-write; EAGAIN: the pipe is full. Anything else: nobody can read it.
        if (e.code !== 'EAGAIN' && e.code !== 'EINTR') {
          destination.close(e);
          return true;
        }
        if (Date.now() >= deadline) return false;
        Atomics.wait(sleeper, 0, 0, RETRY_MS);
      }
    }
    return true;
  };

  const schedule = (delayMs: number) => {
    if (scheduled || closed) return;
    scheduled = true;
    const run = () => {
      scheduled = false;
      if (!drain(0)) schedule(RETRY_MS);
    };
    // Unreferenced: logging never keeps a process alive; what is left goes out in the exit flush.
    (delayMs === 0 ? setImmediate(run) : setTimeout(run, delayMs)).unref();
  };

  const destination: LogDestination = {
    write(line) {
      if (closed) return;
      queued.push(line);
      schedule(0);
    },
    flushSync(budgetMs) {
      drain(Date.now() + budgetMs);
    },
    close(reason) {
      if (closed) return;
      closed = true;
      queued = [];
      unwritten = null;
      onClose?.(reason);
    },
    get closed() {
      return closed;
    },
  };
  return destination;
}
