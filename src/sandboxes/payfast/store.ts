import { randomInt } from 'node:crypto';
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { LedgerRow, SandboxContext, StoredNotice } from '../kit/kit.ts';
import { nothingWritten } from '../../db/errors.ts';
import { groupWriter, type GroupWriter } from '../../lib/group-commit.ts';
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
 * What an ad hoc charge reads first: the token's card, the sandbox's behaviour settings, and — only when
 * they say ITNs carry the previous charge's m_payment_id (issue #152) — that charge. Charges arriving
 * together are read in one statement (group commit, lib/group-commit.ts). No row: no such token.
 */
const READ_ADHOC = {
  name: 'sandbox_payfast_adhoc_read_v2',
  text: `SELECT t.token, t.status, t.outcome, t.card_bin, t.card_last4, t.expiry_month::int AS expiry_month, t.expiry_year::int AS expiry_year, t.notify_url,
  to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS billing_date, b.settings AS behaviour, prev.id AS previous_id, prev.merchant_reference AS previous_reference
FROM sandbox.tokens t
LEFT JOIN sandbox.behaviours b ON b.provider = 'PayFast'
LEFT JOIN LATERAL (
  SELECT x.id, x.merchant_reference FROM sandbox.transactions x
  WHERE b.settings->>'itn' = 'old_m_payment_id' AND x.provider = 'PayFast' AND x.token = t.token AND x.kind = 'token' AND x.status IN ('approved', 'declined')
  ORDER BY x.created_at DESC, x.id DESC LIMIT 1
) prev ON true
WHERE t.provider = 'PayFast' AND t.token = ANY($1::text[])`,
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

export function readAdhoc(ctx: SandboxContext, token: string): Promise<AdhocRead | null> {
  return groupOf(ctx).reads.write(token);
}

function adhocRead(row: Record<string, unknown>): AdhocRead {
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
 * Approving cards' charges and their notifications, in one statement (the charge's hot path; charges
 * arriving together are written together): each recorded only while its token is still active, approving
 * and the card it was read as (a card update in between takes the general path), so a charge and the ITNs
 * that tell of it are stored together or not at all.
 */
const CHARGE_APPROVED = {
  name: 'sandbox_payfast_adhoc_charge_v2',
  text: `WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(token text, m_payment_id text, pf_payment_id text, amount_cents bigint, details jsonb, at timestamptz,
    card_bin text, card_last4 text, expiry_month int, expiry_year int, notify_url text, notices jsonb)
), charged AS (
  INSERT INTO sandbox.transactions (id, provider, merchant_reference, token, kind, amount_cents, status, result_code, result_description, card_bin, card_last4, details, created_at)
  SELECT i.pf_payment_id, 'PayFast', i.m_payment_id, i.token, 'token', i.amount_cents, 'approved', '${RESULTS.approved.code}', '${RESULTS.approved.description}', i.card_bin, i.card_last4, i.details, i.at
  FROM input i JOIN sandbox.tokens t ON t.provider = 'PayFast' AND t.token = i.token AND t.status = 'active' AND t.outcome = 'approve'
    AND t.card_bin = i.card_bin AND t.card_last4 = i.card_last4 AND t.expiry_month::int = i.expiry_month AND t.expiry_year::int = i.expiry_year
    AND t.notify_url IS NOT DISTINCT FROM i.notify_url
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), noticed AS (
  INSERT INTO sandbox.notifications (id, provider, url, content_type, body, headers)
  SELECT n.id, 'PayFast', n.url, n.content_type, n.body, n.headers
  FROM input i JOIN charged c ON c.id = i.pf_payment_id
  CROSS JOIN LATERAL jsonb_to_recordset(i.notices) AS n(id text, url text, content_type text, body text, headers jsonb)
  RETURNING 1
)
SELECT id FROM charged`,
};

interface ApprovedCharge {
  token: string;
  card: AdhocCard;
  pfPaymentId: string;
  mPaymentId: string | null;
  amountCents: number;
  details: Record<string, unknown>;
  at: Date;
  notices: readonly StoredNotice[];
}

/**
 * Charges an approving card read by readAdhoc under `pfPaymentId`, storing its notifications with it (each
 * built by the caller for that id). False when nothing was recorded (the card changed, or the id was drawn
 * before): the caller takes the general path.
 */
export function chargeApproved(ctx: SandboxContext, token: string, card: AdhocCard, input: Omit<ApprovedCharge, 'token' | 'card'>): Promise<boolean> {
  return groupOf(ctx).charges.write({ token, card, ...input });
}

/** The ad hoc charges' reads and approved charges of one sandbox, each written in groups. */
const groups = new WeakMap<SandboxContext, { reads: GroupWriter<string, AdhocRead | null>; charges: GroupWriter<ApprovedCharge, boolean> }>();
function groupOf(ctx: SandboxContext) {
  let g = groups.get(ctx);
  if (!g) {
    g = {
      reads: groupWriter<string, AdhocRead | null>({
        retryAlone: () => true, // reads write nothing
        writeMany: async (tokens) => {
          const rows = await ctx.database.query<Record<string, unknown>>(READ_ADHOC.text, [[...new Set(tokens)]], READ_ADHOC.name);
          const byToken = new Map(rows.map((row) => [String(row.token), adhocRead(row)]));
          return tokens.map((token) => byToken.get(token) ?? null);
        },
      }),
      charges: groupWriter<ApprovedCharge, boolean>({
        // A group committed whose answer was lost must not be charged again.
        retryAlone: nothingWritten,
        writeMany: async (charges) => {
          const input = charges.map((c) => ({
            token: c.token,
            m_payment_id: c.mPaymentId,
            pf_payment_id: c.pfPaymentId,
            amount_cents: c.amountCents,
            details: c.details,
            at: c.at.toISOString(),
            card_bin: c.card.cardBin,
            card_last4: c.card.cardLast4,
            expiry_month: c.card.expiryMonth,
            expiry_year: c.card.expiryYear,
            notify_url: c.card.notifyUrl,
            notices: c.notices.map((n) => ({ id: n.id, url: n.url, content_type: n.headers['content-type'], body: n.body, headers: n.headers })),
          }));
          const rows = await ctx.database.query<{ id: string }>(CHARGE_APPROVED.text, [JSON.stringify(input)], CHARGE_APPROVED.name);
          const charged = new Set(rows.map((r) => r.id));
          return charges.map((c) => charged.has(c.pfPaymentId));
        },
      }),
    };
    groups.set(ctx, g);
  }
  return g;
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
