import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNull, lte } from 'drizzle-orm';
import { SYSTEM_ACTOR, type AppContext } from '../../context.ts';
import { isUniqueViolation, nothingWritten } from '../../db/errors.ts';
import { run, statement } from '../../db/statement.ts';
import { groupWriter, type GroupWriter } from '../../lib/group-commit.ts';
import type { Provider } from '../../domain/enums.ts';
import type { AttemptResult, CallbackVerdict, Connector, InboundRequest, VerifiedCallback } from '../../providers/contract.ts';
import { recordAudit } from '../audit/record.ts';
import { captureOfNotice, completeCapture } from '../mediums/capture-medium.ts';
import { findMediumByToken } from '../mediums/repo.ts';
import { mediums } from '../mediums/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { services } from '../services/schema.ts';
import { enqueueEvent } from '../webhooks/enqueue-event.ts';
import { claimLookupSlot } from './call-slots.ts';
import { connectorContext, partiesOfPayment, lookupInputOf } from './connector-context.ts';
import { toPaymentRow, type PaymentRow } from './repo.ts';
import { payments, providerEvents } from './schema.ts';
import { applyReturnNotice } from './record-return.ts';
import { settlePayment } from './settle-payment.ts';

/**
 * Headers never kept with a callback (credentials of whoever sent it). Every other header is kept: a
 * provider's signature may be in any of them, and the stored callback is verified again after a crash.
 */
const DROPPED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** A stored callback is processed in the request (or right after it); if that dies, the callbacks job takes it this much later. */
const FIRST_RETRY_MS = 30_000;
/** A callback that cannot be verified yet (the provider's confirmation service did not answer) is tried for this long, then rejected. */
const RETRY_FOR_MS = 24 * 60 * 60_000;
/** Between tries: 30 s doubling, at most an hour. */
const retryDelayMs = (attempts: number): number => Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), 3_600_000);

export type CallbackDisposition = 'processed' | 'duplicate' | 'rejected' | 'unknown_payment' | 'ignored' | 'retry';

export interface CallbackOutcome {
  verdict: CallbackDisposition;
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
export async function receiveCallback(ctx: AppContext, provider: Provider, request: InboundRequest): Promise<StoredCallback> {
  const id = randomUUID();
  const now = ctx.clock();
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !DROPPED_HEADERS.has(name.toLowerCase())));
  const stored = {
    id,
    provider,
    channel: request.channel,
    remoteAddress: request.remoteAddress,
    // As received, but for NUL characters (a `%00` in the query), which PostgreSQL's jsonb cannot hold.
    headers: withoutNul({ method: request.method, path: request.path, url: request.url, query: request.query, headers }),
    // Sealed: a callback carries the provider's tokens (PayFast's token, Peach's registrationId), which are
    // kept nowhere in the clear. Bound to this row, opened only to verify and process it.
    body: ctx.vault.seal(request.rawBody, bodyContext(id)),
    // What it says it is about, unverified (verification sets the real one): holds the janitor back.
    merchantReference: claimedReference(ctx, provider, request),
    receivedAt: now,
    nextAttemptAt: new Date(now.getTime() + FIRST_RETRY_MS),
  };
  // Stored, and in the same statement recorded as processed if it only repeats what its attempt settled;
  // with the other callbacks arriving at the same moment, in one statement (receiverOf).
  const row = await receiverOf(ctx).write({
    ...stored,
    headers: JSON.stringify(stored.headers),
    ...(await repeatOf(ctx, provider, request).catch((err: unknown) => {
      // Whatever went wrong, the callback is stored; processing verifies it fully.
      ctx.log.warn({ provider, err: (err as Error).message }, 'could not check whether a provider callback repeats a settled attempt');
      return NO_REPEAT;
    })),
  });
  const processed = row?.payment_id != null;
  if (processed) ctx.telemetry.callbacks.inc({ provider, channel: request.channel, verdict: 'processed' });
  return {
    ...stored,
    eventId: null,
    verified: false,
    rejection: null,
    paymentId: processed ? row.payment_id : null,
    occurredAt: null,
    processedAt: processed ? now : null,
    outcome: processed ? row.outcome : null,
    attempts: 0,
    nextAttemptAt: processed ? null : stored.nextAttemptAt,
  };
}

