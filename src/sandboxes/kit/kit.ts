import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import type { ProviderName } from '../../config.ts';
import type { AppContext } from '../../context.ts';
import type { App } from '../../http/route-kit.ts';
import { sandboxNotifications, sandboxTransactions } from './schema.ts';

/**
 * What every sandbox shares: how it is mounted, its ledger, how it answers "the response was lost", and
 * how it sends notifications to the merchant.
 */
export interface SandboxModule {
  name: ProviderName;
  /** The provider name used in the ledger (`sandbox.transactions.provider`). */
  provider: string;
  /** Registers the provider's routes on a scope already prefixed with `/sandbox/<name>`. */
  routes(scope: App, ctx: AppContext): void;
}

export type LedgerRow = typeof sandboxTransactions.$inferSelect;

/** `GET /sandbox/<provider>/transactions[?merchant_reference=]`: every charge made or refused, oldest first. */
export function registerLedgerRoute(scope: App, ctx: AppContext, provider: string): void {
  scope.get('/transactions', { config: { public: true }, schema: { hide: true } }, async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const where = [eq(sandboxTransactions.provider, provider)];
    if (typeof q.merchant_reference === 'string') where.push(eq(sandboxTransactions.merchantReference, q.merchant_reference));
    if (typeof q.status === 'string') where.push(eq(sandboxTransactions.status, q.status));
    const rows = await ctx.database.db.select().from(sandboxTransactions).where(and(...where)).orderBy(asc(sandboxTransactions.createdAt), asc(sandboxTransactions.id)).limit(1_000_000);
    return {
      items: rows.map((r) => ({
        id: r.id,
        merchant_reference: r.merchantReference,
        kind: r.kind,
        amount: (r.amountCents / 100).toFixed(2),
        amount_cents: r.amountCents,
        currency: r.currency,
        status: r.status,
        result_code: r.resultCode,
        result_description: r.resultDescription,
        card: r.cardLast4 ? { bin: r.cardBin, last4: r.cardLast4 } : null,
        token_used: r.token !== null,
        session_id: r.sessionId,
        details: r.details,
        created_at: r.createdAt.toISOString(),
      })),
    };
  });
}

/**
 * Test card …0119: the provider did the work but the answer never reaches the merchant. The connection
 * is held for `PAYRAIL_SANDBOX_LOST_RESPONSE_MS` and then dropped without a response.
 */
export function loseResponse(reply: FastifyReply, afterMs: number): FastifyReply {
  reply.hijack();
  const socket = reply.raw.socket;
  const drop = () => socket?.destroy();
  if (afterMs <= 0) drop();
  else setTimeout(drop, afterMs).unref();
  return reply;
}

export interface Notification {
  provider: string;
  url: string;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/**
 * Sends a notification to the merchant in the background, as providers do: stored first, then POSTed,
 * retried with backoff (1 s, 2 s, 4 s …, `attempts` in all) until the merchant answers 2xx.
 * Returns the notification's id at once.
 */
export async function sendNotification(ctx: AppContext, n: Notification, options: { attempts?: number; firstDelayMs?: number } = {}): Promise<string> {
  const id = randomUUID();
  const headers = { 'content-type': n.contentType, ...(n.headers ?? {}) };
  await ctx.database.db.insert(sandboxNotifications).values({ id, provider: n.provider, url: n.url, contentType: n.contentType, body: n.body, headers });
  const attempts = options.attempts ?? 5;
  const deliver = async (attempt: number): Promise<void> => {
    let status: number | null = null;
    try {
      const res = await fetch(n.url, { method: 'POST', headers, body: n.body, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = null;
    }
    const delivered = status !== null && status >= 200 && status < 300;
    await ctx.database.db
      .update(sandboxNotifications)
      .set({ attempts: sql`${sandboxNotifications.attempts} + 1`, lastStatus: status, ...(delivered ? { deliveredAt: new Date() } : {}) })
      .where(eq(sandboxNotifications.id, id))
      .catch(() => undefined);
    if (!delivered && attempt < attempts) setTimeout(() => void deliver(attempt + 1), (options.firstDelayMs ?? 1_000) * 2 ** (attempt - 1)).unref();
  };
  setImmediate(() => void deliver(1).catch(() => undefined));
  return id;
}

/** Amounts as providers write them: "379.00". */
export const formatRand = (cents: number): string => (cents / 100).toFixed(2);

/** "379.00" or "379" → 37900; null when it is not an amount. */
export function parseRand(value: string | undefined): number | null {
  if (value === undefined || !/^[0-9]{1,9}(\.[0-9]{1,2})?$/.test(value.trim())) return null;
  const [whole, frac = ''] = value.trim().split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}
