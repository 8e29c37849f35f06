import { randomInt } from 'node:crypto';
import { and, desc, eq, ne, or } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { LedgerRow } from '../kit/kit.ts';
import { sandboxSessions, sandboxTokens, sandboxTransactions } from '../kit/schema.ts';
import type { PaymentStatus } from '../../providers/payfast/transformers.ts';

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

/**
 * An ad hoc charge of an approving card, in one statement (the charge's hot path): read the card and any
 * approval of the m_payment_id, and record a new approval when the card is active, approves, and none
 * exists. Returns null for an unknown token; `charged` null means nothing was recorded (another outcome,
 * an earlier approval, or a conflict: the caller then takes the general path).
 */
const ADHOC_APPROVE = {
  name: 'sandbox_payfast_adhoc_approve_v1',
  text: `WITH card AS (
  SELECT status, outcome, card_bin, card_last4 FROM sandbox.tokens WHERE provider = 'PayFast' AND token = $1
), earlier AS (
  SELECT id, amount_cents FROM sandbox.transactions WHERE provider = 'PayFast' AND status = 'approved' AND merchant_reference = $2 LIMIT 1
), charged AS (
  INSERT INTO sandbox.transactions (id, provider, merchant_reference, token, kind, amount_cents, status, result_code, result_description, card_bin, card_last4, details)
  SELECT $3, 'PayFast', $2, $1, 'token', $4, 'approved', $5, $6, c.card_bin, c.card_last4, $7::jsonb
  FROM card c WHERE c.status = 'active' AND c.outcome = 'approve' AND NOT EXISTS (SELECT 1 FROM earlier)
  ON CONFLICT DO NOTHING
  RETURNING id, amount_cents
)
SELECT c.status, c.outcome, c.card_bin, c.card_last4, e.id AS earlier_id, e.amount_cents::text AS earlier_amount, x.id AS charged_id, x.amount_cents::text AS charged_amount
FROM card c LEFT JOIN earlier e ON true LEFT JOIN charged x ON true`,
};

type Approval = { id: string; amountCents: number };

export async function approveAdhoc(
  ctx: AppContext,
  token: string,
  input: { mPaymentId: string | null; amountCents: number; details: Record<string, unknown> },
): Promise<{ card: Pick<TokenRow, 'status' | 'outcome' | 'cardBin' | 'cardLast4'>; earlier: Approval | null; charged: Approval | null } | null> {
  const params = [token, input.mPaymentId, newPfPaymentId(), input.amountCents, RESULTS.approved.code, RESULTS.approved.description, JSON.stringify(input.details)];
  const [row] = await ctx.database.query<Record<string, string | null>>(ADHOC_APPROVE.text, params, ADHOC_APPROVE.name);
  if (!row) return null;
  const approval = (id: string | null, amount: string | null): Approval | null => (id ? { id, amountCents: Number(amount) } : null);
  return {
    card: { status: row.status!, outcome: row.outcome!, cardBin: row.card_bin!, cardLast4: row.card_last4! },
    earlier: approval(row.earlier_id!, row.earlier_amount!),
    charged: approval(row.charged_id!, row.charged_amount!),
  };
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
