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
    const decoded = asRouted(path);
    const allowed = new Set(routes.filter((r) => r.pattern.test(decoded)).map((r) => r.method));
    // Fastify answers HEAD wherever it answers GET.
    if (allowed.has('GET')) allowed.add('HEAD');
    return [...allowed].sort();
  };
}

/**
 * A path as the router matches it: %-escapes of ASCII characters decoded (`/heal%74h` is `/health`), but not
 * those of `/`, `?`, `#` and `%`, which the router keeps inside a segment. Route paths are ASCII, so other
 * escapes stay as they are.
 */
function asRouted(path: string): string {
  return path.replace(/%([0-7][0-9A-Fa-f])/g, (escape, hex: string) => (['2F', '3F', '23', '25'].includes(hex.toUpperCase()) ? escape : String.fromCharCode(parseInt(hex, 16))));
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
