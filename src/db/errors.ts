/** PostgreSQL's SQLSTATE of a failed query, whichever driver raised it (Drizzle wraps the driver's error). */
export function sqlState(err: unknown): string | null {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return null;
}

export const isUniqueViolation = (err: unknown): boolean => sqlState(err) === '23505';
