import { randomInt } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { DEBITSUCCESS_SANDBOX_MERCHANT as MERCHANT, type NoteCode } from './merchant.ts';
import { debitsuccessAccounts } from './schema.ts';

/**
 * Debitsuccess's customer accounts. The sandbox opens an account for an ExternalAccountReferenceNo it has
 * not seen; a few reserved references are accounts that answer each documented account error (README.md).
 */
export type AccountRow = typeof debitsuccessAccounts.$inferSelect;

export const RESERVED = {
  multiple: 'DS-MULTIPLE',
  noRecord: 'DS-NORECORD',
  inactive: 'DS-INACTIVE',
  addOn: 'DS-ADDON',
  fixedTerm: 'DS-FIXEDTERM',
} as const;

const RESERVED_ACCOUNTS: (typeof debitsuccessAccounts.$inferInsert)[] = [
  { accountReferenceNo: 'TST0000071', externalAccountReferenceNo: RESERVED.multiple },
  { accountReferenceNo: 'TST0000072', externalAccountReferenceNo: RESERVED.multiple },
  { accountReferenceNo: 'TST0000010', externalAccountReferenceNo: RESERVED.inactive, status: 'Inactive' },
  { accountReferenceNo: 'TST0014107', externalAccountReferenceNo: RESERVED.addOn, kind: 'add_on' },
  { accountReferenceNo: 'TST0014045', externalAccountReferenceNo: RESERVED.fixedTerm, kind: 'fixed_term', balanceCents: 10_000 },
];

const seeded = new WeakMap<object, Promise<void>>();
/** The reserved accounts, written once per database (idempotent, so every process may do it). */
export function ensureReservedAccounts(ctx: SandboxContext): Promise<void> {
  let done = seeded.get(ctx.database);
  if (!done) {
    done = ctx.database.db.insert(debitsuccessAccounts).values(RESERVED_ACCOUNTS).onConflictDoNothing().then(() => undefined);
    seeded.set(ctx.database, done);
    done.catch(() => seeded.delete(ctx.database));
  }
  return done;
}

export type Lookup = { ok: true; account: AccountRow } | { ok: false; code: NoteCode };

/**
 * Finds the account named by AccountReferenceNo and/or ExternalAccountReferenceNo (both: they must name the
 * same account). With `open`, an unseen ExternalAccountReferenceNo (given alone) opens a new account.
 * Run inside a transaction when opening: the reference is locked so two requests open one account.
 */
export async function findAccount(db: Executor, ref: { accountReferenceNo: string | null; externalAccountReferenceNo: string | null }, open: boolean, now: Date): Promise<Lookup> {
  const a = debitsuccessAccounts;
  let account: AccountRow | undefined;
  if (ref.accountReferenceNo !== null) {
    [account] = await db.select().from(a).where(eq(a.accountReferenceNo, ref.accountReferenceNo)).limit(1);
    if (!account || (ref.externalAccountReferenceNo !== null && account.externalAccountReferenceNo !== ref.externalAccountReferenceNo)) return { ok: false, code: '08' };
  } else if (ref.externalAccountReferenceNo !== null) {
    const external = ref.externalAccountReferenceNo;
    if (open) await db.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`debitsuccess:${external}`}))`);
    const found = await db.select().from(a).where(eq(a.externalAccountReferenceNo, external)).limit(2);
    if (found.length > 1) return { ok: false, code: '07' };
    account = found[0];
    if (!account) {
      if (!open || external === RESERVED.noRecord) return { ok: false, code: '08' };
      account = await openAccount(db, external, now);
    }
  } else {
    return { ok: false, code: '12016' };
  }
  if (account.status !== 'Active') return { ok: false, code: '10' };
  return { ok: true, account };
}

async function openAccount(db: Executor, external: string, now: Date): Promise<AccountRow> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const accountReferenceNo = `${MERCHANT.contractPrefix}${randomInt(1_000_000, 10_000_000)}`;
    const [row] = await db.insert(debitsuccessAccounts).values({ accountReferenceNo, externalAccountReferenceNo: external, createdAt: now, updatedAt: now }).onConflictDoNothing().returning();
    if (row) return row;
  }
  throw new Error('Debitsuccess sandbox: no free AccountReferenceNo after 5 draws');
}

export async function accountByReference(db: Executor, accountReferenceNo: string): Promise<AccountRow | null> {
  const [row] = await db.select().from(debitsuccessAccounts).where(eq(debitsuccessAccounts.accountReferenceNo, accountReferenceNo)).limit(1);
  return row ?? null;
}