export type StoredCallback = typeof providerEvents.$inferSelect;

const bodyContext = (rowId: string) => `provider_event:${rowId}`;

/** A stored callback's body as received (bodies stored before they were sealed are read as they are). */
export function openBody(ctx: Pick<AppContext, 'vault'>, row: Pick<StoredCallback, 'id' | 'body'>): string {
  return row.body.startsWith('v1.') ? ctx.vault.open(row.body, bodyContext(row.id)) : row.body;
}

/** Verify and apply a stored callback. Safe to run again (after a crash, or by the callbacks job). */
export async function processCallback(ctx: AppContext, stored: string | StoredCallback): Promise<CallbackOutcome> {
  const db = ctx.database.db;
  const [row] = typeof stored === 'string' ? await db.select().from(providerEvents).where(eq(providerEvents.id, stored)) : [stored];
  if (!row) throw new Error(`no provider event ${String(stored)}`);
  const connector = ctx.connectors.get(row.provider);
  const request = row.headers as { method: string; path: string; url?: string; query: Record<string, string>; headers: Record<string, string> };
  const inbound: InboundRequest = {
    channel: row.channel as InboundRequest['channel'],
    method: request.method,
    path: request.path,
    url: request.url ?? `${ctx.config.publicUrl}${request.path}`,
    query: request.query,
    headers: request.headers,
    rawBody: openBody(ctx, row),
    remoteAddress: row.remoteAddress ?? '',
  };
  const done = async (verdict: CallbackDisposition, reason: string | null, payment: PaymentRow | null, extra: Partial<typeof providerEvents.$inferInsert> = {}) => {
    const finished = verdict !== 'retry';
    await db
      .update(providerEvents)
      .set({ ...(finished ? { processedAt: ctx.clock(), nextAttemptAt: null } : {}), outcome: reason ? `${verdict}: ${reason}` : verdict, ...(payment ? { paymentId: payment.id } : {}), ...extra })
      .where(eq(providerEvents.id, row.id));
    ctx.telemetry.callbacks.inc({ provider: row.provider, channel: row.channel, verdict });
    return { verdict, reason, payment };
  };

  // A notice that repeats what its attempt settled already (PayFast's ITN after the charge's own answer)
  // changes nothing: it is recorded as such without asking the provider to confirm it.
  const repeat = await repeatOf(ctx, row.provider, inbound);
  if (repeat.repeatReference) {
    const [repeated] = await run(ctx.database.query, REPEATED, { ...repeat, rowId: row.id, now: ctx.clock(), provider: row.provider });
    if (repeated) {
      ctx.telemetry.callbacks.inc({ provider: row.provider, channel: row.channel, verdict: 'processed' });
      const { event_outcome: outcome, ...payment } = repeated;
      return { verdict: 'processed', reason: String(outcome).replace(/^processed: /, ''), payment: toPaymentRow(payment) };
    }
  }

  const verdict: CallbackVerdict = connector.verifyCallback ? await connector.verifyCallback(inbound, connectorContext(ctx, connector)) : { ok: false, reason: 'this provider sends no callbacks' };
  if (!verdict.ok) {
    const now = ctx.clock();
    if (verdict.retry && now.getTime() - row.receivedAt.getTime() < RETRY_FOR_MS) {
      const hinted = verdict.hint ? await recordHint(ctx, row.provider, verdict.hint) : null;
      ctx.log.warn({ provider: row.provider, channel: row.channel, eventRowId: row.id, reason: verdict.reason }, 'a provider callback could not be verified yet; it will be tried again');
      return done('retry', verdict.reason, hinted, { attempts: row.attempts + 1, nextAttemptAt: new Date(now.getTime() + retryDelayMs(row.attempts + 1)) });
    }
    ctx.log.warn({ provider: row.provider, channel: row.channel, eventRowId: row.id, reason: verdict.reason, remoteAddress: row.remoteAddress }, 'rejected a provider callback that did not verify');
    return done('rejected', verdict.reason, null, { verified: false, rejection: verdict.reason });
  }
  const callback = verdict.callback;
  if (callback.kind === 'capture_notice') return applyCaptureNotice(ctx, row, callback, done);
  // A provider whose notices name only its own id of the attempt (Debitsuccess's real-time payments: the form's token).
  const payment = callback.merchantReference
    ? await findPayment(ctx, row.provider, callback.merchantReference)
    : callback.providerReference
      ? await findPaymentByProviderReference(ctx, row.provider, callback.providerReference)
      : null;

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
  if (callback.kind === 'payment_return') {
    if (!payment) return done('unknown_payment', `no attempt with reference ${callback.merchantReference}`, null);
    const returned = await applyReturnNotice(ctx, payment, callback, 'callback');
    return done(returned.recorded ? 'processed' : 'ignored', returned.reason, returned.payment);
  }
  if (!payment) {
    ctx.log.warn({ provider: row.provider, eventRowId: row.id }, 'a verified callback names no payment of ours');
    return done('unknown_payment', `no attempt with reference ${callback.merchantReference}`, null);
  }
  // A settled attempt knows the provider's id of its transaction: news of another transaction under its
  // reference (a provider echoing an earlier reference) is not about it.
  if ((payment.status === 'succeeded' || payment.status === 'failed') && payment.providerReference && callback.providerReference && payment.providerReference !== callback.providerReference) {
    const reason = `names transaction ${callback.providerReference}, but payment ${payment.id} is ${payment.status} as ${payment.providerReference}`;
    ctx.log.error({ provider: row.provider, eventRowId: row.id, paymentId: payment.id }, 'a provider callback names another transaction than the settled attempt it refers to: reconcile it by hand');
    return done('ignored', reason, payment);
  }

  let result: AttemptResult = callback.result;
  const declared = connector.callbacks?.find((c) => c.channel === row.channel);
  if ((declared?.settles ?? (row.channel === 'redirect' ? 'lookup' : 'itself')) === 'lookup') {
    // A callback that is only a prompt (Peach posts the browser to the success URL even when the payment
    // failed, and a signed post proves only who knows the secret): the provider is asked for the real
    // result, within its look-up allowance; otherwise the janitor asks.
    const asked = await askProvider(ctx, connector, payment, callback);
    if (!asked) {
      // The janitor asks about an attempt in flight; one already settled (a late success?) is this callback's to check again.
      if (payment.status === 'pending' || payment.status === 'unknown') return done('processed', 'the provider will be asked by the janitor', payment);
      const now = ctx.clock();
      return done('retry', 'the provider could not be asked yet', payment, { attempts: row.attempts + 1, nextAttemptAt: new Date(now.getTime() + retryDelayMs(row.attempts + 1)) });
    }
    result = asked;
  }
  // A callback for another amount than the attempt's is not about our payment (PayFast's rule: within R0.01).
  const reported = callback.result.amount;
  if (result === callback.result && reported && (reported.currency !== payment.currency || Math.abs(reported.amountCents - payment.amountCents) > 1)) {
    const reason = `amount ${reported.currency} ${(reported.amountCents / 100).toFixed(2)} differs from the attempt's ${(payment.amountCents / 100).toFixed(2)}`;
    ctx.log.warn({ provider: row.provider, channel: row.channel, eventRowId: row.id, paymentId: payment.id, reason }, 'rejected a provider callback for another amount');
    return done('rejected', reason, payment, { rejection: reason });
  }
  // The same news about a settled attempt (a notice after the charge's own answer): nothing to write.
  if ((payment.status === 'succeeded' || payment.status === 'failed') && result.status === payment.status) return done('processed', `payment was already ${payment.status}`, payment);
  const settled = await settlePayment(ctx, { paymentId: payment.id, result, via: row.channel === 'redirect' ? 'redirect' : 'callback' });
  return done(settled.conflict ? 'ignored' : 'processed', settled.conflict, settled.payment);
}

