import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { debitsuccessState } from './schema.ts';

/** The sandbox's one row of state: the bank day and whether the facility's webhook is on. */
export type StateRow = typeof debitsuccessState.$inferSelect;

/** The state row, made on first use (the bank day starts at 0 when it is first read). */
export async function readState(db: Executor, now: Date, forUpdate = false): Promise<StateRow> {
  const select = () => {
    const q = db.select().from(debitsuccessState).where(eq(debitsuccessState.id, 1));
    return forUpdate ? q.for('update') : q;
  };
  let [row] = await select();
  if (!row) {
    await db.insert(debitsuccessState).values({ id: 1, bankDay: 0, bankDayAt: now, updatedAt: now }).onConflictDoNothing();
    [row] = await select();
  }
  return row!;
}
