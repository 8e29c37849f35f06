import { timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Timestamps are kept to the millisecond: JavaScript dates and pagination cursors round-trip them exactly.
 */
export const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const timestamps = {
  createdAt: instant('created_at').notNull().defaultNow(),
  updatedAt: instant('updated_at').notNull().defaultNow(),
};

export const id = () => uuid('id').primaryKey();