/**
 * A notice that only repeats what its attempt settled: its own checks pass (`checkCallback`: signature,
 * sender, merchant), and it names a settled attempt of ours with that attempt's transaction, status and,
 * for a success, amount (within a cent; PayFast's rule). The `repeat*` values of such a notice; all null
 * for anything else, which is verified with the provider and processed.
 */
async function repeatOf(ctx: AppContext, provider: Provider, request: InboundRequest): Promise<Record<RepeatParams, unknown>> {
  const connector = ctx.connectors.find(provider);
  if (!connector?.checkCallback) return NO_REPEAT;
  const checked = await connector.checkCallback(request, connectorContext(ctx, connector));
  if (!checked.ok) return NO_REPEAT;
  const { kind, merchantReference, providerReference, result } = checked.callback;
  if (kind !== 'payment' || !merchantReference || !providerReference || (result.status !== 'succeeded' && result.status !== 'failed')) return NO_REPEAT;
  return { repeatReference: merchantReference, repeatStatus: result.status, repeatProviderReference: providerReference, repeatAmountCents: result.amount?.amountCents ?? null, repeatCurrency: result.amount?.currency ?? null };
}

type RepeatParams = 'repeatReference' | 'repeatStatus' | 'repeatProviderReference' | 'repeatAmountCents' | 'repeatCurrency';

