import type { FastifyReply } from 'fastify';
import { renderMessagePage } from '../kit/pages.ts';

/** Small HTTP helpers of the PayFast sandbox: HTML pages for browser routes, PayFast's JSON shape for the API. */

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export const sendHtml = (reply: FastifyReply, status: number, html: string): FastifyReply => reply.status(status).type('text/html; charset=utf-8').send(html);

/** A message page; `link` adds one way onwards (back to the merchant). */
export function sendMessage(reply: FastifyReply, status: number, title: string, message: string, link?: { href: string; label: string } | null): FastifyReply {
  const page = renderMessagePage('PayFast', title, message);
  return sendHtml(reply, status, link ? page.replace('</body>', `<p><a href="${escape(link.href)}">${escape(link.label)}</a></p></body>`) : page);
}

/** PayFast's API envelope: `{ code, status: success | failed | error, data }`. */
export const sendApi = (reply: FastifyReply, code: number, data: Record<string, unknown>): FastifyReply =>
  reply.status(code).send({ code, status: code < 300 ? 'success' : code >= 500 ? 'error' : 'failed', data });

/** An http(s) URL, normalised (so it is safe in a Location header); null otherwise. */
export function httpUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 2048) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Text as PostgreSQL can store it: a lone UTF-16 surrogate (possible in a JSON string) becomes U+FFFD, as it
 * does in a form post, instead of failing a jsonb insert.
 */
export const wellFormed = (s: string): string => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** A request body's fields as strings (form posts give strings; numbers and booleans from JSON are written out). */
export function bodyFields(body: unknown): Record<string, string> | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[wellFormed(k)] = wellFormed(v);
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else return null;
  }
  return out;
}

export const money = (cents: number): string => `R ${(cents / 100).toFixed(2)}`;
