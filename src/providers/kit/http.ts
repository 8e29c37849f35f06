import type { ConnectorContext } from '../contract.ts';

/**
 * The one way connectors speak HTTP: the context's fetch (keep-alive, lib/http-transport.ts), the
 * provider's timeout, never following a redirect, and the one rule that decides what a failure means.
 *
 * - `answer`: the provider answered (any status); the body is read whole.
 * - `not_sent`: the request cannot have reached the provider (refused connection, DNS failure, TLS
 *   refused, an address that is not one, a connection not made within the timeout). Nothing happened
 *   there, so a caller may say so: "nothing was charged".
 * - `lost`: the request may have reached the provider but its answer did not reach us (timeout after
 *   connecting, a dropped connection, an unreadable body). Its outcome is unknown until looked up.
 */
export type Exchange =
  | { kind: 'answer'; status: number; text: string; header(name: string): string | null }
  | { kind: 'not_sent'; error: unknown }
  | { kind: 'lost'; error: unknown };

/** Failures that happen before a byte of the request leaves this machine. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
  // TLS is refused during the handshake, before the request is written.
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** True when an error (or its causes, or every error of an AggregateError) says nothing was sent. */
export function neverSent(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 6) return false;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
  if (typeof e.code === 'string' && NOT_SENT_CODES.has(e.code)) return true;
  // Node's fetch refuses some ports before connecting, with this message and no code.
  if (e.message === 'bad port') return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => neverSent(x, depth + 1))) return true;
  return neverSent(e.cause, depth + 1);
}

/** One HTTP exchange with the provider, within the context's timeout. */
export async function exchange(ctx: ConnectorContext, url: string, init: RequestInit = {}): Promise<Exchange> {
  let response: Response;
  try {
    response = await ctx.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(ctx.timeoutMs) });
  } catch (error) {
    return neverSent(error) ? { kind: 'not_sent', error } : { kind: 'lost', error };
  }
  try {
    const text = await response.text();
    return { kind: 'answer', status: response.status, text, header: (name) => response.headers.get(name) };
  } catch (error) {
    return { kind: 'lost', error };
  }
}

/** A JSON body as a plain object, or null (not JSON, or not an object). */
export function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** An error's name and socket code, fit for a log line or a payment record (never a URL with credentials). */
export function errorName(error: unknown): string {
  if (!(error instanceof Error)) return 'error';
  let code: string | undefined;
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
  }
  return code ? `${error.name} (${code})` : error.name;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
