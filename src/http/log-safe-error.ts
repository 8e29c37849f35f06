import { AppError } from '../lib/errors.ts';

/**
 * pino's `err` serializer for payrail: an error as a log line may show it, with nothing a caller sent.
 * A failed query's error (Drizzle's) carries the statement's parameters — a new customer's name, email
 * and phone — in its message and stack; PostgreSQL's carries the row in `detail` and, for a value it
 * could not read, the value in its message. Kept: type, message (without those), SQLSTATE code,
 * constraint, table and column, the stack frames, and the same for each cause.
 */
export function serializeError(err: unknown): unknown {
  return err instanceof Error ? safe(err, 0) : err;
}

interface SafeError {
  type: string;
  message: string;
  stack?: string;
  [field: string]: unknown;
}

const DB_FIELDS = ['constraint', 'table', 'column', 'schema', 'routine'] as const;

function safe(err: Error, depth: number): SafeError {
  const e = err as Error & { code?: unknown; query?: unknown; params?: unknown; severity?: unknown };
  const type = e.constructor?.name || e.name || 'Error';
  const sqlState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string' ? e.code : null;
  let message = e.message;
  // Drizzle: "Failed query: <sql>\nparams: <values>". The SQL has placeholders only.
  if (typeof e.query === 'string' && Array.isArray(e.params)) message = `Failed query: ${e.query}`;
  // Class 22 (data exceptions) quote the offending value: `invalid input syntax for type uuid: "…"`.
  else if (sqlState?.startsWith('22')) message = message.replace(/"[^"]*"/g, '"[redacted]"');
  const out: SafeError = { type, message };
  if (sqlState) out.code = sqlState;
  else if (typeof e.code === 'string') out.code = e.code;
  if (err instanceof AppError) out.status = err.status;
  if (sqlState) for (const f of DB_FIELDS) if (typeof (e as unknown as Record<string, unknown>)[f] === 'string') out[f] = (e as unknown as Record<string, unknown>)[f];
  const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  if (frames.length > 0) out.stack = [`${type}: ${message}`, ...frames].join('\n');
  if (e.cause instanceof Error && depth < 4) out.cause = safe(e.cause, depth + 1);
  return out;
}
