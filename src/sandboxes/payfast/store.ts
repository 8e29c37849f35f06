import { randomInt } from 'node:crypto';
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { LedgerRow, SandboxContext, StoredNotice } from '../kit/kit.ts';
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
 * What an ad hoc charge reads first, in one statement: the token's card, the sandbox's behaviour settings,
 * and — only when they say ITNs carry the previous charge's m_payment_id (issue #152) — that charge.
 * No row: no such token.
 */
const READ_ADHOC = {
  name: 'sandbox_payfast_adhoc_read_v1',
  text: `SELECT t.status, t.outcome, t.card_bin, t.card_last4, t.expiry_month::int AS expiry_month, t.expiry_year::int AS expiry_year, t.notify_url,
  to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS billing_date, b.settings AS behaviour, prev.id AS previous_id, prev.merchant_reference AS previous_reference
FROM sandbox.tokens t
LEFT JOIN sandbox.behaviours b ON b.provider = 'PayFast'
LEFT JOIN LATERAL (
  SELECT x.id, x.merchant_reference FROM sandbox.transactions x
  WHERE b.settings->>'itn' = 'old_m_payment_id' AND x.provider = 'PayFast' AND x.token = t.token AND x.kind = 'token' AND x.status IN ('approved', 'declined')
  ORDER BY x.created_at DESC, x.id DESC LIMIT 1
) prev ON true
WHERE t.provider = 'PayFast' AND t.token = $1`,
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

export interface AdhocRead {
  card: AdhocCard;
  /** The stored behaviour settings (over the defaults: behaviour.ts). */
  settings: Record<string, unknown> | null;
  /** The token's latest processed charge, read only for `itn: "old_m_payment_id"`; null otherwise or if none. */
  previous: { id: string; merchantReference: string | null } | null;
}

export async function readAdhoc(ctx: SandboxContext, token: string): Promise<AdhocRead | null> {
  const [row] = await ctx.database.query<Record<string, unknown>>(READ_ADHOC.text, [token], READ_ADHOC.name);
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
    settings: (row.behaviour as Record<string, unknown> | null) ?? null,
    previous: row.previous_id === null ? null : { id: text('previous_id'), merchantReference: row.previous_reference === null ? null : text('previous_reference') },
  };
}

/**
 * An approving card's charge and its notifications, in one statement (the charge's hot path): recorded only
 * while the token is still active, approving and the card it was read as (a card update in between takes the
 * general path), so a charge and the ITNs that tell of it are stored together or not at all.
 */
const CHARGE_APPROVED = {
  name: 'sandbox_payfast_adhoc_charge_v1',
  text: `WITH card AS (
  SELECT 1 FROM sandbox.tokens
  WHERE provider = 'PayFast' AND token = $1 AND status = 'active' AND outcome = 'approve'
    AND card_bin = $7 AND card_last4 = $8 AND expiry_month::int = $9 AND expiry_year::int = $10 AND notify_url IS NOT DISTINCT FROM $11
), charged AS (
  INSERT INTO sandbox.transactions (id, provider, merchant_reference, token, kind, amount_cents, status, result_code, result_description, card_bin, card_last4, details, created_at)
  SELECT $3, 'PayFast', $2, $1, 'token', $4, 'approved', '${RESULTS.approved.code}', '${RESULTS.approved.description}', $7, $8, $5::jsonb, $6::timestamptz FROM card
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), noticed AS (
  INSERT INTO sandbox.notifications (id, provider, url, content_type, body, headers)
  SELECT n.id, 'PayFast', n.url, n.content_type, n.body, n.headers
  FROM jsonb_to_recordset($12::jsonb) AS n(id text, url text, content_type text, body text, headers jsonb)
  WHERE EXISTS (SELECT 1 FROM charged)
  RETURNING 1
)
SELECT id FROM charged`,
};

/**
 * Charges an approving card read by readAdhoc under `pfPaymentId`, storing its notifications with it (each
 * built by the caller for that id). False when nothing was recorded (the card changed, or the id was drawn
 * before): the caller takes the general path.
 */
export async function chargeApproved(
  ctx: SandboxContext,
  token: string,
  card: AdhocCard,
  input: { pfPaymentId: string; mPaymentId: string | null; amountCents: number; details: Record<string, unknown>; at: Date; notices: readonly StoredNotice[] },
): Promise<boolean> {
  const notices = input.notices.map((n) => ({ id: n.id, url: n.url, content_type: n.headers['content-type'], body: n.body, headers: n.headers }));
  const params = [token, input.mPaymentId, input.pfPaymentId, input.amountCents, JSON.stringify(input.details), input.at.toISOString(), card.cardBin, card.cardLast4, card.expiryMonth, card.expiryYear, card.notifyUrl, JSON.stringify(notices)];
  const rows = await ctx.database.query(CHARGE_APPROVED.text, params, CHARGE_APPROVED.name);
  return rows.length > 0;
}

/** A fresh pf_payment_id for a charge recorded by chargeApproved. */
export const nextPfPaymentId = (): string => newPfPaymentId();

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
