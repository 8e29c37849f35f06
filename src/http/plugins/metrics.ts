import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, type Registry } from 'prom-client';

/**
 * Prometheus metrics at `/metrics`. One registry per app, so several apps in one process (tests) never
 * collide. Later modules add their own metrics (payment outcomes, job lag) to `registry`.
 */
export interface Metrics {
  registry: Registry;
}

export function registerMetrics(app: FastifyInstance, options: { defaultMetrics: boolean; registry: Registry }): Metrics {
  const { registry } = options;
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'payrail_' });
  const requests = new Counter({
    name: 'payrail_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'payrail_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would explode the label set.
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    requests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });

  return { registry };
}
