import type { AppContext } from '../../context.ts';
import type { Provider } from '../../domain/enums.ts';
import { toHundredths } from '../../domain/money.ts';
import { NotFoundError, ValidationError } from '../../lib/errors.ts';
import { findOperator } from '../../modules/operators/repo.ts';
import { updateOperatorSettings } from '../../modules/operators/update-settings.ts';
import { errorResponses } from '../schemas/common.ts';
import { OperatorSchema, OperatorSettingsBody } from '../schemas/setup.ts';
import { principalOf } from '../plugins/authentication.ts';
import { actorOf, ADMIN, secured, STAFF, type App } from '../route-kit.ts';
import { operatorView } from '../setup-views.ts';

export function operatorRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/operator',
    {
      config: { roles: STAFF },
      schema: { ...secured('Setup'), summary: "The caller's operator and its settings", response: { 200: OperatorSchema, ...errorResponses(401, 403, 404) } },
    },
    async (request) => {
      const operator = await findOperator(ctx.database.db, principalOf(request).operatorId);
      if (!operator) throw new NotFoundError('operator');
      return operatorView(operator);
    },
  );

  app.patch(
    '/operator',
    {
      config: { roles: ADMIN },
      schema: {
        ...secured('Setup'),
        summary: 'Change operator settings (admins)',
        description: 'VAT rate, payment links on/off, grace days, retry days, auto-recharge attempts and the default provider per medium type. A default provider must be able to collect that medium type.',
        body: OperatorSettingsBody,
        response: { 200: OperatorSchema, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request) => {
      const body = request.body;
      let vatRateBp: number | undefined;
      if (body.vat_rate !== undefined) {
        const bp = toHundredths(body.vat_rate);
        if (bp === null) throw new ValidationError('vat_rate has at most two decimals.', [{ name: 'body.vat_rate', reason: 'must have at most two decimals' }]);
        vatRateBp = bp;
      }
      const updated = await updateOperatorSettings(ctx, principalOf(request).operatorId, actorOf(request), {
        name: body.name,
        vatRateBp,
        paymentLinksEnabled: body.payment_links_enabled,
        graceDays: body.grace_days,
        retryDays: body.retry_days === undefined ? undefined : [...body.retry_days].sort((a, b) => a - b),
        autoRechargeAttempts: body.auto_recharge_attempts,
        defaultBankProvider: body.default_providers?.bank_account as Provider | undefined,
        defaultCardProvider: body.default_providers?.credit_card as Provider | undefined,
      });
      return operatorView(updated);
    },
  );
}
