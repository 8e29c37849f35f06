import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, lte } from 'drizzle-orm';
import { SYSTEM_ACTOR, type AppContext } from '../../context.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Provider } from '../../domain/enums.ts';
import type { AttemptResult, InboundRequest, VerifiedCallback } from '../../providers/contract.ts';
import { recordAudit } from '../audit/record.ts';
import { findMediumByToken } from '../mediums/repo.ts';
import { mediums } from '../mediums/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { services } from '../services/schema.ts';
import { enqueueEvent } from '../webhooks/enqueue-event.ts';
import { connectorContext } from './connector-context.ts';
import { payments, providerEvents } from './schema.ts';
import { settlePayment, type PaymentRow } from './settle-payment.ts';

/** Headers worth keeping with a callback; never cookies or authorisation. */
const KEPT_HEADERS = ['content-type', 'user-agent', 'x-forwarded-for', 'x-initialization-vector', 'x-authentication-tag', 'referer'];

export type CallbackVerdict = 'processed' | 'duplicate' | 'rejected' | 'unknown_payment' | 'ignored';

export interface CallbackOutcome {
  verdict: CallbackVerdict;
  reason: string | null;
  /** The attempt the callback was about, as it stands after processing. */
  payment: PaymentRow | null;
}

/**
 * Inbound provider callbacks (SPEC §7): stored first, raw, exactly as received — so nothing a provider
 * told us is lost, even if processing crashes — then verified and processed. A provider's event id is
 * stored once: a duplicate is absorbed. Processing goes through settle-payment, where a settled attempt
 * never moves again, so an out-of-order callback cannot move a payment backwards.
 */
export async function receiveCallback(ctx: AppContext, provider: Provider, request: InboundRequest): Promise<string> {
  const id = randomUUID();
  const headers = Object.fromEntries(KEPT_HEADERS.filter((h) => request.headers[h] !== undefined).map((h) => [h, request.headers[h]!]));
  await ctx.database.db.insert(providerEvents).values({
    id,
    provider,
    channel: request.channel,
    remoteAddress: request.remoteAddress,
    headers: { method: request.method, path: request.path, query: request.query, headers },
    body: request.rawBody,
    receivedAt: ctx.clock(),
  });
  return id;
}

/** Verify and apply a stored callback. Safe to run again (after a crash, or by the callbacks job). */
export async function processCallback(ctx: AppContext, eventRowId: string): Promise<CallbackOutcome> {
  const db = ctx.database.db;
  const [row] = await db.select().from(providerEvents).where(eq(providerEvents.id, eventRowId));
  if (!row) throw new Error(`no provider event ${eventRowId}`);
  const connector = ctx.connectors.get(row.provider);
  const stored = row.headers as { method: string; path: string; query: Record<string, string>; headers: Record<string, string> };
  const inbound: InboundRequest = {
    channel: row.channel as InboundRequest['channel'],
    method: stored.method,
    path: stored.path,
    query: stored.query,
    headers: stored.headers,
    rawBody: row.body,
    remoteAddress: row.remoteAddress ?? '',
  };
  const done = async (verdict: CallbackVerdict, reason: string | null, payment: PaymentRow | null, extra: Partial<typeof providerEvents.$inferInsert> = {}) => {
    await db
      .update(providerEvents)
      .set({ processedAt: ctx.clock(), outcome: reason ? `${verdict}: ${reason}` : verdict, ...(payment ? { paymentId: payment.id } : {}), ...extra })
      .where(eq(providerEvents.id, row.id));
    ctx.telemetry.callbacks.inc({ provider: row.provider, channel: row.channel, verdict });
    return { verdict, reason, payment };
  };

  const verdict = connector.verifyCallback ? await connector.verifyCallback(inbound, connectorContext(ctx, row.provider)) : { ok: false as const, reason: 'this provider sends no callbacks' };
  if (!verdict.ok) {
    ctx.log.warn({ provider: row.provider, channel: row.channel, eventRowId: row.id, reason: verdict.reason, remoteAddress: row.remoteAddress }, 'rejected a provider callback that did not verify');
    return done('rejected', verdict.reason, null, { verified: false, rejection: verdict.reason });
  }
  const callback = verdict.callback;
  const payment = callback.merchantReference ? await findPayment(ctx, row.provider, callback.merchantReference) : null;

  try {
    await db
      .update(providerEvents)
      .set({ verified: true, rejection: null, eventId: `${row.channel}:${callback.eventId}`, merchantReference: callback.merchantReference, occurredAt: callback.occurredAt, ...(payment ? { paymentId: payment.id } : {}) })
      .where(eq(providerEvents.id, row.id));
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return done('duplicate', `event ${callback.eventId} was received before`, payment, { verified: true });
  }

  if (callback.kind === 'token_update') return done(...(await applyTokenUpdate(ctx, row.provider, callback)), null);
  if (!payment) {
    ctx.log.warn({ provider: row.provider, eventRowId: row.id }, 'a verified callback names no payment of ours');
    return done('unknown_payment', `no attempt with reference ${callback.merchantReference}`, null);
  }

  // The browser's return is only a hint (Peach posts to the success URL even when the payment failed):
  // the provider is asked for the real result.
  let result: AttemptResult = callback.result;
  if (row.channel === 'redirect' && connector.lookup) {
    result = await connector.lookup(
      { kind: payment.kind === 'token' ? 'token' : payment.kind === 'link' ? 'link' : 'hosted', merchantReference: payment.merchantReference, providerReference: callback.providerReference ?? payment.providerReference, amount: { amountCents: payment.amountCents, currency: 'ZAR' } },
      connectorContext(ctx, row.provider),
    );
  }
  // A callback for another amount than the attempt's is not about our payment (PayFast's rule: within R0.01).
  const reported = callback.result.amount;
  if (row.channel !== 'redirect' && reported && (reported.currency !== payment.currency || Math.abs(reported.amountCents - payment.amountCents) > 1)) {
    const reason = `amount ${reported.currency} ${(reported.amountCents / 100).toFixed(2)} differs from the attempt's ${(payment.amountCents / 100).toFixed(2)}`;
    ctx.log.warn({ provider: row.provider, channel: row.channel, eventRowId: row.id, paymentId: payment.id, reason }, 'rejected a provider callback for another amount');
    return done('rejected', reason, payment, { rejection: reason });
  }
  const settled = await settlePayment(ctx, { paymentId: payment.id, result, via: row.channel === 'redirect' ? 'redirect' : 'callback' });
  return done(settled.conflict ? 'ignored' : 'processed', settled.conflict, settled.payment);
}

