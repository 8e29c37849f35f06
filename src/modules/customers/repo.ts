import { and, asc, desc, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { operators } from '../operators/schema.ts';
import { customers, users } from './schema.ts';

export type CustomerRow = typeof customers.$inferSelect;
export type UserRow = typeof users.$inferSelect;

/** A customer of the operator; with `customerScope`, only if it is that customer. */
export async function findCustomer(db: Executor, operatorId: string, id: string, customerScope: string | null = null): Promise<CustomerRow | null> {
  if (customerScope !== null && customerScope !== id) return null;
  const [row] = await db.select().from(customers).where(and(eq(customers.id, id), eq(customers.operatorId, operatorId)));
  return row ?? null;
}

export async function listCustomers(db: Executor, operatorId: string, page: PageRequest): Promise<CustomerRow[]> {
  return db
    .select()
    .from(customers)
    .where(and(eq(customers.operatorId, operatorId), afterCursor(page, customers.createdAt, customers.id)))
    .orderBy(desc(customers.createdAt), desc(customers.id))
    .limit(page.limit + 1);
}

/** null when the id is taken, by any operator's customer. */
export async function insertCustomer(db: Executor, row: typeof customers.$inferInsert): Promise<CustomerRow | null> {
  const [created] = await db.insert(customers).values(row).onConflictDoNothing({ target: customers.id }).returning();
  return created ?? null;
}

export async function findUser(db: Executor, operatorId: string, id: string): Promise<UserRow | null> {
  const [row] = await db.select().from(users).where(and(eq(users.id, id), eq(users.operatorId, operatorId)));
  return row ?? null;
}

export async function listUsersOfCustomer(db: Executor, operatorId: string, customerId: string): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(and(eq(users.operatorId, operatorId), eq(users.customerId, customerId)))
    .orderBy(desc(users.createdAt), desc(users.id));
}

/** null when the id is taken, by any operator's user. */
export async function insertUser(db: Executor, row: typeof users.$inferInsert): Promise<UserRow | null> {
  const [created] = await db.insert(users).values(row).onConflictDoNothing().returning();
  return created ?? null;
}

/** A user with their operator's name: who a token names, and the sandbox sign-in's list. */
export interface UserWithOperator {
  id: string;
  name: string;
  role: UserRow['role'];
  customerId: string | null;
  operatorId: string;
  operatorName: string;
}

const withOperator = (db: Executor) =>
  db
    .select({ id: users.id, name: users.name, role: users.role, customerId: users.customerId, operatorId: users.operatorId, operatorName: operators.name })
    .from(users)
    .innerJoin(operators, eq(operators.id, users.operatorId));

/** Any operator's user by id: only for sandbox sign-in and for matching a token's own claims. */
export async function findUserWithOperator(db: Executor, id: string): Promise<UserWithOperator | null> {
  const [row] = await withOperator(db).where(eq(users.id, id));
  return row ?? null;
}

/** One operator's users, by role and name (the sandbox sign-in page offers the demo operator's). */
export async function listUsersWithOperator(db: Executor, operatorId: string, limit: number): Promise<UserWithOperator[]> {
  return withOperator(db).where(eq(users.operatorId, operatorId)).orderBy(asc(users.role), asc(users.name), asc(users.id)).limit(limit);
}
