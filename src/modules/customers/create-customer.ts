import { randomUUID } from 'node:crypto';
import type { Actor, AppContext } from '../../context.ts';
import { IdTakenError, NotFoundError } from '../../lib/errors.ts';
import { uuid7 } from '../../lib/uuid7.ts';
import { recordAudit } from '../audit/record.ts';
import { findCustomer, insertCustomer, insertUser, type CustomerRow, type UserRow } from './repo.ts';

export interface NewUser {
  id?: string;
  name: string;
  email?: string;
}

export interface NewCustomer {
  id?: string;
  name: string;
  email?: string;
  cellNumber?: string;
  externalReference?: string;
  users?: NewUser[];
}

/** A customer and (optionally) the users who sign in for it. */
export async function createCustomer(ctx: Pick<AppContext, 'database'>, operatorId: string, actor: Actor, input: NewCustomer): Promise<{ customer: CustomerRow; users: UserRow[] }> {
  return ctx.database.db.transaction(async (tx) => {
    const id = input.id?.toLowerCase() ?? uuid7();
    const customer = await insertCustomer(tx, {
      id,
      operatorId,
      name: input.name,
      email: input.email ?? null,
      cellNumber: input.cellNumber ?? null,
      externalReference: input.externalReference ?? null,
    });
    if (!customer) throw new IdTakenError('customer', id);
    const users: UserRow[] = [];
    for (const u of input.users ?? []) users.push(await addUser(tx, operatorId, id, u));
    await recordAudit(tx, actor, { operatorId, entityType: 'customer', entityId: id, action: 'customer.created' });
    return { customer, users };
  });
}

export async function createCustomerUser(ctx: Pick<AppContext, 'database'>, operatorId: string, actor: Actor, customerId: string, input: NewUser): Promise<UserRow> {
  return ctx.database.db.transaction(async (tx) => {
    if (!(await findCustomer(tx, operatorId, customerId))) throw new NotFoundError('customer', customerId);
    const user = await addUser(tx, operatorId, customerId, input);
    await recordAudit(tx, actor, { operatorId, entityType: 'user', entityId: user.id, action: 'user.created', data: { customer_id: customerId } });
    return user;
  });
}

async function addUser(tx: Parameters<typeof insertUser>[0], operatorId: string, customerId: string, input: NewUser): Promise<UserRow> {
  const id = input.id?.toLowerCase() ?? randomUUID();
  const user = await insertUser(tx, {
    id,
    operatorId,
    customerId,
    role: 'customer',
    name: input.name,
    email: input.email ?? null,
  });
  if (!user) throw new IdTakenError('user', id);
  return user;
}
