import { and, desc, eq, sql } from 'drizzle-orm';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxTransactions } from '../kit/schema.ts';
import { PROVIDER } from './merchant.ts';
import { vendorMessages, type VendorMessageRow } from './schema.ts';

/**
 * The vendor's memory of message ids: a message is written with its answer (and its ledger row) in one
 * transaction, keyed by its id, so that of many concurrent requests with one id exactly one is processed.
 */

export type NewMessage = typeof vendorMessages.$inferInsert;
export type NewLedgerRow = Omit<typeof sandboxTransactions.$inferInsert, 'provider'>;

/**
 * Records a message, its answer and its ledger row, unless its id was used before: then nothing is written
 * and the message already stored is returned (`fresh: false`).
 */
export async function record(ctx: SandboxContext, message: NewMessage, ledger: NewLedgerRow | null): Promise<{ fresh: boolean; row: VendorMessageRow }> {
  const now = ctx.clock();
  const written = await ctx.database.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(vendorMessages)
      .values({ ...message, createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: vendorMessages.id })
      .returning();
    if (!row) return null;
    if (ledger) await tx.insert(sandboxTransactions).values({ ...ledger, provider: PROVIDER, createdAt: now });
    return row;
  });
  if (written) return { fresh: true, row: written };
  const existing = await find(ctx, message.id);
  if (!existing) throw new Error(`message ${message.id} conflicted but cannot be read`);
  return { fresh: false, row: existing };
}

export async function find(ctx: SandboxContext, id: string): Promise<VendorMessageRow | null> {
  const [row] = await ctx.database.db.select().from(vendorMessages).where(eq(vendorMessages.id, id)).limit(1);
  return row ?? null;
}

/** A message seen again (an advice resent): counted, whatever it is answered. */
export async function countRepeat(ctx: SandboxContext, id: string): Promise<void> {
  await ctx.database.db
    .update(vendorMessages)
    .set({ received: sql`${vendorMessages.received} + 1`, updatedAt: ctx.clock() })
    .where(eq(vendorMessages.id, id));
}

/** The purchase a reprint asks for: by its id or its token's receipt number, else the meter's last token. */
export async function purchaseToReprint(ctx: SandboxContext, meterId: string, originalRef: string | undefined): Promise<VendorMessageRow | null> {
  const m = vendorMessages;
  const vended = and(eq(m.kind, 'purchase'), eq(m.meterId, meterId), sql`${m.httpStatus} between 200 and 299`);
  if (originalRef === undefined) {
    const [last] = await ctx.database.db.select().from(m).where(vended).orderBy(desc(m.createdAt), desc(m.id)).limit(1);
    return last ?? null;
  }
  const byRef = sql`(${m.id} = ${originalRef} OR ${m.response} @> ${JSON.stringify({ tokens: [{ receiptNum: originalRef }] })}::jsonb)`;
  const [row] = await ctx.database.db.select().from(m).where(and(vended, byRef)).limit(1);
  return row ?? null;
}