/** The collector of the service an attempt pays for (the Peach redirect names it in its path). */
export async function collectorOfPayment(ctx: AppContext, payment: PaymentRow): Promise<string | null> {
  const [row] = await ctx.database.db
    .select({ collectorId: services.collectorId })
    .from(purchases)
    .innerJoin(services, eq(services.id, purchases.serviceId))
    .where(eq(purchases.id, payment.purchaseId));
  return row?.collectorId ?? null;
}

async function findPayment(ctx: AppContext, provider: Provider, merchantReference: string): Promise<PaymentRow | null> {
  const [p] = await ctx.database.db
    .select()
    .from(payments)
    .where(and(eq(payments.provider, provider), eq(payments.merchantReference, merchantReference)));
  return p ?? null;
}

/** A tokenised card was replaced at the provider (PayFast card update): the medium shows the new card. */
async function applyTokenUpdate(ctx: AppContext, provider: Provider, callback: VerifiedCallback): Promise<[CallbackVerdict, string | null]> {
  const update = callback.tokenUpdate;
  if (!update) return ['ignored', 'token update without a token'];
  return ctx.database.db.transaction(async (tx) => {
    const medium = await findMediumByToken(tx, ctx.vault, provider, update.token);
    if (!medium) return ['unknown_payment', 'no medium holds this token'] as [CallbackVerdict, string];
    const now = ctx.clock();
    await tx
      .update(mediums)
      .set({
        status: 'Valid',
        ...(update.accountNumber ? { accountNumber: update.accountNumber.slice(-4) } : {}),
        ...(update.expiryMonth ? { expiryMonth: update.expiryMonth } : {}),
        ...(update.expiryYear ? { expiryYear: update.expiryYear } : {}),
        updatedAt: now,
      })
      .where(eq(mediums.id, medium.id));
    await recordAudit(tx, SYSTEM_ACTOR, { operatorId: medium.operatorId!, entityType: 'medium', entityId: medium.id, action: 'medium.card_updated', fromState: medium.status, toState: 'Valid' });
    await enqueueEvent(tx, { operatorId: medium.operatorId!, type: 'medium.updated', data: { medium_id: medium.id, customer_id: medium.customerId, medium_type: medium.mediumType, provider, status: 'Valid' } }, now);
    return ['processed', null] as [CallbackVerdict, null];
  });
}

/**
 * Callbacks stored but never processed (the process died after storing one, or processing failed):
 * processed again once they are `olderThanMs` old. Each is claimed by leasing its row's `received_at`
 * forward, so two workers do not process one callback at the same time.
 */
export async function processStaleCallbacks(ctx: AppContext, options: { now?: Date; olderThanMs?: number; limit?: number } = {}): Promise<number> {
  const now = options.now ?? ctx.clock();
  const cutoff = new Date(now.getTime() - (options.olderThanMs ?? 30_000));
  const ids = await ctx.database.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: providerEvents.id })
      .from(providerEvents)
      .where(and(isNull(providerEvents.processedAt), lte(providerEvents.receivedAt, cutoff)))
      .orderBy(asc(providerEvents.receivedAt))
      .limit(options.limit ?? 25)
      .for('update', { skipLocked: true });
    if (due.length > 0) await tx.update(providerEvents).set({ receivedAt: now }).where(inArray(providerEvents.id, due.map((d) => d.id)));
    return due.map((d) => d.id);
  });
  for (const id of ids) {
    try {
      await processCallback(ctx, id);
    } catch (err) {
      ctx.log.error({ err, eventRowId: id }, 'processing a stored provider callback failed; it will be retried');
    }
  }
  return ids.length;
}
