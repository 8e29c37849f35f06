import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from '../../db/columns.ts';
import { operators } from '../operators/schema.ts';
import type { Role } from '../../domain/enums.ts';

export const customers = pgTable(
  'customers',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    name: text('name').notNull(),
    email: text('email'),
    cellNumber: text('cell_number'),
    externalReference: text('external_reference'),
    /** Bumped by triggers whenever anything a read model shows of it changes (see migration 0003). */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    ...timestamps,
  },
  (t) => [index('customers_operator').on(t.operatorId, t.createdAt)],
);

/**
 * A person who signs in. `id` is the JWT `sub`. Customers' users belong to a customer; integrators and
 * admins act for the whole operator.
 */
export const users = pgTable(
  'users',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    customerId: uuid('customer_id').references(() => customers.id),
    role: text('role').$type<Role>().notNull(),
    name: text('name').notNull(),
    email: text('email'),
    ...timestamps,
  },
  (t) => [
    index('users_customer').on(t.customerId),
    index('users_operator').on(t.operatorId),
    check('users_role', sql`${t.role} in ('customer', 'integrator', 'admin')`),
    check('users_customer_role', sql`(${t.role} = 'customer') = (${t.customerId} is not null)`),
  ],
);
