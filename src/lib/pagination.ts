import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { ValidationError } from './errors.ts';

/**
 * Keyset pagination, newest first, on (created_at, id). The cursor is opaque to clients: base64url of
 * the last item's timestamp and id.
 */
export interface PageRequest {
  limit: number;
  cursor: { createdAt: Date; id: string } | null;
}

export interface PageResult<T> {
  items: T[];
  next_cursor: string | null;
}

export function pageRequest(query: { limit?: number; cursor?: string }): PageRequest {
  return { limit: query.limit ?? 25, cursor: query.cursor === undefined ? null : decodeCursor(query.cursor) };
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const invalid = () => new ValidationError('The cursor is not one this API gave out.', [{ name: 'query.cursor', reason: 'is not a valid cursor' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [ms, id] = parsed as unknown[];
  // Only what this API gives out: an instant from 1970 to 9999 (the database, and an ISO date, take it) and a
  // UUID in its canonical form (the database casts it) — a hand-made cursor must be a 400, not a failed query.
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > LAST_INSTANT_MS) throw invalid();
  if (typeof id !== 'string' || !CANONICAL_UUID.test(id)) throw invalid();
  return { createdAt: new Date(ms), id };
}

const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const encodeCursor = (createdAt: Date, id: string): string =>
  Buffer.from(JSON.stringify([createdAt.getTime(), id])).toString('base64url');

/** The WHERE part for rows after the cursor, or undefined on the first page. */
export function afterCursor(page: PageRequest, createdAt: PgColumn, id: PgColumn): SQL | undefined {
  if (!page.cursor) return undefined;
  return sql`(${createdAt}, ${id}) < (${page.cursor.createdAt.toISOString()}::timestamptz, ${page.cursor.id}::uuid)`;
}

/** Fetch `limit + 1` rows, then call this: it trims the extra row and makes the next cursor. */
export function toPage<R extends { createdAt: Date; id: string }, T>(rows: R[], page: PageRequest, view: (row: R) => T): PageResult<T> {
  const more = rows.length > page.limit;
  const items = more ? rows.slice(0, page.limit) : rows;
  const last = items.at(-1);
  return { items: items.map(view), next_cursor: more && last ? encodeCursor(last.createdAt, last.id) : null };
}
