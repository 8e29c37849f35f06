import type { FastifyInstance } from 'fastify';

/**
 * The methods payrail serves at a path, for the not-found handler: a path payrail serves, asked with a method
 * it does not serve there, is 405 with `Allow` (RFC 9110 §15.5.6), not 404 — the caller learns that the
 * resource exists and what it takes. Every route is noted as it is added (register this before any route).
 */
export function noteRoutes(app: FastifyInstance): (path: string) => string[] {
  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = patternOf(route.url ?? route.path);
    for (const method of methods) routes.push({ method: method.toUpperCase(), pattern });
  });
  return (path) => {
    const allowed = new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    // Fastify answers HEAD wherever it answers GET.
    if (allowed.has('GET')) allowed.add('HEAD');
    return [...allowed].sort();
  };
}

/** A route's URL as a pattern over paths: `:param` (with or without its own regex) is one segment, `*` the rest. */
function patternOf(url: string): RegExp {
  const segments = url
    .replace(/\/+$/, '')
    .split('/')
    .map((segment) => (segment === '*' ? '.*' : segment.includes(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  // Trailing slashes are ignored by the router (ignoreTrailingSlash).
  return new RegExp(`^${segments.join('/')}/?$`);
}
