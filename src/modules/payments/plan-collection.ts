import { and, eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { run } from '../../db/statement.ts';
import type { MediumType, Provider } from '../../domain/enums.ts';
import { ForbiddenError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import type { Connector, MandateTerms } from '../../providers/contract.ts';
import { can, type Flow } from '../../providers/registry.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../mediums/repo.ts';
import { purchaseSources } from '../operators/schema.ts';
import type { CollectInput, CollectionMedium, Plan, Target } from './collection-types.ts';
import { mandateTermsOf } from './mandate-terms.ts';
import { allowedReturnUrl, browserReturnUrl, defaultUiReturnUrl } from './return-urls.ts';
import { COLLECTION_TARGET } from './settlement-sql.ts';

/** A row of TARGET_COLUMNS (settlement-sql.ts), as COLLECTION_TARGET or a caller that read many at once returns it. */
export type TargetRow = Record<string, unknown>;

/** The service (in the actor's scope), the purchase, the customer, the operator's rules and the medium, in one round trip. */
export async function loadTarget(ctx: AppContext, input: CollectInput): Promise<Target> {
  const { actor } = input;
  const [row] = await run(ctx.database.query, COLLECTION_TARGET, {
    serviceId: input.serviceId,
    purchaseId: input.purchaseId,
    operatorId: actor.operatorId,
    customerId: actor.customerId,
    mediumId: input.mediumId,
  });
  return targetOf(row, input);
}

/**
 * The target a row describes, checked against the input as COLLECTION_TARGET's scope checks it: a row read
 * for many collections at once (a billing worker's claim) must hold the same service, purchase and medium,
 * in the same operator's scope, or it is refused the same way.
 */
export function targetOf(row: TargetRow | undefined, input: CollectInput): Target {
  const { actor } = input;
  if (!row || !sameId(row.service_id, input.serviceId) || !sameId(row.service_operator_id, actor.operatorId) || (actor.customerId !== null && !sameId(row.service_customer_id, actor.customerId))) {
    throw new NotFoundError('service', input.serviceId);
  }
  if (row.medium_id && (!sameId(row.medium_id, input.mediumId) || (row.medium_operator_id !== null && !sameId(row.medium_operator_id, actor.operatorId)))) throw new NotFoundError('medium', input.mediumId);
  if (row.purchase_id && !sameId(row.purchase_id, input.purchaseId)) throw new NotFoundError('purchase', input.purchaseId);
  const str = (k: string) => row[k] as string;
  if (!row.purchase_id || (actor.customerId !== null && row.purchase_customer_id !== actor.customerId)) throw new NotFoundError('purchase', input.purchaseId);
  if (row.purchase_service_id !== row.service_id) {
    throw new UnprocessableError('purchase.wrong_service', `Purchase ${str('purchase_id')} is not a purchase of service ${str('service_id')}.`);
  }
  return {
    service: { id: str('service_id'), customerId: str('service_customer_id'), collectorId: str('collector_id'), operatorId: str('service_operator_id'), productId: str('product_id') },
    purchase: { id: str('purchase_id'), serviceId: str('purchase_service_id'), customerId: str('purchase_customer_id'), statusId: row.purchase_status_id as number, purchaseDate: row.purchase_date as Date, smallKey: row.small_key as number },
    customer: { id: str('service_customer_id'), name: str('customer_name'), email: row.customer_email as string | null, cellNumber: row.customer_cell_number as string | null },
    operator: { defaultCardProvider: str('default_card_provider'), paymentLinksEnabled: row.payment_links_enabled === true },
    autoRecharge: row.auto_recharge === true,
    medium: row.medium_id
      ? { id: str('medium_id'), customerId: row.medium_customer_id as string | null, mediumType: row.medium_type as MediumType, status: str('medium_status'), provider: row.medium_provider as Provider | null }
      : null,
    sealedToken: row.sealed_token && row.token_provider ? { provider: row.token_provider as Provider, sealed: str('sealed_token'), agreementReference: row.agreement_reference as string | null } : null,
  };
}

/** Two uuids, as PostgreSQL compares them (a client may write one in capitals). */
const sameId = (a: unknown, b: string): boolean => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

/**
 * How a medium collects (SPEC §5), decided by what the connectors declare: a stored token charged now, a
 * hosted page ("Add new payment method"), a payment link, or an off-system allocation, with the checks each
 * needs.
 */
export async function planCollection(ctx: AppContext, target: Target, input: CollectInput): Promise<Plan> {
  const { service, medium, sealedToken } = target;
  const { actor } = input;
  const isGlobal = medium?.id === GLOBAL_OPAQUE_MEDIUM_ID;
  if (!medium || (!isGlobal && actor.customerId !== null && medium.customerId !== actor.customerId)) throw new NotFoundError('medium', input.mediumId);
  if (!isGlobal && medium.customerId !== service.customerId) {
    throw new UnprocessableError('medium.not_of_customer', `Medium ${medium.id} belongs to another customer than service ${service.id}.`);
  }
  const base = { medium, sealedToken, successUrl: null, failureUrl: null, purchaseSourceId: null, tokenise: false };
  switch (medium.mediumType) {
    case 'CreditCard':
    case 'BankAccount': {
      if (medium.status !== 'Valid') throw new UnprocessableError('medium.not_usable', `Medium ${medium.id} is ${medium.status}; only a Valid medium can be charged.`);
      const connector = medium.provider ? ctx.connectors.find(medium.provider) : undefined;
      if (!connector || !can(connector, 'chargeToken') || !connector.capabilities?.tokenCharges?.includes(medium.mediumType)) {
        throw new UnprocessableError('medium.not_chargeable', `payrail cannot charge a ${medium.mediumType} medium held by ${medium.provider ?? 'no provider'}.`);
      }
      return { ...base, kind: 'token', provider: connector.id, connector };
    }
    case 'ProviderSelectedOpaque': {
      // "Add new payment method": the operator's provider for new cards runs the page, if it has hosted pages.
      // A provider whose cards are mandates (VodaPay) sets one up for a service billed monthly; anything
      // else is paid through the global medium's provider.
      const mandate = await mandateFor(ctx, target);
      const usable = (c: Connector) => !c.capabilities?.mandates || mandate !== null;
      const connector = firstAble(ctx, 'createCheckout', [target.operator.defaultCardProvider, medium.provider], usable);
      if (!connector) throw new UnprocessableError('medium.no_hosted_checkout', `The operator's card provider (${target.operator.defaultCardProvider}) has no hosted payment page.`);
      const mandates = connector.capabilities?.mandates === true;
      return { ...base, kind: 'hosted', provider: connector.id, connector, ...returnUrls(ctx, target, input, connector), tokenise: connector.capabilities?.tokenisation === true, mandate: mandates ? mandate : null };
    }
    case 'PaymentLink': {
      if (!target.operator.paymentLinksEnabled) throw new UnprocessableError('medium.payment_links_disabled', 'The operator does not take payments by payment link.');
      const connector = firstAble(ctx, 'createPaymentLink', [medium.provider]);
      if (!connector) throw new UnprocessableError('medium.not_chargeable', `payrail cannot make payment links with ${medium.provider ?? 'no provider'}.`);
      // A HybridDayBundle's card must be kept for its auto-recharges (seed 000: tokenised by the link's provider).
      return { ...base, kind: 'link', provider: connector.id, connector, ...returnUrls(ctx, target, input, connector), tokenise: target.autoRecharge && connector.capabilities?.tokenisation === true };
    }
    case 'OffSystem': {
      if (actor.role !== 'integrator' && actor.role !== 'admin') {
        throw new ForbiddenError('Only integrators and admins record off-system payments: nobody marks their own purchase paid.', 'collection.off_system_forbidden');
      }
      const connector = firstAble(ctx, 'allocate', [medium.provider]);
      if (!connector) throw new UnprocessableError('medium.not_chargeable', `payrail cannot record allocations with ${medium.provider ?? 'no provider'}.`);
      return { ...base, kind: 'allocation', provider: connector.id, connector, purchaseSourceId: await purchaseSource(ctx, input) };
    }
  }
}

/** The first of the named providers whose connector has the flow (and passes `usable`). */
function firstAble(ctx: AppContext, flow: Flow, providers: readonly (Provider | null)[], usable: (c: Connector) => boolean = () => true): Connector | null {
  for (const id of providers) {
    const connector = id ? ctx.connectors.find(id) : undefined;
    if (connector && can(connector, flow) && usable(connector)) return connector;
  }
  return null;
}

/** The mandate terms of the service, asked only when the operator's card provider takes mandates. */
async function mandateFor(ctx: AppContext, target: Target): Promise<MandateTerms | null> {
  return ctx.connectors.find(target.operator.defaultCardProvider)?.capabilities?.mandates ? mandateTermsOf(ctx, target.service.id) : null;
}

/**
 * Where the browser comes back from a hosted page or link: the caller's URLs, else the client interface's
 * result page of the signed-in user — through the provider's browser-return receiver when it declares one.
 */
function returnUrls(ctx: AppContext, target: Target, input: CollectInput, connector: Connector): { successUrl: string; failureUrl: string } {
  const { actor } = input;
  const given = input.returnUrls ?? { success: null, failure: null };
  const receiver = ctx.connectors.browserReturn(connector.id);
  const ui = (success: boolean): string => {
    if (actor.role === 'system') throw new UnprocessableError('collection.needs_customer', 'This medium sends the customer to a payment page: only a signed-in customer or staff member can use it.');
    const url = defaultUiReturnUrl(ctx.config, actor.id, target.purchase.id, success);
    return receiver ? browserReturnUrl(ctx.config, receiver, target.service.collectorId, url) : url;
  };
  const successUrl = given.success ?? ui(true);
  const failureUrl = given.failure ?? ui(false);
  for (const [field, url] of [['success_url', successUrl], ['failure_url', failureUrl]] as const) {
    if (!allowedReturnUrl(ctx.config, ctx.connectors, url)) {
      throw new UnprocessableError('collection.return_url_not_allowed', `${field} must lead to payrail or to one of the operator's client interfaces (PAYRAIL_REDIRECT_ORIGINS).`, { errors: [{ name: `body.${field}`, reason: 'is not an allowed return URL' }] });
    }
  }
  return { successUrl, failureUrl };
}

async function purchaseSource(ctx: AppContext, input: CollectInput): Promise<string> {
  if (!input.purchaseSourceId) {
    throw new UnprocessableError('collection.purchase_source_required', 'An off-system allocation needs purchase_source_id (where the money came from).', { errors: [{ name: 'body.purchase_source_id', reason: 'is required for an OffSystem medium' }] });
  }
  const [source] = await ctx.database.db
    .select()
    .from(purchaseSources)
    .where(and(eq(purchaseSources.id, input.purchaseSourceId), eq(purchaseSources.operatorId, input.actor.operatorId)));
  if (!source || !source.offSystem || !source.active) {
    throw new UnprocessableError('collection.purchase_source_invalid', `Purchase source ${input.purchaseSourceId} is not an active off-system source of this operator.`, { errors: [{ name: 'body.purchase_source_id', reason: 'is not an active off-system source' }] });
  }
  return source.id;
}
