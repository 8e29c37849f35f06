import type { AppContext } from '../../context.ts';
import { NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { can } from '../../providers/registry.ts';
import { findMedium, revealMediumToken } from '../mediums/repo.ts';
import { connectorContext } from './connector-context.ts';

/**
 * Seed 000's "Update PayFast credit card": the provider's page where the customer replaces the card behind
 * a tokenised medium (a HybridDayBundle's auto-recharge card), for any provider whose connector offers one.
 * The caller appends `?return=<url>`. The provider then notifies payrail, which marks the medium updated
 * (provider-callbacks, token_update).
 */
export async function cardMediumUpdateUrl(ctx: AppContext, scope: { operatorId: string; customerId: string | null }, mediumId: string): Promise<string> {
  const medium = await findMedium(ctx.database.db, scope.operatorId, mediumId);
  if (!medium || medium.customerId === null || (scope.customerId !== null && medium.customerId !== scope.customerId)) throw new NotFoundError('medium', mediumId);
  const connector = medium.provider ? ctx.connectors.find(medium.provider) : undefined;
  const stored = connector && medium.mediumType === 'CreditCard' && can(connector, 'cardUpdateUrl') ? await revealMediumToken(ctx.database.db, ctx.vault, medium.id) : null;
  if (!connector || !stored || stored.provider !== connector.id) {
    throw new UnprocessableError('medium.card_update_unavailable', `Medium ${mediumId} is not a tokenised card whose provider offers a card-update page.`);
  }
  return connector.cardUpdateUrl!({ token: stored.token, returnUrl: '' }, connectorContext(ctx, connector));
}
