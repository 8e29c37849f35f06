import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../route-kit.ts';
import { webAppRoutes } from './web-app.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function appWith(files: Record<string, string> | null) {
  const dist = mkdtempSync(join(tmpdir(), 'payrail-web-'));
  dirs.push(dist);
  for (const [name, text] of Object.entries(files ?? {})) {
    mkdirSync(join(dist, name, '..'), { recursive: true });
    writeFileSync(join(dist, name), text);
  }
  const app = Fastify() as unknown as App;
  await webAppRoutes(app, dist);
  await app.ready();
  return app;
}

const BUILT = { 'index.html': '<!doctype html><div id="root"></div><script type="module" src="/app/assets/index-abc.js"></script>', 'assets/index-abc.js': 'console.log(1)' };

describe('the client interface at /app', () => {
  it('serves index.html for the app’s own routes, with a strict content security policy', async () => {
    const app = await appWith(BUILT);
    for (const url of ['/app', '/app/', '/app/services/e14c231d-5899-44be-b7a1-aa46893c8d83/pay', '/app/ext-pay/a40efeb6/62289f11/1?x=1']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<div id="root">');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves built assets as they are, cached for good, and a missing asset as a 404 problem, not the page', async () => {
    const app = await appWith(BUILT);
    const asset = await app.inject('/app/assets/index-abc.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    const missing = await app.inject('/app/assets/index-old.js');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(missing.body)).toMatchObject({ status: 404, code: 'route.not_found' });
    // No way out of the build folder.
    expect((await app.inject('/app/../package.json')).body).not.toContain('"dependencies"');
    expect((await app.inject('/app/%2e%2e/%2e%2e/package.json')).body).not.toContain('"dependencies"');
  });

  it('says how to build it when it has not been built', async () => {
    const app = await appWith(null);
    const res = await app.inject('/app/services/x');
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 503, code: 'app.not_built' });
    expect(JSON.parse(res.body).detail).toContain('npm run build');
  });
});
