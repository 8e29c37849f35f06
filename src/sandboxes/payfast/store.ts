import { randomInt } from 'node:crypto';
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { RawQuery } from '../../db/client.ts';
import type { LedgerRow, SandboxContext } from '../kit/kit.ts';
import { sandboxSessions, sandboxTokens, sandboxTransactions } from '../kit/schema.ts';

/** The PayFast sandbox's state: its rows in the shared sandbox tables, always under provider 'PayFast'. */
export const PROVIDER = 'PayFast';

export type SessionRow = typeof sandboxSessions.$inferSelect;
export type TokenRow = typeof sandboxTokens.$inferSelect;
type NewLedgerRow = Omit<typeof sandboxTransactions.$inferInsert, 'id' | 'provider'>;

/** Result codes the sandbox writes to its ledger and its decline answers (bank response codes). */
export const RESULTS = {
  approved: { code: '00', description: 'Transaction was successful' },
  decline: { code: '05', description: 'DO NOT HONOUR' },
  insufficient_funds: { code: '51', description: 'INSUFFICIENT FUNDS' },
  unavailable: { code: '91', description: 'Issuer or switch inoperative' },
  card_update: { code: '00', description: 'Card updated' },
} as const;

/** pf_payment_id: a 10-digit number, like PayFast's (numeric, and never mistaken for another sandbox's ids). */
const newPfPaymentId = (): string => String(randomInt(1_000_000_000, 10_000_000_000));

/**
 * Writes a ledger row under a fresh pf_payment_id, stamped with the sandbox's clock. Nothing is deduplicated:
 * PayFast publishes no refusal of a repeated m_payment_id, so a repeat is charged again. The only conflict
 * possible is a pf_payment_id drawn twice: draw again.
 */
export async function record(ctx: SandboxContext, row: NewLedgerRow): Promise<LedgerRow> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [inserted] = await ctx.database.db
      .insert(sandboxTransactions)
      .values({ createdAt: ctx.clock(), ...row, id: newPfPaymentId(), provider: PROVIDER })
      .onConflictDoNothing({ target: sandboxTransactions.id })
      .returning();
    if (inserted) return inserted;
  }
  throw new Error('PayFast sandbox: no free pf_payment_id after 5 draws');
}

/**
 * An ad hoc charge of an approving card, in one statement (the charge's hot path): read the card, and record an
 * approval when it is active and approves. Returns null for an unknown token; `chargedId` null means nothing was
 * recorded (another outcome, or a pf_payment_id collision: the caller then takes the general path).
 */
const ADHOC_APPROVE = {
  name: 'sandbox_payfast_adhoc_approve_v2',
  text: `WITH card AS (
  SELECT status, outcome, card_bin, card_last4, expiry_month::int AS expiry_month, expiry_year::int AS expiry_year, notify_url,
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS billing_date
  FROM sandbox.tokens WHERE provider = 'PayFast' AND token = $1
), charged AS (
  INSERT INTO sandbox.transactions (id, provider, merchant_reference, token, kind, amount_cents, status, result_code, result_description, card_bin, card_last4, details, created_at)
  SELECT $3, 'PayFast', $2, $1, 'token', $4, 'approved', $5, $6, c.card_bin, c.card_last4, $7::jsonb, $8::timestamptz
  FROM card c WHERE c.status = 'active' AND c.outcome = 'approve'
  ON CONFLICT (id) DO NOTHING
  RETURNING id
)
SELECT c.*, x.id AS charged_id FROM card c LEFT JOIN charged x ON true`,
};

/** What an ad hoc charge needs of its token: the card's outcome and details, and where its ITNs go. */
export interface AdhocCard {
  status: string;
  outcome: string;
  cardBin: string;
  cardLast4: string;
  expiryMonth: number;
  expiryYear: number;
  notifyUrl: string | null;
  /** The day the token's ad hoc agreement started (YYYY-MM-DD): the ITN's billing_date. */
  billingDate: string;
}

export async function approveAdhoc(
  ctx: SandboxContext,
  token: string,
  input: { mPaymentId: string | null; amountCents: number; details: Record<string, unknown>; at: Date },
  query: RawQuery = ctx.database.query,
): Promise<{ card: AdhocCard; chargedId: string | null } | null> {
  const params = [token, input.mPaymentId, newPfPaymentId(), input.amountCents, RESULTS.approved.code, RESULTS.approved.description, JSON.stringify(input.details), input.at.toISOString()];
  const [row] = await query<Record<string, string | number | null>>(ADHOC_APPROVE.text, params, ADHOC_APPROVE.name);
  if (!row) return null;
  const text = (k: string): string => String(row[k]);
  return {
    card: {
      status: text('status'),
      outcome: text('outcome'),
      cardBin: text('card_bin'),
      cardLast4: text('card_last4'),
      expiryMonth: Number(row.expiry_month),
      expiryYear: Number(row.expiry_year),
      notifyUrl: row.notify_url === null ? null : text('notify_url'),
      billingDate: text('billing_date'),
    },
    chargedId: row.charged_id === null ? null : text('charged_id'),
  };
}

/** Has this page (or this token, for ad hoc charges) met test card …0259's one 503 already? */
export async function hadUnavailable(ctx: SandboxContext, by: { sessionId: string } | { token: string }): Promise<boolean> {
  const t = sandboxTransactions;
  const where = 'sessionId' in by ? eq(t.sessionId, by.sessionId) : and(eq(t.token, by.token), eq(t.kind, 'token'));
  const [row] = await ctx.database.db.select({ id: t.id }).from(t).where(and(eq(t.provider, PROVIDER), eq(t.status, 'unavailable'), where)).limit(1);
  return row !== undefined;
}

/**
 * The token's most recent ad hoc charge that PayFast processed (approved or declined; a 503 was never
 * processed), by time, then by pf_payment_id so that a tie in the same millisecond still has one answer.
 */
export async function latestAdhocCharge(ctx: SandboxContext, token: string): Promise<LedgerRow | null> {
  const t = sandboxTransactions;
  const [row] = await ctx.database.db
    .select()
    .from(t)
    .where(and(eq(t.provider, PROVIDER), eq(t.token, token), eq(t.kind, 'token'), inArray(t.status, ['approved', 'declined'])))
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(1);
  return row ?? null;
}

export async function tokenRow(ctx: SandboxContext, token: string): Promise<TokenRow | null> {
  const [row] = await ctx.database.db.select().from(sandboxTokens).where(and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, token))).limit(1);
  return row ?? null;
}

export async function paymentSession(ctx: SandboxContext, id: string): Promise<SessionRow | null> {
  const [row] = await ctx.database.db
    .select()
    .from(sandboxSessions)
    .where(and(eq(sandboxSessions.provider, PROVIDER), eq(sandboxSessions.kind, 'payment'), eq(sandboxSessions.id, id)))
    .limit(1);
  return row ?? null;
}

export async function transaction(ctx: SandboxContext, id: string): Promise<LedgerRow | null> {
  const [row] = await ctx.database.db.select().from(sandboxTransactions).where(and(eq(sandboxTransactions.provider, PROVIDER), eq(sandboxTransactions.id, id))).limit(1);
  return row ?? null;
}

export const isOpen = (s: SessionRow, now: Date): boolean => s.status === 'open' && (s.expiresAt === null || s.expiresAt > now);
