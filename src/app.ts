import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import type { AppContext } from './context.ts';
import { createTokenVerifier, type TokenVerifier } from './http/auth.ts';
import { registerFormBodyParser } from './http/form-body.ts';
import { noteRoutes } from './http/allowed-methods.ts';
import { registerCanonicalIds } from './http/canonical-ids.ts';
import { registerJsonBodyParser } from './http/json-body.ts';
import { clientErrorHandler, frameworkErrorHandler } from './http/framework-errors.ts';
import { serializeError } from './http/log-safe-error.ts';
import { registerAuthentication } from './http/plugins/authentication.ts';
import { registerIdempotency } from './http/plugins/idempotency.ts';
import { registerMetrics, type Metrics } from './http/plugins/metrics.ts';
import { errorHandler, instanceOf, problem, sendProblem } from './http/problem.ts';
import type { App } from './http/route-kit.ts';
import { activeMediumRoutes } from './http/routes/active-medium.ts';
import { auditRoutes } from './http/routes/audit.ts';
import { buyNowRoutes } from './http/routes/buy-now.ts';
import { collectionRoutes } from './http/routes/collections.ts';
import { providerCallbackRoutes } from './http/routes/provider-callbacks.ts';
import { configurationRoutes } from './http/routes/configuration.ts';
import { customerRoutes } from './http/routes/customers.ts';
import { healthRoutes } from './http/routes/health.ts';
import { operatorRoutes } from './http/routes/operator.ts';
import { orderRoutes } from './http/routes/orders.ts';
import { paymentMediumRoutes } from './http/routes/payment-mediums.ts';
import { productRoutes } from './http/routes/products.ts';
import { purchaseSourceRoutes } from './http/routes/purchase-sources.ts';
import { purchaseRoutes } from './http/routes/purchases.ts';
import { utilityRoutes } from './http/routes/utility.ts';
import { serviceRoutes } from './http/routes/services.ts';
import { signInRoutes } from './http/routes/sign-in.ts';
import { webAppRoutes } from './http/routes/web-app.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';
import { billingRoutes } from './http/routes/billing.ts';
import { ProblemSchema } from './http/schemas/common.ts';
import { validatorCompiler } from './http/validation.ts';
import { findOperator } from './modules/operators/repo.ts';
import type { SandboxModule } from './sandboxes/kit/kit.ts';
import { registerSandboxes } from './sandboxes/registry.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export interface BuildOptions {
  /** Collect Node.js process metrics (off in tests, where many apps share a process). */
  processMetrics?: boolean;
  /** Replace the token verifier (tests of the JWKS path). */
  verifyToken?: TokenVerifier;
  /** The provider sandboxes to serve in sandbox mode (default: every registered one). */
  sandboxes?: readonly SandboxModule[];
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Build the HTTP application without listening (STYLE 2). Tests drive it with `inject`; `server.ts`
 * starts it on a port.
 */
export async function buildApp(ctx: AppContext, options: BuildOptions = {}): Promise<App> {
  const app = Fastify({
    // An error in a log line never carries what the caller sent (a failed query's parameters: a customer's details).
    loggerInstance: ctx.log.child({}, { serializers: { err: serializeError } }),
    // Errors before the router or the error handler see a request are problem+json too.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Fastify's own two lines per request are replaced by one line after the response (below).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1_048_576,
    // A caller's request id is kept (so a request can be followed across systems) if it is sane.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Behind a reverse proxy (PAYRAIL_TRUSTED_PROXIES), request.ip is the client the proxy saw: a provider's
    // notice is judged by the address it really came from, and X-Forwarded-For from anyone else is ignored.
    ...(ctx.config.trustedProxies.length > 0 ? { trustProxy: ctx.config.trustedProxies } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler());
  registerJsonBodyParser(app);
  registerFormBodyParser(app);
  registerCanonicalIds(app);
  app.setErrorHandler(errorHandler);
  const methodsAt = noteRoutes(app);
  app.setNotFoundHandler((request, reply) => {
    const path = instanceOf(request);
    const allowed = methodsAt(path);
    if (allowed.length > 0) {
      // OPTIONS asks what a path takes: the answer is Allow itself.
      const allow = [...allowed, 'OPTIONS'].sort().join(', ');
      reply.header('allow', allow);
      if (request.method === 'OPTIONS') return reply.status(204).send();
      return sendProblem(reply, problem(405, `${path} does not take ${request.method}; it takes ${allow}.`, path, { code: 'route.method_not_allowed' }));
    }
    return sendProblem(reply, problem(404, `There is no ${request.method} ${path}.`, path, { code: 'route.not_found' }));
  });
  app.addSchema(ProblemSchema);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // One log line per request, after it is answered. Query strings are left out: they carry ids.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url,
        // Provider sandboxes carry tokens in their paths (PayFast's /subscriptions/{token}/…): only the pattern.
        path: request.routeOptions.config?.sensitivePath ? request.routeOptions.url : instanceOf(request),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        sub: request.principal?.sub,
        operator: request.principal?.operatorId,
      },
      'request',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'payrail',
        version: '0.1.0',
        description:
          'The Purchase Order Service and Payment Service of a subscription operator: purchases, collections ' +
          'through South African payment providers, and notifications. Paths and JSON fields follow the ' +
          '"Customer Pay Now Flow for Payment Integrators" document. Errors are RFC 7807 problem+json. Every POST ' +
          'accepts an `Idempotency-Key` header: the same key and body within 24 hours replays the first response; ' +
          'the same key with another body is 422; a duplicate while the first is running is 409.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'Pay Now', description: 'The calls behind the Pay-Now and Buy-Now screens (seed 000)' },
        { name: 'Purchases', description: 'Purchases and their collection attempts' },
        { name: 'Services', description: 'Customers’ services' },
        { name: 'Off-system', description: 'Allocations of payments made outside payrail' },
        { name: 'Configuration', description: 'Billing schemes and operator rules' },
        { name: 'Setup', description: 'Operator settings, collectors, products, customers, orders (integrators and admins)' },
        { name: 'Billing', description: 'Billing runs: monthly purchases, retries, auto-recharges and suspensions, decided by a date (integrators and admins)' },
        { name: 'Webhooks', description: 'Endpoints that receive signed events (purchase.paid, payment.failed …) and their delivery log (integrators and admins)' },
        { name: 'Operations', description: 'Health, metrics and the signed-in user' },
        { name: 'Sandbox', description: 'Sandbox mode only: signing in as a demo user' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // Swagger UI's own pages and assets need no token.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true };
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  const verify = options.verifyToken ?? createTokenVerifier(ctx.config.jwt);
  registerAuthentication(app, verify, async (operatorId) => (await findOperator(ctx.database.db, operatorId)) !== null);
  registerIdempotency(app, ctx.database, ctx.clock, ctx.vault);
  app.decorate('metrics', registerMetrics(app, { defaultMetrics: options.processMetrics ?? false, registry: ctx.telemetry.registry }));

  for (const routes of [
    healthRoutes,
    paymentMediumRoutes,
    serviceRoutes,
    activeMediumRoutes,
    configurationRoutes,
    purchaseSourceRoutes,
    purchaseRoutes,
    utilityRoutes,
    collectionRoutes,
    providerCallbackRoutes,
    buyNowRoutes,
    operatorRoutes,
    productRoutes,
    customerRoutes,
    orderRoutes,
    auditRoutes,
    webhookRoutes,
    billingRoutes,
    signInRoutes,
  ]) {
    routes(app, ctx);
  }
  await webAppRoutes(app);
  await registerSandboxes(app, ctx, options.sandboxes);
  return app;
}
