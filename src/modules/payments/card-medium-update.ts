import type { AppContext } from '../../context.ts';
import { NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { findMedium, revealMediumToken } from '../mediums/repo.ts';
import { connectorContext } from './connector-context.ts';

/**
 * Seed 000's "Update PayFast credit card": the PayFast page where the customer replaces the card behind a
 * tokenised medium (a HybridDayBundle's auto-recharge card). The caller appends `?return=<url>`. PayFast
 * then notifies payrail, which marks the medium updated (provider-callbacks, token_update).
 */
export async function cardMediumUpdateUrl(ctx: AppContext, scope: { operatorId: string; customerId: string | null }, mediumId: string): Promise<string> {
  const medium = await findMedium(ctx.database.db, scope.operatorId, mediumId);
  if (!medium || medium.customerId === null || (scope.customerId !== null && medium.customerId !== scope.customerId)) throw new NotFoundError('medium', mediumId);
  if (medium.mediumType !== 'CreditCard' || medium.provider !== 'PayFast') {
    throw new UnprocessableError('medium.not_payfast_card', `Medium ${mediumId} is not a PayFast-tokenised card; only those are updated on PayFast's page.`);
  }
  const connector = ctx.connectors.get('PayFast');
  const stored = await revealMediumToken(ctx.database.db, ctx.vault, medium.id);
  if (!stored || !connector.cardUpdateUrl) throw new UnprocessableError('medium.not_payfast_card', `Medium ${mediumId} has no PayFast token.`);
  return connector.cardUpdateUrl({ token: stored.token, returnUrl: '' }, connectorContext(ctx, 'PayFast'));
}
