import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxSessions } from '../kit/schema.ts';
import { behaviourNow } from './behaviour.ts';
import { answer, messageOf, transmissionDateTime, VODAPAY_SANDBOX_MERCHANT, type Answer, type ResponseData } from './merchant.ts';
import { vodapayRequests, type VodapayRequestRow } from './schema.ts';

/**
 * traceIds (README.md, "Repeats"): unique per merchant across Recurring and SubmitRecurring, by a unique
 * index, so that of many concurrent requests with one traceId (in any number of processes) one is worked on
 * and every other is a repeat. A repeat answers the original's result, or D3, D4, 26.
 */
export type RequestKind = 'Recurring' | 'SubmitRecurring';
const MERCHANT = VODAPAY_SANDBOX_MERCHANT.apiKey;

export interface Claim {
  kind: RequestKind;
  traceId: string;
  amountCents: number;
  paymentToken: string | null;
  status: 'processing' | 'open';
  sessionId: string;
  transactionId: string;
  result?: ResponseData;
}

/** Claims a traceId; false when it was already taken (the request is a repeat). */
export async function claim(db: Executor, c: Claim, now: Date): Promise<boolean> {
  const rows = await db
    .insert(vodapayRequests)
    .values({ id: c.transactionId, merchant: MERCHANT, traceId: c.traceId, kind: c.kind, amountCents: c.amountCents, paymentToken: c.paymentToken, status: c.status, sessionId: c.sessionId, transactionId: c.transactionId, result: c.result ?? null, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning({ id: vodapayRequests.id });
  return rows.length === 1;
}

/** Records a request's result, what its repeats answer from now on. */
export async function finish(db: Executor, transactionId: string, result: ResponseData, now: Date): Promise<void> {
  await db.update(vodapayRequests).set({ status: 'done', result, updatedAt: now }).where(eq(vodapayRequests.id, transactionId));
}

export async function findRequest(db: Executor, traceId: string): Promise<VodapayRequestRow | null> {
  const [row] = await db.select().from(vodapayRequests).where(and(eq(vodapayRequests.merchant, MERCHANT), eq(vodapayRequests.traceId, traceId))).limit(1);
  return row ?? null;
}

export interface Incoming {
  kind: RequestKind;
  traceId: string;
  echoData: string | null;
  amountCents: number;
  paymentToken: string | null;
}

/** The answer to a request whose traceId was taken. */
export async function repeatAnswer(ctx: SandboxContext, incoming: Incoming): Promise<Answer> {
  const now = ctx.clock();
  const style = incoming.kind === 'SubmitRecurring' ? 'submit' : 'initiate';
  const row = await findRequest(ctx.database.db, incoming.traceId);
  const base = { echoData: incoming.echoData, transmissionDateTime: transmissionDateTime(now, style), traceId: incoming.traceId };
  const bare = (code: '26' | 'D3', detail?: string) => answer({ ...base, responseCode: code, responseMessage: messageOf(code, detail), sessionId: null, transactionId: null });
  // Claimed and gone again cannot happen (rows are never deleted); answered as in progress all the same.
  if (!row) return answer({ ...base, responseCode: 'D4', responseMessage: messageOf('D4'), sessionId: null, transactionId: null });
  if ((await behaviourNow(ctx)).repeat_answer === 'duplicate') return bare('26');
  if (row.kind !== incoming.kind) return bare('D3', `traceId was used for ${row.kind}`);
  if (row.amountCents !== incoming.amountCents) return bare('D3', 'amount differs from the original');
  if (row.paymentToken !== incoming.paymentToken) return bare('D3', 'paymentToken differs from the original');
  const ids = { sessionId: row.sessionId, transactionId: row.transactionId };
  if (row.status === 'processing') return answer({ ...base, ...ids, responseCode: 'D4', responseMessage: messageOf('D4') });
  if (row.status === 'open') {
    const expired = await expireIfDue(ctx, row, now);
    if (!expired) {
      const initiationUrl = (row.result as ResponseData | null)?.initiationUrl;
      return answer({ ...base, ...ids, responseCode: 'D4', responseMessage: messageOf('D4', 'the payment page is still open'), ...(initiationUrl ? { initiationUrl } : {}) });
    }
    return answer({ ...expired, ...base });
  }
  return answer({ ...(row.result as ResponseData), ...base });
}

/** How long a payment page may be paid after initiation. */
export const SESSION_LIFETIME_MS = 30 * 60_000;

/**
 * An initiation whose page expired unpaid: its result becomes 06 "Error: the payment page expired unpaid"
 * (no charge, no notification). Null while the page can still be paid.
 */
export async function expireIfDue(ctx: SandboxContext, row: VodapayRequestRow, now: Date): Promise<ResponseData | null> {
  const [session] = await ctx.database.db.select().from(sandboxSessions).where(eq(sandboxSessions.id, row.sessionId)).limit(1);
  if (session && session.status === 'open' && (session.expiresAt === null || session.expiresAt > now)) return null;
  const result: ResponseData = {
    echoData: null,
    responseCode: '06',
    responseMessage: messageOf('06', 'the payment page expired unpaid'),
    transmissionDateTime: transmissionDateTime(now, 'initiate'),
    sessionId: row.sessionId,
    transactionId: row.transactionId,
    traceId: row.traceId,
  };
  return ctx.database.transaction(async ({ db: tx }) => {
    await tx.update(sandboxSessions).set({ status: 'expired', updatedAt: now }).where(and(eq(sandboxSessions.id, row.sessionId), eq(sandboxSessions.status, 'open')));
    const [updated] = await tx.update(vodapayRequests).set({ status: 'done', result, updatedAt: now }).where(and(eq(vodapayRequests.id, row.id), eq(vodapayRequests.status, 'open'))).returning();
    if (updated) return result;
    // The page was paid or cancelled meanwhile: its result stands.
    const [current] = await tx.select().from(vodapayRequests).where(eq(vodapayRequests.id, row.id));
    return current!.result as ResponseData;
  });
}