/** Matches no attempt. */
const NO_REPEAT: Readonly<Record<RepeatParams, null>> = { repeatReference: null, repeatStatus: null, repeatProviderReference: null, repeatAmountCents: null, repeatCurrency: null };

/** A value with every NUL character in its strings (keys too) replaced by U+FFFD. */
function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\0', '\uFFFD') as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)])) as T;
  return value;
}

/**
 * The settled attempt of :provider a notice with these `repeat*` values repeats (repeatOf); each value from
 * `v`: a statement's parameter, or a column of RECEIVE_MANY's input rows.
 */
const param = (name: string) => `:${name}`;
const repeatedAttempt = (v = param) => `SELECT p.* FROM payments p
  WHERE p.provider = ${v('provider')} AND p.merchant_reference = ${v('repeatReference')} AND p.status IN ('succeeded', 'failed') AND p.status = ${v('repeatStatus')}
    AND p.provider_reference = ${v('repeatProviderReference')}
    AND CASE WHEN ${v('repeatAmountCents')}::bigint IS NULL THEN p.status = 'failed' ELSE p.currency = ${v('repeatCurrency')} AND abs(p.amount_cents - ${v('repeatAmountCents')}::bigint) <= 1 END
  LIMIT 1`;
const REPEATED_ATTEMPT = repeatedAttempt();

const repeatOutcome = (p: string, provider = ':provider') => `'processed: repeats the settled outcome of payment ' || ${p}.id || ' (' || ${p}.status || '); not confirmed with ' || ${provider} || ', as it changes nothing'`;

type ReceiveParams = RepeatParams | 'id' | 'provider' | 'channel' | 'remoteAddress' | 'headers' | 'body' | 'merchantReference' | 'receivedAt' | 'nextAttemptAt' | 'now';

