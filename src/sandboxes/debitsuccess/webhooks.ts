import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { httpFetch } from '../../lib/http-transport.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxNotifications } from '../kit/schema.ts';
import { behaviourNow, webhookUrlOf } from './behaviour.ts';
import { debitsuccessState } from './schema.ts';
import { readState } from './state.ts';

/**
 * Debitsuccess's webhooks: stored in the kit's notifications table, then POSTed to the facility's webhook
 * URL; a failed delivery is retried 3 times 180 s apart (by the sandbox's clock), and after the fourth
 * failure the facility's webhook is disabled — nothing more is sent, and notices not yet delivered are
 * abandoned — until `POST /sandbox/debitsuccess/webhook/enable`.
 *
 * NOTE: stored under their own provider name, so the kit's restart resume (exponential backoff, no disabling)
 * leaves them alone: this file's pump delivers them, after a restart too.
 */
export const WEBHOOK_PROVIDER = 'Debitsuccess.webhook';
export const ATTEMPTS = 4;
export const RETRY_AFTER_MS = 180_000;
/** How often, in real time, a sandbox with notices still to deliver looks for one that is due. */
const PUMP_EVERY_MS = 200;

export interface Webhook {
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** The facility's webhook URL now: read it before opening the transaction that stores webhooks (PGlite has one connection). */
export const facilityWebhookUrl = async (ctx: SandboxContext): Promise<string> => webhookUrlOf(ctx, await behaviourNow(ctx));

/**
 * Stores webhooks for `url` with `db` (the transaction that makes what they report); `kick` once it has
 * committed. None while the webhook is disabled.
 */
export async function storeWebhooks(ctx: SandboxContext, db: Executor, url: string, webhooks: Webhook[], now: Date): Promise<number> {
  if (webhooks.length === 0) return 0;
  const state = await readState(db, now);
  if (state.webhookDisabledAt !== null) {
    ctx.log.warn({ count: webhooks.length }, 'Debitsuccess sandbox: the facility webhook is disabled; notices not sent');
    return 0;
  }
  await db.insert(sandboxNotifications).values(
    webhooks.map((w) => ({
      id: randomUUID(),
      provider: WEBHOOK_PROVIDER,
      url,
      contentType: 'application/json',
      body: JSON.stringify(w.body),
      headers: { 'content-type': 'application/json', ...(w.headers ?? {}) },
      createdAt: now,
    })),
  );
  return webhooks.length;
}

/** Delivers every notice that is due, one at a time, oldest first; returns how many remain to deliver. */
async function pumpOnce(ctx: SandboxContext): Promise<number> {
  const db = ctx.database.db;
  const n = sandboxNotifications;
  const state = await readState(db, ctx.clock());
  if (state.webhookDisabledAt !== null) return 0;
  const rows = await db
    .select()
    .from(n)
    .where(and(eq(n.provider, WEBHOOK_PROVIDER), isNull(n.deliveredAt), lt(n.attempts, ATTEMPTS), gte(n.createdAt, state.webhookEnabledAt ?? new Date(0))))
    .orderBy(asc(n.createdAt), asc(n.id))
    .limit(100);
  let remaining = rows.length;
  for (const row of rows) {
    const now = ctx.clock();
    if (row.createdAt.getTime() + row.attempts * RETRY_AFTER_MS > now.getTime()) continue;
    // Claimed first: of several processes sharing the database, one makes each attempt.
    const [claimed] = await db.update(n).set({ attempts: row.attempts + 1 }).where(and(eq(n.id, row.id), eq(n.attempts, row.attempts), isNull(n.deliveredAt))).returning({ id: n.id });
    if (!claimed) continue;
    let status: number | null = null;
    try {
      const res = await httpFetch(row.url, { method: 'POST', headers: row.headers as Record<string, string>, body: row.body, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
      status = res.status;
      await res.text().catch(() => undefined);
    } catch {
      status = null;
    }
    const delivered = status === 200;
    await db.update(n).set({ lastStatus: status, ...(delivered ? { deliveredAt: ctx.clock() } : {}) }).where(eq(n.id, row.id));
    if (delivered || row.attempts + 1 >= ATTEMPTS) remaining--;
    if (!delivered && row.attempts + 1 >= ATTEMPTS) {
      await db.update(debitsuccessState).set({ webhookDisabledAt: ctx.clock(), updatedAt: ctx.clock() }).where(and(eq(debitsuccessState.id, 1), isNull(debitsuccessState.webhookDisabledAt)));
      ctx.log.warn({ url: row.url }, 'Debitsuccess sandbox: webhook failed 4 times; the facility webhook is disabled');
      return 0;
    }
  }
  return remaining;
}

interface Pump {
  closed: boolean;
  running: Promise<void> | null;
  again: boolean;
  timer: NodeJS.Timeout | null;
}
const pumps = new WeakMap<SandboxContext, Pump>();
const pumpOf = (ctx: SandboxContext): Pump => {
  let p = pumps.get(ctx);
  if (!p) pumps.set(ctx, (p = { closed: false, running: null, again: false, timer: null }));
  return p;
};

/** Delivers what is due now, and keeps looking (every 200 ms) while notices remain undelivered. */
export function kickWebhooks(ctx: SandboxContext): void {
  const p = pumpOf(ctx);
  if (p.closed) return;
  if (p.running) {
    p.again = true;
    return;
  }
  p.running = (async () => {
    let remaining = 0;
    do {
      p.again = false;
      remaining = await pumpOnce(ctx).catch((err: unknown) => {
        ctx.log.warn({ err }, 'Debitsuccess sandbox: webhook delivery failed');
        return 1;
      });
    } while (p.again && !p.closed);
    if (remaining > 0 && !p.timer && !p.closed) p.timer = setInterval(() => kickWebhooks(ctx), PUMP_EVERY_MS).unref();
    if (remaining === 0 && p.timer) {
      clearInterval(p.timer);
      p.timer = null;
    }
  })().finally(() => (p.running = null));
}

/** Stops the pump (the server is closing) and waits for a delivery on its way. */
export async function stopWebhooks(ctx: SandboxContext): Promise<void> {
  const p = pumpOf(ctx);
  p.closed = true;
  if (p.timer) clearInterval(p.timer);
  await p.running?.catch(() => undefined);
}

/** `POST /webhook/enable`: the merchant fixed its receiver; notices from now on are delivered. */
export async function enableWebhook(ctx: SandboxContext): Promise<void> {
  const now = ctx.clock();
  await readState(ctx.database.db, now);
  await ctx.database.db.update(debitsuccessState).set({ webhookDisabledAt: null, webhookEnabledAt: now, updatedAt: now }).where(eq(debitsuccessState.id, 1));
}

/** `GET /webhook`: where it goes, whether it is on, and how many notices wait. */
export async function webhookStatus(ctx: SandboxContext) {
  const now = ctx.clock();
  const state = await readState(ctx.database.db, now);
  const n = sandboxNotifications;
  const [row] = await ctx.database.db
    .select({ count: sql<number>`count(*)::int` })
    .from(n)
    .where(and(eq(n.provider, WEBHOOK_PROVIDER), isNull(n.deliveredAt), lt(n.attempts, ATTEMPTS), gte(n.createdAt, state.webhookEnabledAt ?? new Date(0))));
  return {
    url: webhookUrlOf(ctx, await behaviourNow(ctx)),
    enabled: state.webhookDisabledAt === null,
    disabledAt: state.webhookDisabledAt?.toISOString() ?? null,
    undelivered: state.webhookDisabledAt === null ? Number(row?.count ?? 0) : 0,
  };
}
