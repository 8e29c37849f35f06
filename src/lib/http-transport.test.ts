import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from './http-transport.ts';

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/echo') return res.writeHead(201, { 'content-type': 'application/json', 'x-seen': String(req.headers['x-key']) }).end(JSON.stringify({ method: req.method, body }));
      if (req.url === '/redirect') return res.writeHead(302, { location: '/echo' }).end();
      if (req.url === '/drop') return req.socket.destroy();
      if (req.url === '/half') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        return setTimeout(() => req.socket.destroy(), 20);
      }
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 2_000);
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const causeCode = async (p: Promise<unknown>) => {
  const err = (await p.catch((e: unknown) => e)) as { message: string; cause?: { code?: string; name?: string } };
  return { message: err.message, code: err.cause?.code, name: err.cause?.name };
};

describe('the connectors’ HTTP transport', () => {
  it('sends method, headers and body, and reads status, headers and text', async () => {
    const res = await httpFetch(`${base}/echo`, { method: 'POST', headers: { 'x-key': 'k1', 'content-type': 'text/plain' }, body: 'a=1&b=2' });
    expect(res.status).toBe(201);
    expect(res.headers.get('X-Seen')).toBe('k1');
    expect(await res.json()).toEqual({ method: 'POST', body: 'a=1&b=2' });
  });

  it('returns a redirect as it is', async () => {
    const res = await httpFetch(`${base}/redirect`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/echo');
  });

  it('says "never sent" with the socket’s code when nobody listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await causeCode(httpFetch(`http://127.0.0.1:${port}/x`))).toMatchObject({ message: 'fetch failed', code: 'ECONNREFUSED' });
  });

  it('fails (with no "never sent" code) when the answer is lost, whole or half way', async () => {
    expect((await causeCode(httpFetch(`${base}/drop`, { method: 'POST', body: 'x' }))).code).toBe('ECONNRESET');
    expect((await causeCode(httpFetch(`${base}/half`))).code).toBe('ECONNRESET');
  });

  it('gives up at the signal’s deadline', async () => {
    const r = await causeCode(httpFetch(`${base}/slow`, { signal: AbortSignal.timeout(100) }));
    expect(r).toMatchObject({ message: 'fetch failed', name: 'TimeoutError' });
  });
});
