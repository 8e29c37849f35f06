import type { AppContext } from '../../context.ts';
import type { MediumType, Provider } from '../../domain/enums.ts';
import { ForbiddenError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import type { Connector, Customer } from '../../providers/contract.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../mediums/repo.ts';
import { operators, purchaseSources } from '../operators/schema.ts';
import { and, eq } from 'drizzle-orm';
import { allowedRedirect, defaultUiReturnUrl, peachRedirectUrl } from './return-urls.ts';
import type { PaymentKind } from './schema.ts';
import { COLLECTION_TARGET } from './collection-sql.ts';
import type { Caller, SubmitForCollectionInput } from './submit-for-collection.ts';

/** The medium being paid with, as far as collecting needs it. */
export interface CollectionMedium {
  id: string;
  customerId: string | null;
  mediumType: MediumType;
  status: string;
  provider: Provider | null;
}

export interface Plan {
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

export interface Target {
  service: { id: string; customerId: string; collectorId: string; operatorId: string; productId: string };
  purchase: { id: string; serviceId: string; customerId: string; statusId: number; purchaseDate: Date; smallKey: number };
  customer: Customer;
  autoRecharge: boolean;
  medium: CollectionMedium | null;
  sealedToken: { provider: Provider; sealed: string } | null;
}

/** The service (in the caller's scope), the purchase, the customer, the product's rules and the medium, in one round trip. */
export async function loadTarget(ctx: AppContext, caller: Caller, input: SubmitForCollectionInput): Promise<Target> {
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

/**
 * How a medium collects (SPEC §5): a stored token charged now, a Peach checkout, a PayFast payment link,
 * or an off-system allocation, with the checks each needs.
 */
export async function planCollection(ctx: AppContext, caller: Caller, target: Target, input: SubmitForCollectionInput): Promise<Plan> {
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

