import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../context.ts';
import type { Executor } from '../../db/client.ts';
import { nothingWritten } from '../../db/errors.ts';
import { httpFetch } from '../../lib/http-transport.ts';
import { groupWriter, type GroupWriter } from '../../lib/group-commit.ts';
import type { App } from '../../http/route-kit.ts';
import { sandboxBehaviours, sandboxNotifications, sandboxTransactions } from './schema.ts';

/**
 * What every sandbox shares: how it is mounted, its ledger, its behaviour settings, how it answers "the
 * response was lost", and how it sends notifications to the merchant.
 */

/** What a sandbox is given: its configuration, its tables, a clock and a log. Never payrail's connectors or use-cases. */
export type SandboxContext = Pick<AppContext, 'config' | 'database' | 'clock' | 'log'>;

export interface SandboxModule {
  /** Its name: served under `/sandbox/<name>`. */
  name: string;
  /** The provider name used in the sandbox tables (`sandbox.transactions.provider`). */
  provider: string;
  /** Registers the provider's routes on a scope already prefixed with `/sandbox/<name>`. */
  routes(scope: App, ctx: SandboxContext): void;
  /**
   * Other hosts of the provider, each served under its own prefix (`/sandbox/peach-card`): the connector's
   * settings declaration names the same paths.
   */
  hosts?: Readonly<Record<string, (scope: App, ctx: SandboxContext) => void>>;
  /** Its misbehaviour settings (README): defaults, and a check of a `PUT /behaviour` body. */
  behaviour?: BehaviourSpec;
}

export interface BehaviourSpec {
  defaults: Record<string, unknown>;
  /** The settings to store, or an error message naming the field. */
  parse(body: unknown): Record<string, unknown> | string;
}

export type LedgerRow = typeof sandboxTransactions.$inferSelect;

