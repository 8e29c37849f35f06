/** PostgreSQL's SQLSTATE of a failed query, whichever driver raised it (Drizzle wraps the driver's error). */
export function sqlState(err: unknown): string | null {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return null;
}

export const isUniqueViolation = (err: unknown): boolean => sqlState(err) === '23505';

/**
 * PostgreSQL refused the statement before it could commit anything: bad data (22), a constraint (23), a
 * serialization failure or deadlock (40), syntax or an undefined name (42), a PL/pgSQL raise (P0). Not a lost
 * connection or a server gone away, after which the statement may have committed.
 */
export function nothingWritten(err: unknown): boolean {
  const state = sqlState(err);
  return state !== null && ['22', '23', '40', '42', 'P0'].includes(state.slice(0, 2));
}
