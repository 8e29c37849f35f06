import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { ValidationError } from './errors.ts';

/**
 * Keyset pagination, newest first, on (created_at, id). The cursor is opaque to clients: base64url of
 * the last item's timestamp and id, and a tag of the list's filters (its query but for `cursor` and `limit`):
 * a cursor is taken only with the filters it was given for, so a client that changed its filters between
 * pages is told so instead of getting pages of two different lists.
 */
export interface PageRequest {
  limit: number;
  cursor: { createdAt: Date; id: string } | null;
  /** The tag of the list's filters, written into the cursors it gives out. */
  filters: string;
}

export interface PageResult<T> {
  items: T[];
  next_cursor: string | null;
}

export function pageRequest(query: object & { limit?: number; cursor?: string }): PageRequest {
  const filters = filtersTag(query);
  return { limit: query.limit ?? 25, cursor: query.cursor === undefined ? null : decodeCursor(query.cursor, filters), filters };
}

/** The filters of a list's query (as validated: coerced, defaults filled, ids lower-cased), in a short tag. */
function filtersTag(query: object): string {
  const filters = Object.entries(query)
    .filter(([name, value]) => name !== 'cursor' && name !== 'limit' && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 12);
}

function decodeCursor(cursor: string, filters: string): { createdAt: Date; id: string } {
  const invalid = () => new ValidationError('The cursor is not one this API gave out.', [{ name: 'query.cursor', reason: 'is not a valid cursor' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalid();
  const [ms, id, tag] = parsed as unknown[];
  // Only what this API gives out: an instant from 1970 to 9999 (the database, and an ISO date, take it) and a
  // UUID in its canonical form (the database casts it) — a hand-made cursor must be a 400, not a failed query.
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > LAST_INSTANT_MS) throw invalid();
  if (typeof id !== 'string' || !CANONICAL_UUID.test(id)) throw invalid();
  if (typeof tag !== 'string') throw invalid();
  if (tag !== filters) {
    throw new ValidationError('The cursor was given for a list with other filters: ask for the first page again with these filters, or keep the ones it was given for.', [
      { name: 'query.cursor', reason: 'was given for other filters' },
    ]);
  }
  return { createdAt: new Date(ms), id };
}

const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const encodeCursor = (createdAt: Date, id: string, filters: string): string =>
  Buffer.from(JSON.stringify([createdAt.getTime(), id, filters])).toString('base64url');

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
  return { items: items.map(view), next_cursor: more && last ? encodeCursor(last.createdAt, last.id, page.filters) : null };
}
