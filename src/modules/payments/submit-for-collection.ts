import { randomUUID } from 'node:crypto';
import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import type { Tx } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { PurchaseCreationEvent, PurchaseStatus, type Provider, type Role } from '../../domain/enums.ts';
import { LIVE_PAYMENT_STATUSES } from '../../domain/state-machines.ts';
import { ConflictError, ConnectorError, ForbiddenError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import type { AttemptResult, Connector, Customer } from '../../providers/contract.ts';
import { recordAudit } from '../audit/record.ts';
import { products } from '../catalog/schema.ts';
import { customers } from '../customers/schema.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID, type MediumRow } from '../mediums/repo.ts';
import { mediumCredentials, mediums } from '../mediums/schema.ts';
import { operators, purchaseSources } from '../operators/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { services } from '../services/schema.ts';
import { connectorContext } from './connector-context.ts';
import { newMerchantReference } from './merchant-reference.ts';
import { allowedRedirect, defaultUiReturnUrl, peachRedirectUrl } from './return-urls.ts';
import { payments, type PaymentKind } from './schema.ts';
import { settlePayment, type PaymentRow } from './settle-payment.ts';

export interface SubmitForCollectionInput {
  serviceId: string;
  purchaseId: string;
  mediumId: string;
  successUrl: string | null;
  failureUrl: string | null;
  processImmediate: boolean;
  purchaseSourceId: string | null;
  comment: string | null;
}

export interface Caller {
  userId: string;
  operatorId: string;
  role: Role;
  customerId: string | null;
  actor: Actor;
}

export interface SubmitOutcome {
  /** Where to send the customer (hosted checkout, payment link); null for a token charge or an allocation. */
  paymentLinkUrl: string | null;
  /** The attempt, or null when collection was deferred to the purchase's date. */
  payment: PaymentRow | null;
  purchaseStatusId: number;
}

interface Plan {
  /** The medium's provider token, still sealed. */
  sealedToken: { provider: Provider; sealed: string } | null;
  kind: PaymentKind;
  provider: Provider;
  connector: Connector;
  medium: MediumRow;
  successUrl: string | null;
  failureUrl: string | null;
  purchaseSourceId: string | null;
  tokenise: boolean;
}

/**
 * Seed 000's "Submit Purchase For Collection" (SPEC §5): collect a purchase with a medium, exactly once.
 *
 * 1. A short transaction locks the purchase, refuses it if it is paid or has an attempt in flight (409
 *    naming it), records a `pending` attempt and marks the purchase Submitted. A unique index backs the
 *    check, so concurrent submits on several processes still make one attempt.
 * 2. Outside any transaction the provider is asked (a stored token is charged, a checkout or payment
 *    link is created); the attempt's reference is the provider's idempotency key.
 * 3. The answer is settled (settle-payment). A crash between 2 and 3 leaves the attempt pending, and the
 *    janitor asks the provider what happened: nothing is charged twice and nothing is guessed.
 */
export async function submitForCollection(ctx: AppContext, caller: Caller, input: SubmitForCollectionInput): Promise<SubmitOutcome> {
  const db = ctx.database.db;
  const target = await loadTarget(ctx, caller, input);
  const { service, purchase } = target;
  const plan = await planCollection(ctx, caller, target, input);
  const now = ctx.clock();

  // Deferred: a future-dated purchase keeps the medium and is collected on its date.
  if (!input.processImmediate && plan.kind === 'token' && purchase.statusId === PurchaseStatus.Scheduled && purchase.purchaseDate > now) {
    await db.update(purchases).set({ mediumId: plan.medium.id, updatedAt: now }).where(eq(purchases.id, purchase.id));
    return { paymentLinkUrl: null, payment: null, purchaseStatusId: purchase.statusId };
  }

  const { payment, allocation } = await startAttempt(ctx, caller, purchase.id, plan, input);
  if (allocation) return { paymentLinkUrl: null, payment: allocation.payment, purchaseStatusId: allocation.purchaseStatusId };

  const cctx = connectorContext(ctx, plan.provider);
  if (plan.kind === 'token') {
    let result: AttemptResult;
    try {
      const token = plan.sealedToken?.provider === plan.provider ? ctx.vault.open(plan.sealedToken.sealed, plan.medium.id) : null;
      if (!token) throw new ConnectorError('misconfigured', plan.provider, `Medium ${plan.medium.id} has no ${plan.provider} token.`);
      result = await plan.connector.chargeToken!(
        { merchantReference: payment.merchantReference, amount: { amountCents: payment.amountCents, currency: 'ZAR' }, token, description: describe(purchase), customer: target.customer },
        cctx,
      );
    } catch (err) {
      if (err instanceof ConnectorError && err.kind !== 'timeout') {
        // Refused before anything was sent: no money moved, so the attempt failed and the purchase is payable again.
        await settlePayment(ctx, { paymentId: payment.id, via: 'charge', actor: caller.actor, result: { status: 'failed', providerReference: null, failure: { code: err.code, message: err.message, kind: 'other' }, raw: null } });
        throw err;
      }
      ctx.log.error({ err, paymentId: payment.id }, 'charging a token ended without an answer: the outcome is unknown');
      result = { status: 'unknown', providerReference: null, raw: { error: 'no answer from the connector' } };
    }
    const settled = await settlePayment(ctx, { paymentId: payment.id, purchaseId: purchase.id, via: 'charge', actor: caller.actor, result });
    return { paymentLinkUrl: null, payment: settled.payment, purchaseStatusId: settled.purchaseStatusId };
  }

  // Hosted checkout or payment link: nothing is charged until the customer completes the provider's page.
  const customer = target.customer;
  try {
    const checkoutInput = {
      merchantReference: payment.merchantReference,
      amount: { amountCents: payment.amountCents, currency: 'ZAR' as const },
      description: describe(purchase),
      customer,
      returnUrl: plan.successUrl!,
      cancelUrl: plan.failureUrl ?? plan.successUrl!,
      notificationUrl: notificationUrl(ctx, plan.provider),
      tokenise: plan.tokenise,
    };
    const session = plan.kind === 'hosted' ? await plan.connector.createCheckout!(checkoutInput, cctx) : await plan.connector.createPaymentLink!(checkoutInput, cctx);
    const [updated] = await db
      .update(payments)
      .set({ providerReference: session.providerReference, redirectUrl: session.redirectUrl, expiresAt: session.expiresAt, raw: session.raw as never, updatedAt: ctx.clock() })
      .where(eq(payments.id, payment.id))
      .returning();
    return { paymentLinkUrl: session.redirectUrl, payment: updated!, purchaseStatusId: PurchaseStatus.Submitted };
  } catch (err) {
    // Creating a page charges nothing: the attempt failed and the purchase is payable again.
    const code = err instanceof ConnectorError ? err.code : 'provider.unavailable';
    await settlePayment(ctx, { paymentId: payment.id, via: 'checkout', actor: caller.actor, result: { status: 'failed', providerReference: null, failure: { code, message: (err as Error).message, kind: 'other' }, raw: null } });
    if (err instanceof ConnectorError) throw err;
    throw new ConnectorError('unavailable', plan.provider, `${plan.provider} could not start the payment page.`, { cause: err });
  }
}

export const notificationUrl = (ctx: AppContext, provider: Provider): string =>
  provider === 'PayFast' ? `${ctx.config.publicUrl}/payfast-payments/itn` : `${ctx.config.publicUrl}/peach-payments/webhook`;

async function planCollection(ctx: AppContext, caller: Caller, target: Target, input: SubmitForCollectionInput): Promise<Plan> {
  const db = ctx.database.db;
  const { service } = target;
  const [found] = await db
    .select({ medium: mediums, provider: mediumCredentials.provider, sealed: mediumCredentials.sealedToken })
    .from(mediums)
    .leftJoin(mediumCredentials, eq(mediumCredentials.mediumId, mediums.id))
    .where(and(eq(mediums.id, input.mediumId), or(eq(mediums.operatorId, caller.operatorId), isNull(mediums.operatorId))));
  const medium = found?.medium;
  const isGlobal = medium?.id === GLOBAL_OPAQUE_MEDIUM_ID;
  if (!medium || (!isGlobal && caller.customerId !== null && medium.customerId !== caller.customerId)) throw new NotFoundError('medium', input.mediumId);
  if (!isGlobal && medium.customerId !== service.customerId) {
    throw new UnprocessableError('medium.not_of_customer', `Medium ${medium.id} belongs to another customer than service ${service.id}.`);
  }
  const sealedToken = found?.sealed && found.provider ? { provider: found.provider, sealed: found.sealed } : null;
  const base = { medium, sealedToken, successUrl: null, failureUrl: null, purchaseSourceId: null, tokenise: false };
  switch (medium.mediumType) {
    case 'CreditCard':
    case 'BankAccount': {
      if (medium.status !== 'Valid') throw new UnprocessableError('medium.not_usable', `Medium ${medium.id} is ${medium.status}; only a Valid medium can be charged.`);
      const provider = medium.provider;
      const connector = provider ? ctx.connectors.get(provider) : null;
      if (!provider || !connector?.chargeToken || !connector.capabilities.tokenCharges.includes(medium.mediumType)) {
        throw new UnprocessableError('medium.not_chargeable', `payrail cannot charge a ${medium.mediumType} medium held by ${provider ?? 'no provider'}.`);
      }
      return { ...base, kind: 'token', provider, connector };
    }
    case 'ProviderSelectedOpaque': {
      const provider: Provider = medium.provider ?? 'PeachPayments';
      const connector = ctx.connectors.get(provider);
      const userId = caller.userId;
      const successUrl = input.successUrl ?? peachRedirectUrl(ctx.config, service.collectorId, defaultUiReturnUrl(ctx.config, userId, input.purchaseId, true));
      const failureUrl = input.failureUrl ?? peachRedirectUrl(ctx.config, service.collectorId, defaultUiReturnUrl(ctx.config, userId, input.purchaseId, false));
      checkReturnUrls(ctx, successUrl, failureUrl);
      return { ...base, kind: 'hosted', provider, connector, successUrl, failureUrl, tokenise: connector.capabilities.tokenisation };
    }
    case 'PaymentLink': {
      const [operator] = await db.select({ links: operators.paymentLinksEnabled }).from(operators).where(eq(operators.id, caller.operatorId));
      if (!operator?.links) throw new UnprocessableError('medium.payment_links_disabled', 'The operator does not take payments by payment link.');
      const provider: Provider = medium.provider ?? 'PayFast';
      const connector = ctx.connectors.get(provider);
      const successUrl = input.successUrl ?? defaultUiReturnUrl(ctx.config, caller.userId, input.purchaseId, true);
      const failureUrl = input.failureUrl ?? defaultUiReturnUrl(ctx.config, caller.userId, input.purchaseId, false);
      checkReturnUrls(ctx, successUrl, failureUrl);
      // A HybridDayBundle's card must be kept for its auto-recharges (seed 000: tokenised by PayFast).
      return { ...base, kind: 'link', provider, connector, successUrl, failureUrl, tokenise: target.autoRecharge };
    }
    case 'OffSystem': {
      if (caller.role === 'customer') throw new ForbiddenError('Only integrators and admins record off-system payments: nobody marks their own purchase paid.', 'collection.off_system_forbidden');
      if (!input.purchaseSourceId) {
        throw new UnprocessableError('collection.purchase_source_required', 'An off-system allocation needs purchase_source_id (where the money came from).', { errors: [{ name: 'body.purchase_source_id', reason: 'is required for an OffSystem medium' }] });
      }
      const [source] = await db
        .select()
        .from(purchaseSources)
        .where(and(eq(purchaseSources.id, input.purchaseSourceId), eq(purchaseSources.operatorId, caller.operatorId)));
      if (!source || !source.offSystem || !source.active) {
        throw new UnprocessableError('collection.purchase_source_invalid', `Purchase source ${input.purchaseSourceId} is not an active off-system source of this operator.`, { errors: [{ name: 'body.purchase_source_id', reason: 'is not an active off-system source' }] });
      }
      return { ...base, kind: 'allocation', provider: 'OffSystem', connector: ctx.connectors.get('OffSystem'), purchaseSourceId: source.id };
    }
  }
}

function checkReturnUrls(ctx: AppContext, ...urls: string[]): void {
  for (const [i, value] of urls.entries()) {
    const url = allowedRedirect(ctx.config, value);
    const inner = url?.pathname.startsWith('/peach-redirect/') ? url.searchParams.get('url') : null;
    if (!url || (inner !== null && !allowedRedirect(ctx.config, inner))) {
      const field = i === 0 ? 'success_url' : 'failure_url';
      throw new UnprocessableError('collection.return_url_not_allowed', `${field} must lead to payrail or to one of the operator's client interfaces (PAYRAIL_REDIRECT_ORIGINS).`, { errors: [{ name: `body.${field}`, reason: 'is not an allowed return URL' }] });
    }
  }
}

/** Step 1: the attempt is recorded, and the purchase marked Submitted, before any provider is asked. */
async function startAttempt(ctx: AppContext, caller: Caller, purchaseId: string, plan: Plan, input: SubmitForCollectionInput): Promise<{ payment: PaymentRow; allocation: Awaited<ReturnType<typeof settlePayment>> | null }> {
  try {
    return await ctx.database.db.transaction(async (tx) => {
      const now = ctx.clock();
      const [purchase] = await tx.select().from(purchases).where(eq(purchases.id, purchaseId)).for('update');
      if (!purchase) throw new NotFoundError('purchase', purchaseId);
      await refuseUnpayable(tx, purchase);
      const payableStatusId = purchase.statusId === PurchaseStatus.Quote || purchase.creationEventId === PurchaseCreationEvent.BuyNow ? PurchaseStatus.Quote : PurchaseStatus.Unpaid;
      const [payment] = await tx
        .insert(payments)
        .values({
          id: randomUUID(),
          operatorId: purchase.operatorId,
          purchaseId: purchase.id,
          mediumId: plan.medium.id,
          provider: plan.provider,
          kind: plan.kind,
          status: 'pending',
          amountCents: purchase.amountCents,
          currency: purchase.currency,
          merchantReference: newMerchantReference(),
          payableStatusId,
          successUrl: plan.successUrl,
          failureUrl: plan.failureUrl,
          tokenise: plan.tokenise,
          purchaseSourceId: plan.purchaseSourceId,
          comment: plan.kind === 'allocation' ? input.comment : null,
          createdBy: caller.userId,
          nextCheckAt: new Date(now.getTime() + (ctx.config.jobs.firstCheckAfterMs ?? plan.connector.timing.firstCheckAfterMs)),
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await tx
        .update(purchases)
        .set({ statusId: PurchaseStatus.Submitted, ...(plan.medium.id === GLOBAL_OPAQUE_MEDIUM_ID ? {} : { mediumId: plan.medium.id }), updatedAt: now })
        .where(eq(purchases.id, purchase.id));
      await recordAudit(tx, caller.actor, {
        operatorId: purchase.operatorId,
        entityType: 'payment',
        entityId: payment!.id,
        action: 'payment.started',
        toState: 'pending',
        data: { purchase_id: purchase.id, provider: plan.provider, kind: plan.kind, medium_id: plan.medium.id },
      });
      if (plan.kind !== 'allocation') return { payment: payment!, allocation: null };
      // Off-system money was collected elsewhere: recording it is the whole collection, in this same transaction.
      const result = await plan.connector.allocate!(
        { merchantReference: payment!.merchantReference, amount: { amountCents: payment!.amountCents, currency: 'ZAR' }, purchaseSourceId: plan.purchaseSourceId!, comment: input.comment },
        connectorContext(ctx, 'OffSystem'),
      );
      const allocation = await settlePayment(ctx, { paymentId: payment!.id, via: 'allocation', actor: caller.actor, result }, tx);
      return { payment: allocation.payment, allocation };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw await inFlightConflict(ctx, purchaseId);
    throw err;
  }
}

async function refuseUnpayable(tx: Tx, purchase: typeof purchases.$inferSelect): Promise<void> {
  switch (purchase.statusId) {
    case PurchaseStatus.Paid:
      throw new ConflictError('purchase.already_paid', `Purchase ${purchase.id} is already paid; it is never charged again.`, { extensions: { purchase_id: purchase.id } });
    case PurchaseStatus.Submitted: {
      const [live] = await tx
        .select({ id: payments.id, status: payments.status })
        .from(payments)
        .where(and(eq(payments.purchaseId, purchase.id), inArray(payments.status, [...LIVE_PAYMENT_STATUSES])));
      throw inFlight(purchase.id, live ?? null);
    }
    case PurchaseStatus.Unpaid:
    case PurchaseStatus.Quote:
    case PurchaseStatus.Scheduled:
      if (purchase.amountCents <= 0) throw new UnprocessableError('purchase.nothing_to_pay', `Purchase ${purchase.id} is for R0.00: there is nothing to collect.`);
      return;
    default:
      throw new UnprocessableError('purchase.not_payable', `Purchase ${purchase.id} cannot be paid (status ${purchase.statusId}).`);
  }
}

async function inFlightConflict(ctx: AppContext, purchaseId: string): Promise<ConflictError> {
  const [live] = await ctx.database.db
    .select({ id: payments.id, status: payments.status })
    .from(payments)
    .where(and(eq(payments.purchaseId, purchaseId), inArray(payments.status, [...LIVE_PAYMENT_STATUSES])));
  if (live?.status === 'succeeded') return new ConflictError('purchase.already_paid', `Purchase ${purchaseId} is already paid; it is never charged again.`, { extensions: { purchase_id: purchaseId } });
  return inFlight(purchaseId, live ?? null);
}

function inFlight(purchaseId: string, live: { id: string; status: string } | null): ConflictError {
  return new ConflictError(
    'purchase.collection_in_flight',
    live ? `Purchase ${purchaseId} already has a collection attempt in flight: payment ${live.id} (${live.status}).` : `Purchase ${purchaseId} already has a collection attempt in flight.`,
    { extensions: { purchase_id: purchaseId, ...(live ? { payment_id: live.id, payment_status: live.status } : {}) } },
  );
}

interface Target {
  service: { id: string; customerId: string; collectorId: string; operatorId: string; productId: string };
  purchase: typeof purchases.$inferSelect;
  customer: Customer;
  autoRecharge: boolean;
}

/** The service (in the caller's scope), the purchase, the customer and the product's rules, in one round trip. */
async function loadTarget(ctx: AppContext, caller: Caller, input: SubmitForCollectionInput): Promise<Target> {
  const [row] = await ctx.database.db
    .select({
      service: { id: services.id, customerId: services.customerId, collectorId: services.collectorId, operatorId: services.operatorId, productId: services.productId },
      purchase: purchases,
      customer: { name: customers.name, email: customers.email, cellNumber: customers.cellNumber },
      autoRecharge: products.autoRecharge,
    })
    .from(services)
    .innerJoin(customers, eq(customers.id, services.customerId))
    .innerJoin(products, eq(products.id, services.productId))
    .leftJoin(purchases, and(eq(purchases.id, input.purchaseId), eq(purchases.operatorId, caller.operatorId)))
    .where(and(eq(services.id, input.serviceId), eq(services.operatorId, caller.operatorId), caller.customerId === null ? undefined : eq(services.customerId, caller.customerId)));
  if (!row) throw new NotFoundError('service', input.serviceId);
  const purchase = row.purchase;
  if (!purchase || (caller.customerId !== null && purchase.customerId !== caller.customerId)) throw new NotFoundError('purchase', input.purchaseId);
  if (purchase.serviceId !== row.service.id) {
    throw new UnprocessableError('purchase.wrong_service', `Purchase ${purchase.id} is not a purchase of service ${row.service.id}.`);
  }
  return { service: row.service, purchase, customer: { id: row.service.customerId, ...row.customer }, autoRecharge: row.autoRecharge };
}

/** What the customer sees on their statement and the provider's page. */
const describe = (purchase: typeof purchases.$inferSelect): string => `Purchase ${purchase.smallKey}`;
