import { existsSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import { ROOT } from '../../paths.ts';
import { problem, sendProblem } from '../problem.ts';
import type { App } from '../route-kit.ts';

/** Where `npm run build` puts the client interface (web/). */
export const WEB_DIST = join(ROOT, 'web', 'dist');

/**
 * The app's pages may load only what payrail serves itself; they talk to payrail's API on the same
 * origin and leave for a provider's hosted page by navigation, which this does not restrict.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY');
}

/**
 * The client interface (SPEC §8) at `/app`: the files `npm run build` made, and `index.html` for every
 * other path under /app, so that the app's own routes (`/app/services/…`, `/app/ext-pay/…/1`) load it.
 * Hashed assets are cached for good; index.html is revalidated, so a new build shows at once.
 */
export async function webAppRoutes(app: App, dist = WEB_DIST): Promise<void> {
  const index = join(dist, 'index.html');
  const built = existsSync(index);
  const assets = join(dist, 'assets') + sep;
  const hidden = { config: { public: true }, schema: { hide: true } } as const;

  if (built) {
    // The plugin's routes (one per file) are public, like the pages.
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/app/')) route.config = { ...route.config, public: true };
    });
    await app.register(fastifyStatic, {
      root: dist,
      prefix: '/app/',
      wildcard: false,
      index: false,
      decorateReply: false,
      setHeaders(res, path) {
        res.header('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
        res.header('x-content-type-options', 'nosniff');
      },
    });
  }

  const page = built ? readFileSync(index, 'utf8') : '';
  const serveIndex = async (_request: unknown, reply: FastifyReply) => {
    if (!built) {
      return sendProblem(reply, problem(503, 'The client interface has not been built: run `npm run build` (npm start does it).', '/app', { code: 'app.not_built' }));
    }
    return pageHeaders(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page);
  };
  app.get('/app', hidden, serveIndex);
  app.get('/app/*', hidden, (request, reply) => {
    // A missing asset is a 404, not the app: a stale page asking for an old bundle must not get HTML.
    if (request.url.startsWith('/app/assets/')) {
      return sendProblem(reply, problem(404, 'No such file.', request.url.split('?')[0]!, { code: 'route.not_found' }));
    }
    return serveIndex(request, reply);
  });
}
