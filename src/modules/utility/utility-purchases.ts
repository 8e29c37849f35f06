import { randomUUID } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus } from '../../domain/enums.ts';
import { rational } from '../../domain/rational.ts';
import { ConnectorError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import type { MeterInfo, VendToken } from '../../providers/vendor-contract.ts';
import { recordAudit } from '../audit/record.ts';
import { findOperator, findPurchaseSource } from '../operators/repo.ts';
import { findPurchase, insertPurchase, type PurchaseRecord, type PurchaseScope } from '../purchases/repo.ts';
import { refunds } from '../refunds/schema.ts';
import { getDetailsAndActions } from '../services/get-details-and-actions.ts';
import { findService, type ServiceScope } from '../services/repo.ts';
import { vends } from './schema.ts';
import { openTokens, type VendRow } from './vend.ts';
import { currentVendor, vendorContext } from './vendor.ts';

/**
 * The vendor's meter lookup (SPEC §12): whose meter it is, before anyone pays. An unknown meter is a 422 (nothing
 * can be bought for it); a vendor that does not answer is a 503.
 */
export async function lookupMeter(ctx: AppContext, meterId: string): Promise<MeterInfo> {
  const vendor = currentVendor();
  const found = await vendor.lookupMeter({ requestId: randomUUID(), meterId }, vendorContext(ctx, vendor));
  if (found.status === 'succeeded' && found.meter) return found.meter;
  if (found.status === 'failed') {
    throw new UnprocessableError('meter.unknown', `The vendor does not know meter ${meterId}: tokens cannot be bought for it (${found.failure?.code ?? 'refused'}).`, {
      errors: [{ name: 'meter_id', reason: found.failure?.message ?? 'is not a meter the vendor knows' }],
    });
  }
  throw new ConnectorError('unavailable', vendor.id, 'The utility vendor did not answer the meter lookup; try again.');
}

/** `GET /services/{id}/meter`: the service's meter as the vendor knows it. */
export async function serviceMeter(ctx: AppContext, scope: ServiceScope, serviceId: string): Promise<MeterInfo> {
  const service = await findService(ctx.database.db, scope, serviceId);
  if (!service) throw new NotFoundError('service', serviceId);
  if (!service.meterId) throw new UnprocessableError('service.no_meter', `Service ${serviceId} is not a prepaid-utility service: it has no meter.`);
  return lookupMeter(ctx, service.meterId);
}

/**
 * `POST /purchases/buy-now` with `amount` for a PrepaidUtility service (SPEC §12): a Quote (creation event 7,
 * Utility vend) of one once-off line for the amount, paid through submit-for-collection like any purchase.
 * The amount must be within the product's range and the meter one the vendor knows; nothing is created
 * otherwise.
 */
export async function createUtilityQuote(
  ctx: AppContext,
  scope: ServiceScope,
  actor: Actor,
  input: { serviceId: string; amountCents: number; purchaseSourceId: string | null; comment: string | null; customerStatementRef: string | null },
): Promise<PurchaseRecord> {
  const details = await getDetailsAndActions(ctx, scope, input.serviceId);
  if (details.billingScheme !== 'PrepaidUtility') {
    throw new UnprocessableError('purchase.not_utility', 'Only a prepaid-utility service is bought by amount alone: send purchase_lines for this service.', { errors: [{ name: 'body.amount', reason: 'applies to PrepaidUtility services only' }] });
  }
  const offer = details.utilityOffer;
  if (!offer) throw new UnprocessableError('purchase.buy_now_unavailable', details.status === 'Cancelled' ? 'The service is cancelled.' : 'Tokens cannot be bought for this service now: something is owed on it, or it has no meter.');
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents < offer.minCents || input.amountCents > offer.maxCents) {
    const range = `between R${(offer.minCents / 100).toFixed(2)} and R${(offer.maxCents / 100).toFixed(2)}`;
    throw new UnprocessableError('purchase.amount_out_of_range', `The amount must be ${range}.`, { errors: [{ name: 'body.amount', reason: `must be ${range}` }] });
  }
  if (input.purchaseSourceId !== null) {
    const source = await findPurchaseSource(ctx.database.db, scope.operatorId, input.purchaseSourceId);
    if (!source || !source.active || source.collectorId !== details.collectorId) {
      throw new UnprocessableError('purchase.unknown_source', 'purchase_source_id is not one of the purchase sources of the service’s collector.', { errors: [{ name: 'body.purchase_source_id', reason: 'is not an active purchase source of the collector' }] });
    }
  }
  // Nothing is sold for a meter the vendor does not know (the customer would pay for nothing).
  await lookupMeter(ctx, offer.meterId);
  const operator = await findOperator(ctx.database.db, scope.operatorId);
  const rateBp = operator?.vatRateBp ?? offer.rateBp;
  const now = ctx.clock();
  return ctx.database.db.transaction(async (tx) => {
    const purchase = await insertPurchase(tx, {
      id: randomUUID(),
      operatorId: scope.operatorId,
      customerId: details.customerId,
      serviceId: details.id,
      purchasePlanId: details.planId,
      statusId: PurchaseStatus.Quote,
      creationEventId: PurchaseCreationEvent.UtilityVend,
      purchaseDate: now,
      mediumId: null,
      purchaseSourceId: input.purchaseSourceId,
      customerStatementRef: input.customerStatementRef,
      comment: input.comment,
      lines: [
        {
          id: randomUUID(),
          lineTypeId: PurchaseLineType.Once,
          description: `Prepaid electricity, meter ${offer.meterId}`,
          quantity: 1,
          unitPriceIncl: rational(input.amountCents),
          totalCents: input.amountCents,
          rateBp,
          periodContributionPerQuantity: 0,
          productPriceId: null,
        },
      ],
    });
    await recordAudit(tx, actor, { operatorId: scope.operatorId, entityType: 'purchase', entityId: purchase.id, action: 'purchase.created', toState: String(PurchaseStatus.Quote), data: { amount_cents: input.amountCents, creation_event_id: PurchaseCreationEvent.UtilityVend, meter_id: offer.meterId } });
    return purchase;
  });
}

