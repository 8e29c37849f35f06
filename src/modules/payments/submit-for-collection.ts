import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { PurchaseStatus, type MediumType, type Provider, type Role } from '../../domain/enums.ts';
import { LIVE_PAYMENT_STATUSES } from '../../domain/state-machines.ts';
import { ConflictError, ConnectorError, ForbiddenError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import type { AttemptResult, Connector, Customer } from '../../providers/contract.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../mediums/repo.ts';
import { operators, purchaseSources } from '../operators/schema.ts';
import { purchases } from '../purchases/schema.ts';
import { connectorContext } from './connector-context.ts';
import { newMerchantReference } from './merchant-reference.ts';
import { allowedRedirect, defaultUiReturnUrl, peachRedirectUrl } from './return-urls.ts';
import { payments, type PaymentKind } from './schema.ts';
import { COLLECTION_TARGET, START_ATTEMPT } from './settle-sql.ts';
import { settlePayment, toPaymentRow, type PaymentRow, type Settlement } from './settle-payment.ts';

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

/** The medium being paid with, as far as collecting needs it. */
interface CollectionMedium {
  id: string;
  customerId: string | null;
  mediumType: MediumType;
  status: string;
  provider: Provider | null;
}

interface Plan {
  /** The medium's provider token, still sealed. */
  sealedToken: { provider: Provider; sealed: string } | null;
  kind: PaymentKind;
  provider: Provider;
  connector: Connector;
  medium: CollectionMedium;
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
  const { purchase } = target;
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
  const { service, medium, sealedToken } = target;
  const isGlobal = medium?.id === GLOBAL_OPAQUE_MEDIUM_ID;
  if (!medium || (!isGlobal && caller.customerId !== null && medium.customerId !== caller.customerId)) throw new NotFoundError('medium', input.mediumId);
  if (!isGlobal && medium.customerId !== service.customerId) {
    throw new UnprocessableError('medium.not_of_customer', `Medium ${medium.id} belongs to another customer than service ${service.id}.`);
  }
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
async function startAttempt(ctx: AppContext, caller: Caller, purchaseId: string, plan: Plan, input: SubmitForCollectionInput): Promise<{ payment: PaymentRow; allocation: Settlement | null }> {
  const now = ctx.clock();
  const params = [
    purchaseId,
    randomUUID(),
    plan.medium.id,
    plan.provider,
    plan.kind,
    newMerchantReference(),
    plan.successUrl,
    plan.failureUrl,
    plan.tokenise,
    plan.purchaseSourceId,
    plan.kind === 'allocation' ? input.comment : null,
    caller.userId,
    new Date(now.getTime() + (ctx.config.jobs.firstCheckAfterMs ?? plan.connector.timing.firstCheckAfterMs)),
    now,
    plan.medium.id === GLOBAL_OPAQUE_MEDIUM_ID ? null : plan.medium.id,
    caller.actor.id,
    caller.actor.role,
    caller.actor.requestId,
    JSON.stringify({ purchase_id: purchaseId, provider: plan.provider, kind: plan.kind, medium_id: plan.medium.id }),
  ];
  try {
    if (plan.kind !== 'allocation') {
      const rows = await ctx.database.query<Record<string, unknown>>(START_ATTEMPT.text, params, START_ATTEMPT.name);
      return { payment: await started(ctx, purchaseId, rows[0]), allocation: null };
    }
    // Off-system money was collected elsewhere: recording it is the whole collection, in one transaction.
    return await ctx.database.transaction(async (tx) => {
      const rows = await tx.query<Record<string, unknown>>(START_ATTEMPT.text, params, START_ATTEMPT.name);
      const payment = await started(ctx, purchaseId, rows[0]);
      const result = await plan.connector.allocate!(
        { merchantReference: payment.merchantReference, amount: { amountCents: payment.amountCents, currency: 'ZAR' }, purchaseSourceId: plan.purchaseSourceId!, comment: input.comment },
        connectorContext(ctx, 'OffSystem'),
      );
      const allocation = await settlePayment(ctx, { paymentId: payment.id, purchaseId, via: 'allocation', actor: caller.actor, result }, tx);
      return { payment: allocation.payment, allocation };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw await inFlightConflict(ctx, purchaseId);
    throw err;
  }
}

/** The attempt START_ATTEMPT recorded, or why it recorded none. */
async function started(ctx: AppContext, purchaseId: string, row: Record<string, unknown> | undefined): Promise<PaymentRow> {
  if (!row) throw new NotFoundError('purchase', purchaseId);
  if (row.id) return toPaymentRow(Object.fromEntries(Object.entries(row).filter(([k]) => !['purchase_status_id', 'purchase_amount_cents', 'live_id', 'live_status'].includes(k))));
  const statusId = row.purchase_status_id as number;
  if (statusId === PurchaseStatus.Paid) throw alreadyPaid(purchaseId);
  if (statusId === PurchaseStatus.Submitted || row.live_id) {
    // A concurrent submit may have committed its attempt after this statement's snapshot: look again.
    throw row.live_id ? inFlight(purchaseId, { id: row.live_id as string, status: row.live_status as string }) : await inFlightConflict(ctx, purchaseId);
  }
  if ([PurchaseStatus.Unpaid, PurchaseStatus.Quote, PurchaseStatus.Scheduled].includes(statusId as 1 | 3 | 6)) {
    throw new UnprocessableError('purchase.nothing_to_pay', `Purchase ${purchaseId} is for R0.00: there is nothing to collect.`);
  }
  throw new UnprocessableError('purchase.not_payable', `Purchase ${purchaseId} cannot be paid (status ${statusId}).`);
}

const alreadyPaid = (purchaseId: string) =>
  new ConflictError('purchase.already_paid', `Purchase ${purchaseId} is already paid; it is never charged again.`, { extensions: { purchase_id: purchaseId } });

async function inFlightConflict(ctx: AppContext, purchaseId: string): Promise<ConflictError> {
  const [live] = await ctx.database.db
    .select({ id: payments.id, status: payments.status })
    .from(payments)
    .where(and(eq(payments.purchaseId, purchaseId), inArray(payments.status, [...LIVE_PAYMENT_STATUSES])));
  if (live?.status === 'succeeded') return alreadyPaid(purchaseId);
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
  purchase: { id: string; serviceId: string; customerId: string; statusId: number; purchaseDate: Date; smallKey: number };
  customer: Customer;
  autoRecharge: boolean;
  medium: CollectionMedium | null;
  sealedToken: { provider: Provider; sealed: string } | null;
}

/** The service (in the caller's scope), the purchase, the customer, the product's rules and the medium, in one round trip. */
async function loadTarget(ctx: AppContext, caller: Caller, input: SubmitForCollectionInput): Promise<Target> {
  const [row] = await ctx.database.query<Record<string, unknown>>(
    COLLECTION_TARGET.text,
    [input.serviceId, input.purchaseId, caller.operatorId, caller.customerId, input.mediumId],
    COLLECTION_TARGET.name,
  );
  if (!row) throw new NotFoundError('service', input.serviceId);
  const str = (k: string) => row[k] as string;
  if (!row.purchase_id || (caller.customerId !== null && row.purchase_customer_id !== caller.customerId)) throw new NotFoundError('purchase', input.purchaseId);
  if (row.purchase_service_id !== row.service_id) {
    throw new UnprocessableError('purchase.wrong_service', `Purchase ${str('purchase_id')} is not a purchase of service ${str('service_id')}.`);
  }
  return {
    service: { id: str('service_id'), customerId: str('service_customer_id'), collectorId: str('collector_id'), operatorId: str('service_operator_id'), productId: str('product_id') },
    purchase: { id: str('purchase_id'), serviceId: str('purchase_service_id'), customerId: str('purchase_customer_id'), statusId: row.purchase_status_id as number, purchaseDate: row.purchase_date as Date, smallKey: row.small_key as number },
    customer: { id: str('service_customer_id'), name: str('customer_name'), email: row.customer_email as string | null, cellNumber: row.customer_cell_number as string | null },
    autoRecharge: row.auto_recharge === true,
    medium: row.medium_id
      ? { id: str('medium_id'), customerId: row.medium_customer_id as string | null, mediumType: row.medium_type as MediumType, status: str('medium_status'), provider: row.medium_provider as Provider | null }
      : null,
    sealedToken: row.sealed_token && row.token_provider ? { provider: row.token_provider as Provider, sealed: str('sealed_token') } : null,
  };
}

/** What the customer sees on their statement and the provider's page. */
const describe = (purchase: { smallKey: number }): string => `Purchase ${purchase.smallKey}`;
