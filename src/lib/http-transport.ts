import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/**
 * The HTTP client connectors use (ConnectorContext.fetch): a small fetch over node:http with keep-alive.
 * Node 20's built-in fetch costs several times the CPU per request (measured here: ~340–500 µs against
 * ~50–90 µs for node:http), and every card collection makes a provider call, so this is on the hot path.
 *
 * It does what connectors use and no more: method, headers, a string body, an AbortSignal; the answer's
 * status, headers.get() and text()/json(). It never follows a redirect (a 3xx comes back as it is).
 * Errors look like fetch's: `TypeError('fetch failed', { cause })`, the cause carrying the socket's code
 * (ECONNREFUSED …), so connectors tell "never sent" from "sent, no answer" the same way.
 */
// An idle socket is closed after 4 s (as Node's fetch does): a provider's stale keep-alive connection is
// never reused after the server dropped it, and a server shutting down is not kept waiting by our idle ones.
const IDLE_SOCKET_MS = 4_000;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256, timeout: IDLE_SOCKET_MS }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256, timeout: IDLE_SOCKET_MS }),
};

export const httpFetch = ((input: string | URL, init: RequestInit = {}) =>
  new Promise<Response>((resolve, reject) => {
    let url: URL;
    try {
      url = typeof input === 'string' ? new URL(input) : input;
    } catch (err) {
      return reject(new TypeError('fetch failed', { cause: Object.assign(err as Error, { code: 'ERR_INVALID_URL' }) }));
    }
    const protocol = url.protocol as 'http:' | 'https:';
    if (!(protocol in agents)) return reject(new TypeError('fetch failed', { cause: Object.assign(new Error(`unsupported protocol ${url.protocol}`), { code: 'ERR_INVALID_URL' }) }));
    const signal = init.signal ?? null;
    if (signal?.aborted) return reject(signal.reason);

    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    const body = init.body === undefined || init.body === null ? null : String(init.body);
    if (body !== null) headers['content-length'] = String(Buffer.byteLength(body));

    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      reject(new TypeError('fetch failed', { cause: err }));
    };
    // Aborted before a connection was made: nothing can have been sent (connectors then say so).
    const onAbort = () => {
      const socket = request.socket;
      const connected = socket !== null && socket !== undefined && !socket.connecting;
      request.destroy(connected ? (signal?.reason instanceof Error ? signal.reason : new Error('aborted')) : Object.assign(new Error('no connection within the timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
    };
    const request = (protocol === 'https:' ? https : http).request(url, { method: init.method ?? 'GET', headers, agent: agents[protocol] }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(answer(res, Buffer.concat(chunks).toString('utf8')));
      });
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
    request.end(body ?? undefined);
  })) as typeof fetch;

function answer(res: IncomingMessage, text: string): Response {
  const status = res.statusCode ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    statusText: res.statusMessage ?? '',
    redirected: false,
    headers: {
      get(name: string): string | null {
        const value = res.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
  } as unknown as Response;
}