export interface PurchaseTokens {
  purchase: PurchaseRecord;
  vend: VendRow | null;
  tokens: VendToken[];
  refund: typeof refunds.$inferSelect | null;
}

/**
 * `GET /purchases/{id}/tokens`: the tokens of a utility purchase, to the customer whose purchase it is and to
 * the operator's staff only (the scope), opened from the vault for this answer alone.
 */
export async function purchaseTokens(ctx: AppContext, scope: PurchaseScope, purchaseId: string): Promise<PurchaseTokens> {
  const purchase = await findPurchase(ctx.database.db, scope, purchaseId);
  if (!purchase) throw new NotFoundError('purchase', purchaseId);
  if (purchase.creationEventId !== PurchaseCreationEvent.UtilityVend) throw new UnprocessableError('purchase.not_utility', `Purchase ${purchaseId} is not a prepaid-utility purchase: it has no tokens.`);
  const [vend] = await ctx.database.db.select().from(vends).where(eq(vends.purchaseId, purchase.id));
  const [refund] = await ctx.database.db.select().from(refunds).where(eq(refunds.purchaseId, purchase.id)).orderBy(desc(refunds.createdAt)).limit(1);
  return { purchase, vend: vend ?? null, tokens: vend && vend.status === 'succeeded' ? openTokens(ctx, vend) : [], refund: refund ?? null };
}

/**
 * `POST /purchases/{id}/tokens/reprint`: the vendor's reprint of the purchase's tokens (never a new purchase:
 * a token cannot be revoked, so one paid purchase has one set of tokens).
 */
export async function reprintTokens(ctx: AppContext, scope: PurchaseScope, actor: Actor, purchaseId: string): Promise<PurchaseTokens> {
  const found = await purchaseTokens(ctx, scope, purchaseId);
  if (!found.vend || found.vend.status !== 'succeeded') throw new UnprocessableError('tokens.not_issued', 'No tokens were issued for this purchase yet: there is nothing to reprint.');
  const vendor = currentVendor();
  const result = await vendor.reprint({ requestId: randomUUID(), meterId: found.vend.meterId, originalRequestId: found.vend.requestId }, vendorContext(ctx, vendor));
  if (result.status !== 'succeeded' || result.tokens.length === 0) throw new ConnectorError('unavailable', vendor.id, 'The vendor did not reprint the tokens; the tokens payrail keeps are shown.');
  const same = result.tokens.every((t) => found.tokens.some((k) => k.token === t.token));
  if (!same) ctx.log.error({ purchaseId, vendId: found.vend.id }, 'the vendor reprinted tokens payrail did not receive for this purchase');
  await recordAudit(ctx.database.db, actor, { operatorId: found.purchase.operatorId, entityType: 'purchase', entityId: purchaseId, action: 'tokens.reprinted', data: { vend_id: found.vend.id, matches: same } });
  return { ...found, tokens: result.tokens };
}


