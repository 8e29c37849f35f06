import type { Actor, AppContext } from '../../context.ts';
import type { MediumType, Provider } from '../../domain/enums.ts';
import { NotFoundError, UnprocessableError } from '../../lib/errors.ts';
import { recordAudit } from '../audit/record.ts';
import { findOperator, updateOperator, type OperatorRow } from './repo.ts';

export interface OperatorSettingsChange {
  name?: string;
  vatRateBp?: number;
  paymentLinksEnabled?: boolean;
  graceDays?: number;
  retryDays?: number[];
  autoRechargeAttempts?: number;
  defaultBankProvider?: Provider;
  defaultCardProvider?: Provider;
}

/**
 * Change an operator's settings (admins). A default provider must be one payrail has a connector for that
 * declares it can be the default for that medium type.
 */
export async function updateOperatorSettings(ctx: Pick<AppContext, 'database' | 'connectors'>, operatorId: string, actor: Actor, change: OperatorSettingsChange): Promise<OperatorRow> {
  const unsuitable = (provider: Provider | undefined, type: MediumType, field: string, what: string) =>
    provider !== undefined && !ctx.connectors.canBeDefault(provider, type)
      ? { name: `body.default_providers.${field}`, reason: ctx.connectors.find(provider) ? `${provider} does not collect from ${what}` : `payrail has no connector for ${provider}` }
      : null;
  const wrong = [unsuitable(change.defaultBankProvider, 'BankAccount', 'bank_account', 'bank accounts'), unsuitable(change.defaultCardProvider, 'CreditCard', 'credit_card', 'cards')].filter((e) => e !== null);
  if (wrong.length > 0) throw new UnprocessableError('operator.provider_unsuitable', 'A default provider cannot collect that medium type.', { errors: wrong });

  return ctx.database.db.transaction(async (tx) => {
    const before = await findOperator(tx, operatorId);
    if (!before) throw new NotFoundError('operator', operatorId);
    const changes = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
    if (Object.keys(changes).length === 0) return before;
    const after = await updateOperator(tx, operatorId, changes);
    const diff = Object.fromEntries(
      Object.keys(changes).map((k) => [k, { from: before[k as keyof OperatorRow], to: after[k as keyof OperatorRow] }]),
    );
    await recordAudit(tx, actor, { operatorId, entityType: 'operator', entityId: operatorId, action: 'operator.settings_changed', data: diff });
    return after;
  });
}
