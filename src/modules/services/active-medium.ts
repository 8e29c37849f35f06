import type { Actor, AppContext } from '../../context.ts';
import { NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { withArticle } from '../../lib/words.ts';
import { recordAudit } from '../audit/record.ts';
import { findMedium, type MediumRow } from '../mediums/repo.ts';
import { findService, setActiveMedium as storeActiveMedium, type ServiceScope } from './repo.ts';

/** The medium future recurring and auto-recharge purchases of the service are charged to, if any. */
export async function getActiveMedium(ctx: Pick<AppContext, 'database'>, scope: ServiceScope, serviceId: string): Promise<MediumRow | null> {
  const service = await findService(ctx.database.db, scope, serviceId);
  if (!service) throw new NotFoundError('service', serviceId);
  if (!service.activeMediumId) return null;
  return findMedium(ctx.database.db, scope.operatorId, service.activeMediumId);
}

/**
 * Make a medium the service's active medium (seed 000: only a Valid CreditCard or BankAccount medium of
 * the same customer qualifies). Anything else is a 422 that says why, and changes nothing.
 */
export async function setActiveMedium(
  ctx: Pick<AppContext, 'database'>,
  scope: ServiceScope,
  actor: Actor,
  serviceId: string,
  mediumId: string,
): Promise<MediumRow> {
  return ctx.database.db.transaction(async (tx) => {
    const service = await findService(tx, scope, serviceId);
    if (!service) throw new NotFoundError('service', serviceId);
    if (service.status === 'Cancelled') {
      throw new UnprocessableError('service.cancelled', 'The service is cancelled; its payment medium cannot change.');
    }
    const medium = await findMedium(tx, scope.operatorId, mediumId);
    if (!medium || medium.customerId !== service.customerId) {
      throw new UnprocessableError('medium.not_eligible', "The medium is not one of this service's customer's mediums.", {
        errors: [{ name: 'body.medium_id', reason: "is not a medium of the service's customer" }],
      });
    }
    if (medium.mediumType !== 'CreditCard' && medium.mediumType !== 'BankAccount') {
      throw new UnprocessableError('medium.not_eligible', `${withArticle(medium.mediumType)} medium cannot be the active medium: only a credit card or bank account can.`, {
        errors: [{ name: 'body.medium_id', reason: 'must be a CreditCard or BankAccount medium' }],
      });
    }
    if (medium.status !== 'Valid') {
      throw new UnprocessableError('medium.not_eligible', `The medium is ${medium.status}; only a Valid medium can be the active medium.`, {
        errors: [{ name: 'body.medium_id', reason: 'must be Valid' }],
      });
    }
    if (service.activeMediumId !== medium.id) {
      await storeActiveMedium(tx, service.id, medium.id);
      await recordAudit(tx, actor, {
        operatorId: scope.operatorId,
        entityType: 'service',
        entityId: service.id,
        action: 'active_medium.changed',
        fromState: service.activeMediumId,
        toState: medium.id,
      });
    }
    return medium;
  });
}
