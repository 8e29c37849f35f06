import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, gte, inArray, ne } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import { SYSTEM_ACTOR } from '../../context.ts';
import type { MediumType } from '../../domain/enums.ts';
import { ConnectorError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { uuid7 } from '../../lib/uuid7.ts';
import type { CaptureResult } from '../../providers/contract.ts';
import { recordAudit } from '../audit/record.ts';
import { findCustomer } from '../customers/repo.ts';
import { findOperator } from '../operators/repo.ts';
import { connectorContext } from '../payments/connector-context.ts';
import { allowedRedirect } from '../payments/return-urls.ts';
import { findService, setActiveMedium, type ServiceScope } from '../services/repo.ts';
import { enqueueEvents, type OutboxEvent } from '../webhooks/enqueue-event.ts';
import { mediumCaptures } from './capture-schema.ts';
import { purchasePlans } from '../services/schema.ts';
import { insertMedium } from './repo.ts';
import { mediumCredentials, mediums } from './schema.ts';

export type CaptureRow = typeof mediumCaptures.$inferSelect;
export type CapturableType = Extract<MediumType, 'BankAccount' | 'CreditCard'>;

export interface CaptureRequest {
  customerId: string | null;
  serviceId: string | null;
  mediumType: CapturableType;
  /** Where the customer is sent back to: payrail or a client interface (PAYRAIL_REDIRECT_ORIGINS). */
  returnUrl: string;
}

const secretContext = (captureId: string) => `medium_capture:${captureId}`;
/** An open capture is first asked about this long after it starts (a customer who never comes back), then ever less often. */
export const FIRST_CHECK_MS = 60_000;
const MAX_CHECK_GAP_MS = 3_600_000;
/** A claimed check is held this long: a process that dies mid-batch leaves its captures due again. */
const CLAIM_MS = 120_000;
/** payrail's receiver of the customer's browser coming back from the provider's page. */
export const captureReturnPath = (captureId: string) => `/payment-mediums/captures/${captureId}/return`;

/**
 * `POST /payment-mediums/capture` (SPEC §11): the operator's default provider for the medium type opens a
 * hosted page where the customer enters a bank account or card, paying nothing. Nothing is stored until
 * the provider itself says the details were kept (completeCapture); the customer's browser coming back is
 * only the prompt to ask it. A provider that cannot capture alone is a 422 that names it; a provider
 * refusal is its problem, and the capture is recorded failed.
 */
export async function startCapture(ctx: AppContext, scope: ServiceScope, actor: Actor, input: CaptureRequest): Promise<CaptureRow> {
  const db = ctx.database.db;
  let customerId = input.customerId ?? scope.customerId;
  let serviceId: string | null = null;
  if (input.serviceId) {
    const service = await findService(db, scope, input.serviceId);
    if (!service) throw new NotFoundError('service', input.serviceId);
    if (service.status === 'Cancelled') throw new UnprocessableError('service.cancelled', 'The service is cancelled; its payment medium cannot change.', { errors: [{ name: 'body.service_id', reason: 'is cancelled' }] });
    if (input.customerId && input.customerId !== service.customerId) {
      throw new UnprocessableError('capture.customer_mismatch', 'customer_id is not the customer of service_id.', { errors: [{ name: 'body.customer_id', reason: 'is not the service’s customer' }] });
    }
    customerId = service.customerId;
    serviceId = service.id;
  }
  if (!customerId) {
    throw new UnprocessableError('capture.customer_required', 'Name the customer (customer_id) or the service (service_id) the medium is for.', { errors: [{ name: 'body.customer_id', reason: 'is required without service_id' }] });
  }
  const customer = await findCustomer(db, scope.operatorId, customerId, scope.customerId);
  if (!customer) throw new NotFoundError('customer', customerId);
  if (!allowedRedirect(ctx.config, input.returnUrl)) {
    throw new UnprocessableError('capture.return_url_not_allowed', 'return_url must lead to payrail or one of the operator’s client interfaces (PAYRAIL_REDIRECT_ORIGINS).', { errors: [{ name: 'body.return_url', reason: 'is not an allowed origin' }] });
  }
  const operator = await findOperator(db, scope.operatorId);
  if (!operator) throw new NotFoundError('operator', scope.operatorId);
  const provider = input.mediumType === 'BankAccount' ? operator.defaultBankProvider : operator.defaultCardProvider;
  const connector = ctx.connectors.find(provider);
  if (!connector?.createCapture || !connector.lookupCapture || !connector.capabilities?.captures?.includes(input.mediumType)) {
    throw new UnprocessableError(
      'capture.not_offered',
      `The operator’s ${input.mediumType === 'BankAccount' ? 'bank account' : 'card'} provider, ${provider}, does not capture ${input.mediumType === 'BankAccount' ? 'a bank account' : 'a card'} without a payment${input.mediumType === 'CreditCard' ? ': add a card by paying with "Add new payment method"' : ''}.`,
      { extensions: { provider } },
    );
  }
  // A medium payrail could not charge is no medium: it would show Valid and fail every collection.
  if (!connector.chargeToken || !connector.capabilities?.tokenCharges?.includes(input.mediumType)) {
    throw new UnprocessableError(
      'capture.not_chargeable',
      `${provider} can keep ${input.mediumType === 'BankAccount' ? 'a bank account' : 'a card'}, but payrail cannot charge ${input.mediumType === 'BankAccount' ? 'a bank account' : 'a card'} kept at ${provider}${input.mediumType === 'CreditCard' ? ': add a card by paying with "Add new payment method"' : ''}. Nothing was created.`,
      { extensions: { provider } },
    );
  }

  const id = randomUUID();
  const now = ctx.clock();
  await db.insert(mediumCaptures).values({ id, operatorId: scope.operatorId, customerId, serviceId, mediumType: input.mediumType, provider, accountReference: customerId, returnUrl: input.returnUrl, createdAt: now, updatedAt: now });
  try {
    const session = await connector.createCapture(
      { reference: id, mediumType: input.mediumType, accountReference: customerId, customer: { id: customer.id, name: customer.name, email: customer.email, cellNumber: customer.cellNumber }, returnUrl: `${ctx.config.publicUrl}${captureReturnPath(id)}` },
      connectorContext(ctx, connector),
    );
    const [row] = await db
      .update(mediumCaptures)
      .set({
        providerReference: session.providerReference,
        sealedNoticeSecret: session.noticeSecret ? ctx.vault.seal(session.noticeSecret, secretContext(id)) : null,
        redirectUrl: session.redirectUrl,
        expiresAt: session.expiresAt,
        nextCheckAt: new Date(ctx.clock().getTime() + FIRST_CHECK_MS),
        updatedAt: ctx.clock(),
      })
      .where(eq(mediumCaptures.id, id))
      .returning();
    await recordAudit(db, actor, { operatorId: scope.operatorId, entityType: 'medium', entityId: id, action: 'medium_capture.started', toState: 'open', data: { provider, medium_type: input.mediumType, service_id: serviceId } });
    return row!;
  } catch (err) {
    const known = err instanceof ConnectorError;
    await db
      .update(mediumCaptures)
      .set({ status: 'failed', failureCode: known ? err.code : 'error', failureMessage: known ? err.message.slice(0, 500) : 'the provider could not be asked', nextCheckAt: null, finishedAt: ctx.clock(), updatedAt: ctx.clock() })
      .where(eq(mediumCaptures.id, id));
    throw err;
  }
}

export async function findCapture(ctx: Pick<AppContext, 'database'>, scope: ServiceScope, id: string): Promise<CaptureRow | null> {
  const [row] = await ctx.database.db.select().from(mediumCaptures).where(and(eq(mediumCaptures.operatorId, scope.operatorId), eq(mediumCaptures.id, id)));
  if (!row || (scope.customerId && row.customerId !== scope.customerId)) return null;
  return row;
}

/**
 * Asks the provider what came of an open capture and applies it, once: a stored detail becomes a Valid
 * medium (last digits only; the provider's reference sealed), active on the named service; a refused one
 * fails the capture; nothing known yet leaves it open. Safe to run again and concurrently (the capture row
 * is locked, and only an open capture moves).
 */
export async function completeCapture(ctx: AppContext, id: string): Promise<CaptureRow> {
  const [capture] = await ctx.database.db.select().from(mediumCaptures).where(eq(mediumCaptures.id, id));
  if (!capture) throw new NotFoundError('capture', id);
  if (capture.status !== 'open' || !capture.providerReference) return capture;
  const connector = ctx.connectors.get(capture.provider);
  // Still open: asked again later, a gap twice the last (the captures job), at most hourly.
  const later = async () => {
    const now = ctx.clock();
    const gap = Math.min(Math.max(FIRST_CHECK_MS, 2 * (now.getTime() - capture.createdAt.getTime())), MAX_CHECK_GAP_MS);
    const [row] = await ctx.database.db
      .update(mediumCaptures)
      .set({ nextCheckAt: new Date(now.getTime() + gap), updatedAt: now })
      .where(and(eq(mediumCaptures.id, id), eq(mediumCaptures.status, 'open')))
      .returning();
    return row ?? capture;
  };
  let result: CaptureResult;
  try {
    result = await connector.lookupCapture!({ reference: id, providerReference: capture.providerReference, accountReference: capture.accountReference, mediumType: capture.mediumType }, connectorContext(ctx, connector));
  } catch (err) {
    ctx.log.warn({ captureId: id, provider: capture.provider, err: (err as Error).message }, 'could not ask the provider about a capture; it stays open');
    return later();
  }
  if (result.status === 'open') return later();

  return ctx.database.db.transaction(async (tx) => {
    const [locked] = await tx.select().from(mediumCaptures).where(eq(mediumCaptures.id, id)).for('update');
    if (!locked || locked.status !== 'open') return locked!;
    const now = ctx.clock();
    if (result.status === 'failed' || !result.token) {
      const [failed] = await tx
        .update(mediumCaptures)
        .set({ status: 'failed', failureCode: result.failure?.code ?? 'failed', failureMessage: result.failure?.message ?? 'The provider kept no details.', nextCheckAt: null, finishedAt: now, updatedAt: now })
        .where(eq(mediumCaptures.id, id))
        .returning();
      await recordAudit(tx, SYSTEM_ACTOR, { operatorId: locked.operatorId, entityType: 'medium', entityId: id, action: 'medium_capture.failed', fromState: 'open', toState: 'failed', data: { code: failed!.failureCode } });
      return failed!;
    }
    const token = result.token;
    const mediumId = uuid7();
    const events: OutboxEvent[] = [];
    // A provider token names what is charged: mediums holding the same one are the same thing at the provider
    // (Debitsuccess keeps one payment detail per customer account, and a capture replaces it). The older ones
    // no longer show what is charged: they are Invalid, and the services that used them use the new one.
    const replaced = await tx
      .select({ id: mediums.id, mediumType: mediums.mediumType, status: mediums.status })
      .from(mediums)
      .innerJoin(mediumCredentials, eq(mediumCredentials.mediumId, mediums.id))
      .where(and(eq(mediumCredentials.provider, locked.provider), eq(mediumCredentials.tokenFingerprint, ctx.vault.fingerprint(locked.provider, token.value)), ne(mediums.status, 'Invalid')));
    await insertMedium(
      tx,
      ctx.vault,
      {
        id: mediumId,
        operatorId: locked.operatorId,
        customerId: locked.customerId,
        mediumType: locked.mediumType,
        status: 'Valid',
        provider: locked.provider,
        externalReference: `capture:${id}`,
        accountName: token.accountName,
        accountNumber: token.accountNumber,
        expiryMonth: token.expiryMonth ?? null,
        expiryYear: token.expiryYear ?? null,
        createdAt: now,
        updatedAt: now,
      },
      { provider: locked.provider, value: token.value },
    );
    const [done] = await tx.update(mediumCaptures).set({ status: 'succeeded', mediumId, nextCheckAt: null, finishedAt: now, updatedAt: now }).where(eq(mediumCaptures.id, id)).returning();
    events.push({ operatorId: locked.operatorId, type: 'medium.created', data: { medium_id: mediumId, customer_id: locked.customerId, medium_type: locked.mediumType, provider: locked.provider, status: 'Valid', capture_id: id } });
    if (replaced.length > 0) {
      const ids = replaced.map((r) => r.id);
      await tx.update(mediums).set({ status: 'Invalid', updatedAt: now }).where(inArray(mediums.id, ids));
      const moved = await tx.update(purchasePlans).set({ activeMediumId: mediumId, updatedAt: now }).where(inArray(purchasePlans.activeMediumId, ids)).returning({ serviceId: purchasePlans.serviceId });
      for (const r of replaced) {
        await recordAudit(tx, SYSTEM_ACTOR, { operatorId: locked.operatorId, entityType: 'medium', entityId: r.id, action: 'medium.replaced', fromState: r.status, toState: 'Invalid', data: { by_medium_id: mediumId, capture_id: id } });
        events.push({ operatorId: locked.operatorId, type: 'medium.updated', data: { medium_id: r.id, customer_id: locked.customerId, medium_type: r.mediumType, provider: locked.provider, status: 'Invalid', replaced_by_medium_id: mediumId } });
      }
      for (const m of moved) {
        if (m.serviceId === locked.serviceId) continue;
        events.push({ operatorId: locked.operatorId, type: 'medium.updated', data: { medium_id: mediumId, customer_id: locked.customerId, medium_type: locked.mediumType, provider: locked.provider, status: 'Valid', active_for_service_id: m.serviceId } });
      }
    }
    if (locked.serviceId) {
      await setActiveMedium(tx, locked.serviceId, mediumId);
      events.push({ operatorId: locked.operatorId, type: 'medium.updated', data: { medium_id: mediumId, customer_id: locked.customerId, medium_type: locked.mediumType, provider: locked.provider, status: 'Valid', active_for_service_id: locked.serviceId } });
    }
    await recordAudit(tx, SYSTEM_ACTOR, { operatorId: locked.operatorId, entityType: 'medium', entityId: mediumId, action: 'medium.created', toState: 'Valid', data: { medium_type: locked.mediumType, capture_id: id, service_id: locked.serviceId } });
    await enqueueEvents(tx, events, now);
    return done!;
  });
}

/**
 * Open captures whose check is due (the customer filled the provider's form but never came back, or the
 * provider could not be asked): claimed with FOR UPDATE SKIP LOCKED and a lease, then asked about.
 * Nothing stays open: once the form's token is used or expired, the provider says so.
 */
export async function checkOpenCaptures(ctx: AppContext, options: { limit?: number; now?: Date } = {}): Promise<number> {
  const now = options.now ?? ctx.clock();
  const claimed = await ctx.database.query<{ id: string }>(
    `UPDATE medium_captures SET next_check_at = $1
     WHERE id IN (SELECT id FROM medium_captures WHERE status = 'open' AND next_check_at <= $2 ORDER BY next_check_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [new Date(now.getTime() + CLAIM_MS), now, options.limit ?? 25],
    // Not named: planned for the table as it is at each claim (db/client.ts openPostgres).
  );
  for (const { id } of claimed) {
    try {
      await completeCapture(ctx, id);
    } catch (err) {
      ctx.log.error({ err, captureId: id }, 'checking a capture failed; it will be checked again');
    }
  }
  return claimed.length;
}

/**
 * The capture a provider's form notice is about: an open or recent capture of that customer account whose
 * page's notice secret the notice carries (compared in constant time). Null when none does — a notice
 * nobody could have sent but the provider's form is rejected by the caller.
 */
export async function captureOfNotice(ctx: AppContext, provider: string, notice: { accountReference: string; secret: string }): Promise<CaptureRow | null> {
  const since = new Date(ctx.clock().getTime() - 24 * 3_600_000);
  const candidates = await ctx.database.db
    .select()
    .from(mediumCaptures)
    .where(and(eq(mediumCaptures.provider, provider), eq(mediumCaptures.accountReference, notice.accountReference), gte(mediumCaptures.createdAt, since)))
    .orderBy(desc(mediumCaptures.createdAt))
    .limit(50);
  const given = createHash('sha256').update(notice.secret).digest();
  for (const c of candidates) {
    if (!c.sealedNoticeSecret) continue;
    const secret = ctx.vault.open(c.sealedNoticeSecret, secretContext(c.id));
    if (timingSafeEqual(createHash('sha256').update(secret).digest(), given)) return c;
  }
  return null;
}
