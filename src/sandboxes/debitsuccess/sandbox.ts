import type { FastifyError } from 'fastify';
import type { SandboxModule } from '../kit/kit.ts';
import { registerAccountPaymentDetail } from './account-detail.ts';
import { registerBankDay, startBankDayTimer } from './bank-day.ts';
import { debitsuccessBehaviour } from './behaviour.ts';
import { registerCardCharges } from './card-charges.ts';
import { registerCardStatus } from './card-status.ts';
import { registerDebitOrders } from './debit-orders.ts';
import { registerGetPaymentToken } from './get-payment-token.ts';
import { PROVIDER } from './merchant.ts';
import { registerPayNow } from './pay-now.ts';
import { registerPaymentStatuses } from './payment-statuses.ts';
import { registerTokenRoute } from './rest-auth.ts';
import { enableWebhook, kickWebhooks, stopWebhooks, webhookStatus } from './webhooks.ts';

/**
 * Debitsuccess, the provider's side, under /sandbox/debitsuccess (README.md): GetPaymentToken and
 * GetCardPaymentStatusForCustomerAccount (seed 002's messages), the PayNow form, the facility's webhooks,
 * the REST API's debit orders, payment statuses and card charges (OAuth2), and the bank day that moves debit orders.
 */
export const debitsuccessSandbox: SandboxModule = {
  name: 'debitsuccess',
  provider: PROVIDER,
  behaviour: debitsuccessBehaviour,
  routes(scope, ctx) {
    // Bad input never gets a 500: a client error keeps its 4xx, as JSON.
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) request.log.error({ err: error }, 'Debitsuccess sandbox failed');
      return reply.status(status).send({ errorCode: status >= 500 ? 'server_error' : 'bad_request', message: status >= 500 ? 'The sandbox failed; the error has been logged.' : error.message });
    });
    registerGetPaymentToken(scope, ctx);
    registerCardStatus(scope, ctx);
    registerAccountPaymentDetail(scope, ctx);
    registerPayNow(scope, ctx);
    registerTokenRoute(scope, ctx);
    registerDebitOrders(scope, ctx);
    registerPaymentStatuses(scope, ctx);
    registerCardCharges(scope, ctx);
    registerBankDay(scope, ctx);
    scope.get('/webhook', async () => {
      kickWebhooks(ctx);
      return webhookStatus(ctx);
    });
    scope.post('/webhook/enable', async () => {
      await enableWebhook(ctx);
      return webhookStatus(ctx);
    });
    let stopBankDay = () => {};
    // Webhooks left undelivered by a previous process are this one's to deliver.
    scope.addHook('onReady', async () => {
      stopBankDay = startBankDayTimer(ctx);
      kickWebhooks(ctx);
    });
    scope.addHook('onClose', async () => {
      stopBankDay();
      await stopWebhooks(ctx);
    });
  },
};