/** `GET /sandbox/<provider>/transactions[?merchant_reference=]`: every charge made or refused, oldest first. */
export function registerLedgerRoute(scope: App, ctx: SandboxContext, provider: string): void {
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

/** A notice is tried this many times in all: at once, then 1 s, 2 s, 4 s … later. */
const NOTICE_ATTEMPTS = 5;

/**
 * Sends a notification to the merchant in the background, as providers do: stored first, then POSTed,
 * retried with backoff (1 s, 2 s, 4 s …, `attempts` in all) until the merchant answers 2xx.
 * Returns the notification's id at once.
 */
export async function sendNotification(ctx: SandboxContext, n: Notification, options: NoticeOptions = {}): Promise<string> {
  const stored = await storeNotification(ctx.database.db, n, options);
  deliverNotification(ctx, stored);
  return stored.id;
}

export interface NoticeOptions {
  attempts?: number;
  firstDelayMs?: number;
  delayMs?: number;
}

/** A notification written, not yet sent. */
export interface StoredNotice {
  id: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  options: NoticeOptions;
}

/**
 * Writes a notification with `db` — the transaction that makes what it reports, so that a charge and its
 * notice are stored together or not at all (a provider that charged always notifies) — for
 * `deliverNotification` once that transaction has committed.
 */
export async function storeNotification(db: Executor, n: Notification, options: NoticeOptions = {}): Promise<StoredNotice> {
  const notice = newNotice(n, options);
  await writeNotice(db, n.provider, notice);
  return notice;
}

/** A notification as it will be stored (a fresh id, its headers), for a caller that writes it itself. */
export function newNotice(n: Notification, options: NoticeOptions = {}): StoredNotice {
  return { id: randomUUID(), url: n.url, body: n.body, headers: { 'content-type': n.contentType, ...(n.headers ?? {}) }, options };
}

/** Writes a notice made by newNotice, with `db` (see storeNotification). */
export async function writeNotice(db: Executor, provider: string, notice: StoredNotice): Promise<void> {
  await db.insert(sandboxNotifications).values({ id: notice.id, provider, url: notice.url, contentType: notice.headers['content-type']!, body: notice.body, headers: notice.headers });
}

export function deliverNotification(ctx: SandboxContext, n: StoredNotice): void {
  scheduleDelivery(ctx, n, { attempts: n.options.attempts ?? NOTICE_ATTEMPTS, firstDelayMs: n.options.firstDelayMs ?? 1_000, startAt: 1, delayMs: n.options.delayMs ?? 0 });
}

/**
 * Notices stored but not delivered when the sandbox stopped (its process died with payrail's): delivered
 * now, as a provider keeps retrying its notices whatever happened to the merchant.
 */
export async function resumeNotifications(ctx: SandboxContext, provider: string): Promise<number> {
  const n = sandboxNotifications;
  const due = await ctx.database.db
    .select()
    .from(n)
    .where(and(eq(n.provider, provider), sql`${n.deliveredAt} IS NULL`, sql`${n.attempts} < ${NOTICE_ATTEMPTS}`, sql`${n.createdAt} > ${new Date(ctx.clock().getTime() - 86_400_000)}`));
  for (const row of due) {
    scheduleDelivery(ctx, { id: row.id, url: row.url, body: row.body, headers: row.headers as Record<string, string> }, { attempts: NOTICE_ATTEMPTS, firstDelayMs: 1_000, startAt: row.attempts + 1, delayMs: 1_000 });
  }
  return due.length;
}

function scheduleDelivery(
  ctx: SandboxContext,
  notice: { id: string; url: string; body: string; headers: Record<string, string> },
  plan: { attempts: number; firstDelayMs: number; startAt: number; delayMs: number },
): void {
  const deliveries = inFlight(ctx);
  const deliver = async (attempt: number): Promise<void> => {
    // A sandbox that is shutting down sends nothing more (its next start resumes what is left).
    if (deliveries.closed) return;
    const run = attemptDelivery(attempt);
    deliveries.running.add(run);
    await run.finally(() => deliveries.running.delete(run));
  };
  const attemptDelivery = async (attempt: number): Promise<void> => {
    let status: number | null = null;
    try {
      const res = await httpFetch(notice.url, { method: 'POST', headers: notice.headers, body: notice.body, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
      status = res.status;
      await res.text().catch(() => undefined);
    } catch {
      status = null;
    }
    const delivered = status !== null && status >= 200 && status < 300;
    await deliveryLog(ctx).write({ id: notice.id, status, delivered_at: delivered ? new Date().toISOString() : null }).catch(() => undefined);
    if (!delivered && attempt < plan.attempts) setTimeout(() => void deliver(attempt + 1), plan.firstDelayMs * 2 ** (attempt - 1)).unref();
  };
  // A notice may be sent late (`delayMs`): providers deliver on their own schedule.
  if (plan.delayMs > 0) setTimeout(() => void deliver(plan.startAt).catch(() => undefined), plan.delayMs).unref();
  else setImmediate(() => void deliver(plan.startAt).catch(() => undefined));
}

/**
 * Delivery attempts of notices: each counted, with the status it met and when it was delivered. Attempts
 * made at about the same moment are written together (a notice's attempts are seconds apart, so one
 * group never holds two of the same notice).
 */
const DELIVERY_TRIED = {
  name: 'sandbox_notice_tried_v2',
  text: `UPDATE sandbox.notifications n SET attempts = n.attempts + 1, last_status = t.status, delivered_at = coalesce(t.delivered_at, n.delivered_at)
FROM jsonb_to_recordset($1::jsonb) AS t(id text, status int, delivered_at timestamptz) WHERE n.id = t.id`,
};

type DeliveryTried = { id: string; status: number | null; delivered_at: string | null };
const deliveryLogs = new WeakMap<SandboxContext, GroupWriter<DeliveryTried, void>>();
const deliveryLog = (ctx: SandboxContext): GroupWriter<DeliveryTried, void> => {
  let log = deliveryLogs.get(ctx);
  if (!log) {
    log = groupWriter<DeliveryTried, void>({
      retryAlone: nothingWritten,
      writeMany: async (tries) => {
        await ctx.database.query(DELIVERY_TRIED.text, [JSON.stringify(tries)], DELIVERY_TRIED.name);
        return tries.map(() => undefined);
      },
    });
    deliveryLogs.set(ctx, log);
  }
  return log;
};

/** Notices being delivered per sandbox context, so that closing can wait for them and stop further ones. */
const deliveriesOf = new WeakMap<SandboxContext, { closed: boolean; running: Set<Promise<void>> }>();
const inFlight = (ctx: SandboxContext) => {
  let d = deliveriesOf.get(ctx);
  if (!d) deliveriesOf.set(ctx, (d = { closed: false, running: new Set() }));
  return d;
};

/** Stops a sandbox's notices (when its server closes) and waits for those on their way. */
export async function stopNotifications(ctx: SandboxContext): Promise<void> {
  const d = inFlight(ctx);
  d.closed = true;
  await Promise.allSettled([...d.running]);
}

/** Amounts as providers write them: "379.00". */
export const formatRand = (cents: number): string => (cents / 100).toFixed(2);

/** "379.00" or "379" → 37900; null when it is not an amount. */
export function parseRand(value: string | undefined): number | null {
  if (value === undefined || !/^[0-9]{1,9}(\.[0-9]{1,2})?$/.test(value.trim())) return null;
  const [whole, frac = ''] = value.trim().split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

/** A sandbox's current behaviour settings: its defaults overlaid with what was stored. */
export async function behaviourOf<T extends Record<string, unknown>>(ctx: SandboxContext, provider: string, defaults: T): Promise<T> {
  const [row] = await ctx.database.db.select({ settings: sandboxBehaviours.settings }).from(sandboxBehaviours).where(eq(sandboxBehaviours.provider, provider)).limit(1);
  return { ...defaults, ...((row?.settings as Partial<T> | undefined) ?? {}) };
}

/**
 * `GET /sandbox/<name>/behaviour` shows the settings; `PUT` with a JSON object changes the fields it names
 * (the rest keep their values); `DELETE` restores the defaults. Stored in the sandbox schema, so every
 * payrail process sharing the database sees the same behaviour.
 */
export function registerBehaviourRoute(scope: App, ctx: SandboxContext, provider: string, spec: BehaviourSpec): void {
  scope.get('/behaviour', async () => behaviourOf(ctx, provider, spec.defaults));
  scope.put('/behaviour', async (request, reply) => {
    const parsed = spec.parse(request.body);
    if (typeof parsed === 'string') return reply.status(400).type('application/json; charset=utf-8').send({ message: parsed });
    const next = { ...(await behaviourOf(ctx, provider, spec.defaults)), ...parsed };
    const now = ctx.clock();
    await ctx.database.db
      .insert(sandboxBehaviours)
      .values({ provider, settings: next, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: sandboxBehaviours.provider, set: { settings: next, updatedAt: now } });
    return next;
  });
  scope.delete('/behaviour', async () => {
    await ctx.database.db.delete(sandboxBehaviours).where(eq(sandboxBehaviours.provider, provider));
    return spec.defaults;
  });
}
