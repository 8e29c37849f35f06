import { and, eq } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import { ConnectorError, NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { withArticle } from '../../lib/words.ts';
import { recordAudit } from '../audit/record.ts';
import { connectorContext } from '../payments/connector-context.ts';
import type { ServiceScope } from '../services/repo.ts';
import { purchasePlans } from '../services/schema.ts';
import { enqueueEvents, type OutboxEvent } from '../webhooks/enqueue-event.ts';
import { findMedium, GLOBAL_OPAQUE_MEDIUM_ID, revealMediumToken, type MediumRow } from './repo.ts';
import { mediums } from './schema.ts';

/**
 * `DELETE /payment-mediums/{id}` (SPEC §11): the customer withdraws a card or bank account. Where the
 * provider holds a mandate or token it can withdraw (VodaPay's Token/Cancel), it is withdrawn there first:
 * if the provider does not confirm, nothing changes here (503, try again). Then the medium is Invalid —
 * nothing charges an Invalid medium — and every service it was active on is left without one, so a billing
 * run leaves their purchases owed. Deleting an Invalid medium again changes nothing.
 */
export async function cancelMedium(ctx: AppContext, scope: ServiceScope, actor: Actor, mediumId: string): Promise<MediumRow> {
  const medium = await findMedium(ctx.database.db, scope.operatorId, mediumId);
  if (!medium || medium.id === GLOBAL_OPAQUE_MEDIUM_ID || (scope.customerId !== null && medium.customerId !== scope.customerId)) throw new NotFoundError('medium', mediumId);
  if (medium.status === 'Invalid') return medium;
  if (medium.mediumType !== 'CreditCard' && medium.mediumType !== 'BankAccount') {
    throw new UnprocessableError('medium.not_cancellable', `${withArticle(medium.mediumType)} medium is not the customer's to withdraw: only cards and bank accounts are.`);
  }
  const connector = medium.provider ? ctx.connectors.find(medium.provider) : undefined;
  if (connector?.cancelToken) {
    const stored = await revealMediumToken(ctx.database.db, ctx.vault, medium.id);
    if (stored && stored.provider === connector.id) {
      try {
        await connector.cancelToken({ token: stored.token, reference: cancelReference(medium.id), customerId: medium.customerId }, connectorContext(ctx, connector));
      } catch (err) {
        ctx.log.warn({ mediumId: medium.id, provider: connector.id, err: (err as Error).message }, 'the provider did not confirm withdrawing a mandate: the medium stays as it was');
        if (err instanceof ConnectorError) throw err;
        throw new ConnectorError('unavailable', connector.id, `${connector.id} could not be asked to cancel the mandate; nothing was changed. Try again.`, { cause: err });
      }
    }
  }
  return ctx.database.db.transaction(async (tx) => {
    const now = ctx.clock();
    const [cancelled] = await tx
      .update(mediums)
      .set({ status: 'Invalid', updatedAt: now })
      .where(and(eq(mediums.id, medium.id), eq(mediums.status, medium.status)))
      .returning();
    // Someone else changed it meanwhile (a second delete): theirs stands.
    if (!cancelled) return (await findMedium(tx, scope.operatorId, medium.id))!;
    const detached = await tx.update(purchasePlans).set({ activeMediumId: null, updatedAt: now }).where(eq(purchasePlans.activeMediumId, medium.id)).returning({ serviceId: purchasePlans.serviceId });
    const data = { medium_id: medium.id, customer_id: medium.customerId, medium_type: medium.mediumType, provider: medium.provider, status: 'Invalid', cancelled: true };
    const events: OutboxEvent[] = [{ operatorId: scope.operatorId, type: 'medium.updated', data: { ...data, inactive_for_service_ids: detached.map((d) => d.serviceId) } }];
    await recordAudit(tx, actor, { operatorId: scope.operatorId, entityType: 'medium', entityId: medium.id, action: 'medium.cancelled', fromState: medium.status, toState: 'Invalid', data: { services: detached.map((d) => d.serviceId), mandate: medium.mandate !== null } });
    await enqueueEvents(tx, events, now);
    return cancelled;
  });
}

/** The provider's trace id of a withdrawal: one per medium, so a repeated withdrawal is the same request. */
const cancelReference = (mediumId: string): string => `X${mediumId.replaceAll('-', '')}`;
