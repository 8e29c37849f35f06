import type { FastifyError } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import type { SandboxModule } from '../kit/kit.ts';
import { registerAdhocRoute } from './adhoc.ts';
import { registerApiRoutes } from './api.ts';
import { payfastBehaviour } from './behaviour.ts';
import { registerCardUpdate } from './card-update.ts';
import { sendApi, sendMessage } from './http.ts';
import { registerValidateRoute } from './itn.ts';
import { registerPaymentPage } from './payment-page.ts';
import { registerProcessRoute } from './process.ts';
import { registerRefundRoutes } from './refunds.ts';
import { PROVIDER } from './store.ts';

/**
 * The built-in PayFast sandbox, under /sandbox/payfast (see README.md in this folder): the hosted form and
 * payment page, ITNs and their server confirmation, the REST API (ad hoc charges, token fetch/cancel,
 * transaction query, refunds), card update, the ledger at /transactions, and the behaviour settings at /behaviour.
 */
export const payfastSandbox: SandboxModule = {
  name: 'payfast',
  provider: PROVIDER,
  behaviour: payfastBehaviour,
  routes(scope, ctx) {
    const api = `${scope.prefix}/api/`;
    const behaviour = `${scope.prefix}/behaviour`;
    // Bad input never gets a 500: a client error keeps its 4xx, in PayFast's JSON on the API and as a page elsewhere.
    scope.setErrorHandler((error: FastifyError | AppError, request, reply) => {
      const status = error instanceof AppError ? error.status : (error.statusCode ?? 500);
      const client = status >= 400 && status < 500;
      if (!client) request.log.error({ err: error }, 'PayFast sandbox failed');
      const message = client ? error.message : 'The sandbox failed; the error has been logged.';
      const code = client ? status : 500;
      if (request.url.startsWith(api)) return sendApi(reply, code, { message });
      // The behaviour route (the kit's) answers `{message}` JSON, unreadable bodies included.
      if (request.url.startsWith(behaviour)) return reply.status(code).type('application/json; charset=utf-8').send({ message });
      return sendMessage(reply, code, 'Payment error', message);
    });
    registerProcessRoute(scope, ctx);
    registerPaymentPage(scope, ctx);
    registerValidateRoute(scope, ctx);
    registerApiRoutes(scope, ctx);
    registerAdhocRoute(scope, ctx);
    registerCardUpdate(scope, ctx);
    registerRefundRoutes(scope, ctx);
  },
};
