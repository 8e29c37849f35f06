import { randomInt } from 'node:crypto';
import { and, desc, eq, ne, or } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { LedgerRow } from '../sandbox-kit/kit.ts';
import { sandboxSessions, sandboxTokens, sandboxTransactions } from '../sandbox-kit/schema.ts';
import type { PaymentStatus } from './transformers.ts';

/** The PayFast sandbox's state: its rows in the shared sandbox tables, always under provider 'PayFast'. */
export const PROVIDER = 'PayFast';

export type SessionRow = typeof sandboxSessions.$inferSelect;
export type TokenRow = typeof sandboxTokens.$inferSelect;
type NewLedgerRow = Omit<typeof sandboxTransactions.$inferInsert, 'id' | 'provider'>;

/** Result codes the sandbox writes to its ledger (PayFast publishes none but the "(00)" of a success message). */
export const RESULTS = {
  approved: { code: '00', description: 'Transaction was successful' },
  decline: { code: '05', description: 'DO NOT HONOUR' },
  insufficient_funds: { code: '51', description: 'INSUFFICIENT FUNDS' },
  unavailable: { code: '91', description: 'Issuer or switch inoperative' },
  card_update: { code: '00', description: 'Card updated' },
} as const;

/** pf_payment_id: a 10-digit number, like PayFast's (numeric, and never mistaken for another sandbox's ids). */
const newPfPaymentId = (): string => String(randomInt(1_000_000_000, 10_000_000_000));

export async function approvalOf(ctx: AppContext, mPaymentId: string): Promise<LedgerRow | null> {
  const [row] = await ctx.database.db
    .select()
    .from(sandboxTransactions)
    .where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.merchantReference, mPaymentId), eq(sandboxTransactions.status, 'approved')))
    .limit(1);
  return row ?? null;
}

/**
 * Writes a ledger row under a fresh pf_payment_id. The unique index `sandbox_transactions_one_approval` is the
 * arbiter of "approved once per m_payment_id": a concurrent second approval conflicts, is not written, and the
 * first approval is returned instead (`created: false`). Any other conflict is an id collision: draw again.
 */
export async function record(ctx: AppContext, row: NewLedgerRow): Promise<{ row: LedgerRow; created: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [inserted] = await ctx.database.db
      .insert(sandboxTransactions)
      .values({ ...row, id: newPfPaymentId(), provider: PROVIDER })
      .onConflictDoNothing()
      .returning();
    if (inserted) return { row: inserted, created: true };
    if (row.status === 'approved' && row.merchantReference) {
      const existing = await approvalOf(ctx, row.merchantReference);
      if (existing) return { row: existing, created: false };
    }
  }
  throw new Error('PayFast sandbox: no free pf_payment_id after 5 draws');
}

/** A stored card and, for an m_payment_id, its approval if there is one: one round trip (the ad hoc charge's hot path). */
export async function tokenWithApproval(ctx: AppContext, token: string, mPaymentId: string | null): Promise<{ card: TokenRow | null; approval: LedgerRow | null }> {
  const t = sandboxTransactions;
  const [row] = await ctx.database.db
    .select({ card: sandboxTokens, approval: t })
    .from(sandboxTokens)
    .leftJoin(t, and(eq(t.provider, PROVIDER), eq(t.status, 'approved'), mPaymentId === null ? eq(t.id, '') : eq(t.merchantReference, mPaymentId)))
    .where(and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, token)))
    .limit(1);
  return { card: row?.card ?? null, approval: row?.approval ?? null };
}

/** Has this attempt (a session, or an m_payment_id / token) met test card …0259's one 503 already? */
export async function hadUnavailable(ctx: AppContext, by: { sessionId: string } | { merchantReference: string } | { token: string }): Promise<boolean> {
  const t = sandboxTransactions;
  const where =
    'sessionId' in by ? eq(t.sessionId, by.sessionId) : 'merchantReference' in by ? eq(t.merchantReference, by.merchantReference) : and(eq(t.token, by.token), eq(t.kind, 'token'));
  const [row] = await ctx.database.db.select({ id: t.id }).from(t).where(and(eq(t.provider, PROVIDER), eq(t.status, 'unavailable'), where)).limit(1);
  return row !== undefined;
}

export async function tokenRow(ctx: AppContext, token: string): Promise<TokenRow | null> {
  const [row] = await ctx.database.db.select().from(sandboxTokens).where(and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, token))).limit(1);
  return row ?? null;
}

export async function paymentSession(ctx: AppContext, id: string): Promise<SessionRow | null> {
  const [row] = await ctx.database.db
    .select()
    .from(sandboxSessions)
    .where(and(eq(sandboxSessions.provider, PROVIDER), eq(sandboxSessions.kind, 'payment'), eq(sandboxSessions.id, id)))
    .limit(1);
  return row ?? null;
}

export async function transaction(ctx: AppContext, id: string): Promise<LedgerRow | null> {
  const [row] = await ctx.database.db.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.id, id))).limit(1);
  return row ?? null;
}

export const isOpen = (s: SessionRow, now: Date): boolean => s.status === 'open' && (s.expiresAt === null || s.expiresAt > now);

/**
 * What `GET /process/query/{id}` says about an m_payment_id or pf_payment_id: an approval → COMPLETE; an open
 * payment page → PENDING; a decline → FAILED; a page that expired or was given up unpaid → CANCELLED; only
 * 503s → FAILED; nothing → null (404).
 */
export async function paymentState(ctx: AppContext, id: string, now: Date): Promise<{ status: PaymentStatus; txn: LedgerRow | null; session: SessionRow | null } | null> {
  const t = sandboxTransactions;
  const rows = await ctx.database.db
    .select()
    .from(t)
    .where(and(eq(t.provider, PROVIDER), ne(t.kind, 'card_update'), or(eq(t.id, id), eq(t.merchantReference, id))))
    .orderBy(desc(t.createdAt));
  const approved = rows.find((r) => r.status === 'approved');
  if (approved) return { status: 'COMPLETE', txn: approved, session: null };
  const s = sandboxSessions;
  const sessions = await ctx.database.db.select().from(s).where(and(eq(s.provider, PROVIDER), eq(s.kind, 'payment'), eq(s.merchantReference, id))).orderBy(desc(s.createdAt));
  const open = sessions.find((x) => isOpen(x, now));
  if (open) return { status: 'PENDING', txn: null, session: open };
  const declined = rows.find((r) => r.status === 'declined');
  if (declined) return { status: 'FAILED', txn: declined, session: null };
  if (sessions[0]) return { status: 'CANCELLED', txn: null, session: sessions[0] };
  if (rows[0]) return { status: 'FAILED', txn: rows[0], session: null };
  return null;
}
