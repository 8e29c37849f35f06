import type { FastifyError } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import { registerLedgerRoute, type SandboxModule } from '../kit/kit.ts';
import { registerApiRoutes } from './api.ts';
import { registerCardUpdate } from './card-update.ts';
import { sendApi, sendMessage } from './http.ts';
import { registerValidateRoute } from './itn.ts';
import { registerPaymentPage } from './payment-page.ts';
import { registerProcessRoute } from './process.ts';
import { PROVIDER } from './store.ts';

/**
 * The built-in PayFast sandbox, under /sandbox/payfast (see README.md in this folder): the hosted form and
 * payment page, ITNs and their server confirmation, the REST API (ad hoc charges, token fetch/cancel,
 * transaction query), card update, and the ledger at /transactions.
 */
export const payfastSandbox: SandboxModule = {
  name: 'payfast',
  provider: PROVIDER,
  routes(scope, ctx) {
    const api = `${scope.prefix}/api/`;
    // Bad input never gets a 500: a client error keeps its 4xx, in PayFast's JSON on the API and as a page elsewhere.
    scope.setErrorHandler((error: FastifyError | AppError, request, reply) => {
      const status = error instanceof AppError ? error.status : (error.statusCode ?? 500);
      const client = status >= 400 && status < 500;
      if (!client) request.log.error({ err: error }, 'PayFast sandbox failed');
      const message = client ? error.message : 'The sandbox failed; the error has been logged.';
      const code = client ? status : 500;
      return request.url.startsWith(api) ? sendApi(reply, code, { message }) : sendMessage(reply, code, 'Payment error', message);
    });
    registerLedgerRoute(scope, ctx, PROVIDER);
    registerProcessRoute(scope, ctx);
    registerPaymentPage(scope, ctx);
    registerValidateRoute(scope, ctx);
    registerApiRoutes(scope, ctx);
    registerCardUpdate(scope, ctx);
  },
};