/** A callback stored as received; processed in the same statement when it repeats a settled attempt. */
const RECEIVE = statement<ReceiveParams>(
  'payrail_callback_receive_v1',
  `WITH repeated AS (${REPEATED_ATTEMPT})
INSERT INTO provider_events (id, provider, channel, verified, merchant_reference, payment_id, remote_address, headers, body, received_at, processed_at, outcome, attempts, next_attempt_at)
SELECT :id, :provider, :channel, false, :merchantReference, r.id, :remoteAddress, :headers::jsonb, :body, :receivedAt,
  CASE WHEN r.id IS NULL THEN NULL ELSE :now::timestamptz END, CASE WHEN r.id IS NULL THEN NULL ELSE ${repeatOutcome('r')} END,
  0, CASE WHEN r.id IS NULL THEN :nextAttemptAt::timestamptz END
FROM (SELECT 1) one LEFT JOIN repeated r ON true
RETURNING payment_id, outcome`,
);

/**
 * RECEIVE for several callbacks in one statement (group commit: callbacks arriving together, such as the
 * notices of a billing worker's chunk of charges, are stored together). :events holds RECEIVE's parameters
 * but :now (a repeat is processed as it is received), one object per callback; a row back for each, by id.
 */
const RECEIVE_MANY = statement<'events'>(
  'payrail_callback_receive_many_v1',
  `WITH input AS (
  SELECT * FROM jsonb_to_recordset(:events::jsonb) AS a(id uuid, provider text, channel text, "merchantReference" text, "remoteAddress" text, headers jsonb, body text,
    "receivedAt" timestamptz, "nextAttemptAt" timestamptz, "repeatReference" text, "repeatStatus" text, "repeatProviderReference" text, "repeatAmountCents" bigint, "repeatCurrency" text)
)
INSERT INTO provider_events (id, provider, channel, verified, merchant_reference, payment_id, remote_address, headers, body, received_at, processed_at, outcome, attempts, next_attempt_at)
SELECT a.id, a.provider, a.channel, false, a."merchantReference", r.id, a."remoteAddress", a.headers, a.body, a."receivedAt",
  CASE WHEN r.id IS NULL THEN NULL ELSE a."receivedAt" END, CASE WHEN r.id IS NULL THEN NULL ELSE ${repeatOutcome('r', 'a.provider')} END,
  0, CASE WHEN r.id IS NULL THEN a."nextAttemptAt" END
FROM input a LEFT JOIN LATERAL (${repeatedAttempt((name) => `a."${name}"`)}) r ON true
RETURNING id, payment_id, outcome`,
);

type ReceiveRow = { payment_id: string | null; outcome: string | null };

/** The callbacks being stored, by process: those that arrive together are written in one statement. */
const receivers = new WeakMap<AppContext, GroupWriter<Record<Exclude<ReceiveParams, 'now'>, unknown>, ReceiveRow>>();
function receiverOf(ctx: AppContext) {
  let receiver = receivers.get(ctx);
  if (!receiver) {
    receiver = groupWriter({
      retryAlone: nothingWritten,
      writeMany: async (events) => {
        if (events.length === 1) return run<ReceiveRow, ReceiveParams>(ctx.database.query, RECEIVE, { ...events[0]!, now: events[0]!.receivedAt });
        const rows = await run<ReceiveRow & { id: string }, 'events'>(ctx.database.query, RECEIVE_MANY, { events: JSON.stringify(events.map((e) => ({ ...e, headers: JSON.parse(e.headers as string) }))) });
        const byId = new Map(rows.map((r) => [r.id, r]));
        return events.map((e) => byId.get(e.id as string) ?? { payment_id: null, outcome: null });
      },
    });
    receivers.set(ctx, receiver);
  }
  return receiver;
}

/** A stored callback found to repeat a settled attempt: processed, naming it; returns the attempt. */
const REPEATED = statement<RepeatParams | 'provider' | 'rowId' | 'now'>(
  'payrail_callback_repeated_v1',
  `UPDATE provider_events e SET processed_at = :now, next_attempt_at = NULL, payment_id = r.id, outcome = ${repeatOutcome('r')}
FROM (${REPEATED_ATTEMPT}) r
WHERE e.id = :rowId
RETURNING r.*, e.outcome AS event_outcome`,
);

