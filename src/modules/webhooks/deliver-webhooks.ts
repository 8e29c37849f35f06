import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { and, asc, eq, inArray, lte } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { payloadBody } from './enqueue-event.ts';
import { webhookSecretContext } from './endpoints.ts';
import { outboxEvents, webhookAttempts, webhookDeliveries, webhookEndpoints } from './schema.ts';
import { EXCERPT_CHARS, postWebhook } from './post-webhook.ts';
import { signatureHeader } from './signature.ts';
import { checkTarget, systemResolver } from './target-policy.ts';

/** A claimed delivery is leased for this long; if its worker dies, it is due again afterwards. */
export const LEASE_MS = 2 * 60_000;
export const REQUEST_TIMEOUT_MS = 10_000;
export const MAX_BACKOFF_MS = 6 * 60 * 60_000;
/** Deliveries posted at once by one worker. */
const CONCURRENCY = 8;

type DeliverContext = Pick<AppContext, 'database' | 'vault' | 'config' | 'log' | 'resolveHost'>;

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  sealedSecret: string;
  /** Attempts made before this claim. */
  attempts: number;
  payload: unknown;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
}

/** The wait after the `attempts`-th failed attempt: base × 2^(attempts−1), at most 6 hours. */
export const backoffDelay = (attempts: number, baseMs: number): number => Math.min(baseMs * 2 ** Math.max(attempts - 1, 0), MAX_BACKOFF_MS);

/**
 * Claim due deliveries (pending, `next_attempt_at` ≤ now, endpoint enabled) with `FOR UPDATE SKIP
 * LOCKED` and lease them by moving `next_attempt_at` to now + 2 min, in one short transaction. A
 * disabled endpoint's deliveries wait, and go out once it is enabled again.
 */
export async function claimDueDeliveries(ctx: Pick<AppContext, 'database'>, now: Date, limit: number): Promise<ClaimedDelivery[]> {
  return ctx.database.db.transaction(async (tx) => {
    const due = await tx
      .select({
        id: webhookDeliveries.id,
        eventId: webhookDeliveries.eventId,
        eventType: outboxEvents.type,
        endpointId: webhookDeliveries.endpointId,
        url: webhookEndpoints.url,
        sealedSecret: webhookEndpoints.sealedSecret,
        attempts: webhookDeliveries.attempts,
        payload: outboxEvents.payload,
      })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .innerJoin(outboxEvents, eq(outboxEvents.id, webhookDeliveries.eventId))
      .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now), eq(webhookEndpoints.enabled, true)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(limit)
      .for('update', { of: webhookDeliveries, skipLocked: true });
    if (due.length === 0) return [];
    await tx
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(now.getTime() + LEASE_MS), updatedAt: now })
      .where(inArray(webhookDeliveries.id, due.map((d) => d.id)));
    return due;
  });
}

/**
 * Post due deliveries to their endpoints and record each attempt (SPEC §7). The claim commits before
 * any request is made: no transaction is held across HTTP (PGlite has one session, and the receiver may
 * be payrail itself). At least once: a crash after the POST and before the record sends it again, so
 * receivers dedupe on `payrail-event-id`. Returns the number of attempts made.
 */
export async function deliverWebhooks(ctx: DeliverContext, options: { now: Date; limit?: number }): Promise<number> {
  const { now, limit = 20 } = options;
  const claimed = await claimDueDeliveries(ctx, now, limit);
  const queue = [...claimed];
  const worker = async () => {
    for (let d = queue.shift(); d; d = queue.shift()) await attempt(ctx, d, now);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, claimed.length) }, worker));
  return claimed.length;
}

async function attempt(ctx: DeliverContext, d: ClaimedDelivery, now: Date): Promise<void> {
  const body = payloadBody(d.payload);
  const started = performance.now();
  let outcome: Outcome;
  let secret: string | null = null;
  try {
    secret = ctx.vault.open(d.sealedSecret, webhookSecretContext(d.endpointId));
  } catch {
    // Only a changed encryption key does this; rotating the endpoint's secret mends it.
    outcome = { statusCode: null, error: 'The signing secret cannot be opened; rotate the endpoint secret.', excerpt: null };
  }
  if (secret !== null) {
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'payrail-webhooks/1',
      'payrail-event-id': d.eventId,
      'payrail-event-type': d.eventType,
      'payrail-delivery-id': d.id,
      'payrail-signature': signatureHeader(secret, body, Math.floor(now.getTime() / 1000)),
    };
    outcome = await post(ctx, d.url, body, headers);
  }
  await record(ctx, d, now, outcome!, Math.round(performance.now() - started));
}

