import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './target-policy.ts';

/** How much of the receiver's answer the delivery log keeps: enough to read an error, not a page of it. */
export const EXCERPT_CHARS = 200;

export interface PostResult {
  statusCode: number;
  /** The first EXCERPT_CHARS characters of the answer's body (never its headers). */
  excerpt: string;
}

/**
 * One POST of a webhook. With `addresses`, the connection goes to those addresses and no others: the
 * host name is not looked up again between the check and the connection (DNS rebinding), while TLS
 * still verifies the certificate for the host name. No keep-alive (a pooled socket could belong to an
 * earlier answer of the resolver), no redirects followed, at most `timeoutMs` in all, and the answer is
 * read no further than the excerpt needs.
 */
export function postWebhook(url: URL, body: string, headers: Record<string, string>, options: { addresses: ResolvedAddress[] | null; timeoutMs: number }): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const pinned: LookupFunction | undefined = options.addresses
      ? (_hostname, lookupOptions, callback) => {
          const list = options.addresses!;
          if (lookupOptions.all) (callback as unknown as (err: null, all: ResolvedAddress[]) => void)(null, list);
          else callback(null, list[0]!.address, list[0]!.family);
        }
      : undefined;
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: false,
      ...(pinned ? { lookup: pinned } : {}),
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => request.destroy(Object.assign(new Error(`No answer within ${options.timeoutMs / 1000} s.`), { name: 'TimeoutError' })), options.timeoutMs);
    let answer: { statusCode: number; chunks: Buffer[]; size: number } | null = null;
    // Once the status has arrived it is the answer, however the body ends (cut short, too slow, too long).
    const finish = () =>
      settle(() => {
        resolve({ statusCode: answer!.statusCode, excerpt: Buffer.concat(answer!.chunks).toString('utf8').slice(0, EXCERPT_CHARS) });
        request.destroy();
      });
    request.on('error', (err) => (answer ? finish() : settle(() => reject(err))));
    request.on('response', (res: IncomingMessage) => {
      const got = (answer = { statusCode: res.statusCode ?? 0, chunks: [] as Buffer[], size: 0 });
      res.on('data', (chunk: Buffer) => {
        got.chunks.push(chunk);
        got.size += chunk.byteLength;
        // Four bytes a character at most: enough has been read for the excerpt.
        if (got.size >= EXCERPT_CHARS * 4) finish();
      });
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
    });
    request.end(body);
  });
}