/**
 * A capture page's notice: authentic only if it carries the page's own notice secret; then the capture is
 * completed by asking the provider (completeCapture), once per capture — a repeat is a duplicate.
 */
async function applyCaptureNotice(
  ctx: AppContext,
  row: StoredCallback,
  callback: VerifiedCallback,
  done: (verdict: CallbackDisposition, reason: string | null, payment: PaymentRow | null, extra?: Partial<typeof providerEvents.$inferInsert>) => Promise<CallbackOutcome>,
): Promise<CallbackOutcome> {
  const capture = callback.captureNotice ? await captureOfNotice(ctx, row.provider, callback.captureNotice) : null;
  if (!capture) {
    // A payment form sends the same notice (payrail settles payments by their own webhook and look-up), and
    // one nobody but the form could have sent is indistinguishable from a forgery: neither changes anything.
    const reason = 'no capture page of this account carries that notice secret (a payment form’s notice, or a forgery)';
    ctx.log.info({ provider: row.provider, channel: row.channel, eventRowId: row.id, remoteAddress: row.remoteAddress }, 'a form notice matched no capture page; nothing changed');
    return done('ignored', reason, null, { verified: false, rejection: reason });
  }
  try {
    await ctx.database.db.update(providerEvents).set({ verified: true, rejection: null, eventId: `${row.channel}:capture:${capture.id}` }).where(eq(providerEvents.id, row.id));
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return done('duplicate', `capture ${capture.id} was noticed before`, null, { verified: true });
  }
  const completed = await completeCapture(ctx, capture.id);
  return done('processed', `capture ${completed.id} is ${completed.status}`, null);
}

/** The provider's own answer about an attempt, now; null when it may not or cannot be asked now (the janitor will). */
/** How long a callback waits for its provider's look-up allowance before leaving the question to the janitor. */
const SHORT_WAIT_MS = 2_000;

async function askProvider(ctx: AppContext, connector: Connector, payment: PaymentRow, callback: VerifiedCallback): Promise<AttemptResult | null> {
  if (!connector.lookup || payment.kind === 'allocation') return null;
  const input = { ...lookupInputOf(payment, null, await partiesOfPayment(ctx, payment)), providerReference: callback.providerReference ?? payment.providerReference };
  // The allowance frees again within moments (another callback of the same payment asking right now): a
  // customer waiting on a redirect is worth that wait; anything longer is the janitor's.
  let slot = await claimLookupSlot(ctx, connector, input.kind);
  for (let tries = 0; !slot.ok && tries < 5 && slot.nextAt.getTime() - ctx.clock().getTime() <= SHORT_WAIT_MS; tries++) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, slot.ok ? 0 : slot.nextAt.getTime() - ctx.clock().getTime())));
    slot = await claimLookupSlot(ctx, connector, input.kind);
  }
  if (!slot.ok) {
    await ctx.database.db.update(payments).set({ nextCheckAt: slot.nextAt }).where(and(eq(payments.id, payment.id), inArray(payments.status, ['pending', 'unknown'])));
    return null;
  }
  try {
    return await connector.lookup(input, connectorContext(ctx, connector));
  } catch (err) {
    ctx.log.warn({ provider: connector.id, paymentId: payment.id, err: (err as Error).message }, 'could not ask the provider about a returning customer’s payment; the janitor will');
    return null;
  }
}

/** The collector of the service an attempt pays for (a browser-return path may name it). */
export async function collectorOfPayment(ctx: AppContext, payment: PaymentRow): Promise<string | null> {
  const [row] = await ctx.database.db
    .select({ collectorId: services.collectorId })
    .from(purchases)
    .innerJoin(services, eq(services.id, purchases.serviceId))
    .where(eq(purchases.id, payment.purchaseId));
  return row?.collectorId ?? null;
}