/**
 * The endpoint's URL is checked again now (its name may resolve elsewhere than when it was saved): a
 * forbidden target is a failed attempt, retried like any other, and nothing connects to it.
 */
async function post(ctx: DeliverContext, endpointUrl: string, body: string, headers: Record<string, string>): Promise<Outcome> {
  let url: URL;
  try {
    url = new URL(endpointUrl);
  } catch {
    return { statusCode: null, error: 'Not sent: the endpoint URL cannot be read; change it.', excerpt: null };
  }
  const target = await checkTarget(url, { sandbox: ctx.config.sandbox, allowedHosts: ctx.config.webhooks.allowedHosts }, ctx.resolveHost ?? systemResolver);
  if (!target.ok) return { statusCode: null, error: clean(`Not sent: ${target.reason}.`), excerpt: null };
  try {
    const res = await postWebhook(url, body, headers, { addresses: target.addresses, timeoutMs: REQUEST_TIMEOUT_MS });
    // A redirect is a failure: the signed request goes to the configured URL and nowhere else.
    const redirect = res.statusCode >= 300 && res.statusCode < 400;
    return { statusCode: res.statusCode || null, error: redirect ? 'Redirects are not followed; answer 2xx at the endpoint URL itself.' : null, excerpt: clean(res.excerpt) || null };
  } catch (err) {
    return { statusCode: null, error: describeFailure(err), excerpt: null };
  }
}

function describeFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `No answer within ${REQUEST_TIMEOUT_MS / 1000} s.`;
  return clean(e.cause?.message ?? e.cause?.code ?? e.message ?? String(err)) || 'The request failed.';
}

/** PostgreSQL text holds no NUL; the log keeps the first 200 characters. */
const clean = (text: string): string => text.replaceAll('\u0000', '').slice(0, EXCERPT_CHARS);

async function record(ctx: DeliverContext, d: ClaimedDelivery, now: Date, outcome: Outcome, durationMs: number): Promise<void> {
  const attempts = d.attempts + 1;
  const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const exhausted = !ok && attempts >= ctx.config.jobs.webhookMaxAttempts;
  const status = ok ? 'delivered' : exhausted ? 'failed' : 'pending';
  await ctx.database.db.transaction(async (tx) => {
    const updated = await tx
      .update(webhookDeliveries)
      .set({
        status,
        attempts,
        lastStatusCode: outcome.statusCode,
        lastError: outcome.error,
        deliveredAt: ok ? now : null,
        nextAttemptAt: status === 'pending' ? new Date(now.getTime() + backoffDelay(attempts, ctx.config.jobs.webhookBackoffMs)) : now,
        updatedAt: now,
      })
      // Only if this worker still holds the claim: a lease that ran out may have gone to another.
      .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.status, 'pending'), eq(webhookDeliveries.attempts, d.attempts)))
      .returning({ id: webhookDeliveries.id });
    if (updated.length === 0) {
      ctx.log.warn({ delivery: d.id, attempt: attempts }, 'webhook delivery lease lost; attempt not recorded');
      return;
    }
    await tx
      .insert(webhookAttempts)
      .values({ id: randomUUID(), deliveryId: d.id, attempt: attempts, startedAt: now, durationMs, statusCode: outcome.statusCode, error: outcome.error, responseExcerpt: outcome.excerpt })
      .onConflictDoNothing();
  });
  const line = { delivery: d.id, endpoint: d.endpointId, event_type: d.eventType, attempt: attempts, status_code: outcome.statusCode, ms: durationMs, status };
  if (exhausted) ctx.log.warn(line, 'webhook delivery failed; giving up');
  else ctx.log.info(line, 'webhook attempt');
}