export async function findPayment(ctx: AppContext, provider: Provider, merchantReference: string): Promise<PaymentRow | null> {
  const [p] = await ctx.database.db
    .select()
    .from(payments)
    .where(and(eq(payments.provider, provider), eq(payments.merchantReference, merchantReference)));
  return p ?? null;
}

/** The provider's attempt of that id (the newest, should a provider reuse one). */
async function findPaymentByProviderReference(ctx: AppContext, provider: Provider, providerReference: string): Promise<PaymentRow | null> {
  const [p] = await ctx.database.db
    .select()
    .from(payments)
    .where(and(eq(payments.provider, provider), eq(payments.providerReference, providerReference)))
    .orderBy(desc(payments.createdAt))
    .limit(1);
  return p ?? null;
}

/**
 * An authentic callback that could not be confirmed yet names the provider's transaction: an unsettled
 * attempt without a reference of its own keeps it, so the janitor can ask the provider by it (the answer
 * is checked against our reference, so a wrong hint settles nothing).
 */
async function recordHint(ctx: AppContext, provider: Provider, hint: { merchantReference: string; providerReference: string }): Promise<PaymentRow | null> {
  const [updated] = await ctx.database.db
    .update(payments)
    .set({ providerReference: hint.providerReference, updatedAt: ctx.clock() })
    .where(and(eq(payments.provider, provider), eq(payments.merchantReference, hint.merchantReference), isNull(payments.providerReference), inArray(payments.status, ['pending', 'unknown'])))
    .returning();
  return updated ?? (await findPayment(ctx, provider, hint.merchantReference));
}

/** A tokenised card was replaced at the provider (a card update): the medium shows the new card. */
async function applyTokenUpdate(ctx: AppContext, provider: Provider, callback: VerifiedCallback): Promise<[CallbackDisposition, string | null]> {
  const update = callback.tokenUpdate;
  if (!update) return ['ignored', 'token update without a token'];
  return ctx.database.db.transaction(async (tx) => {
    const medium = await findMediumByToken(tx, ctx.vault, provider, update.token);
    if (!medium) return ['unknown_payment', 'no medium holds this token'] as [CallbackDisposition, string];
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
    return ['processed', null] as [CallbackDisposition, null];
  });
}

/**
 * Callbacks stored but not processed (the process died after storing one, processing failed, or the
 * provider could not confirm it yet) whose time has come. Each is claimed by moving its `next_attempt_at`
 * on (a lease), so two workers do not process one callback at the same time.
 */
/**
 * How long a claimed callback is left to the process that claimed it: as long as processing can take
 * (the provider's confirmation is bounded by the provider timeout) and a margin. A process killed while
 * processing leaves its claims to be taken over after this, not minutes later.
 */
const claimLeaseMs = (ctx: AppContext): number => ctx.config.collections.providerTimeoutMs + 10_000;

export async function processDueCallbacks(ctx: AppContext, options: { now?: Date; limit?: number } = {}): Promise<number> {
  const now = options.now ?? ctx.clock();
  const ids = await ctx.database.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: providerEvents.id })
      .from(providerEvents)
      .where(and(isNull(providerEvents.processedAt), lte(providerEvents.nextAttemptAt, now)))
      .orderBy(asc(providerEvents.nextAttemptAt))
      .limit(options.limit ?? 25)
      .for('update', { skipLocked: true });
    if (due.length > 0) {
      await tx
        .update(providerEvents)
        .set({ nextAttemptAt: new Date(now.getTime() + claimLeaseMs(ctx)) })
        .where(inArray(providerEvents.id, due.map((d) => d.id)));
    }
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

function claimedReference(ctx: AppContext, provider: Provider, request: InboundRequest): string | null {
  const declaration = ctx.connectors.find(provider)?.callbacks?.find((c) => c.channel === request.channel);
  try {
    return declaration?.claimedReference?.(request.rawBody) ?? null;
  } catch {
    return null;
  }
}
