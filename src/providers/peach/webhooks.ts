import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundRequest } from '../contract.ts';
import { isObject, jsonObject } from '../kit/http.ts';
import { signatureMatches } from './signature.ts';
import type { CheckoutFields } from './transformers.ts';

/**
 * What Peach posts back (PROVIDERS.md): the shopper's redirect and webhooks carry the same flat fields
 * (`result.code`, `card.last4Digits` …) signed in the body; a webhook may come as a form or as JSON (a
 * `payload` wrapper), with its dotted names written with underscores, and optionally with a header HMAC
 * over `timestamp.webhookId.url.rawBody`. Pure: no I/O.
 */

/** Prefixes of Peach's dotted field names, as they arrive when a gateway writes `.` as `_`. */
const DOTTED = ['authentication', 'result', 'resultDetails', 'card', 'customer', 'billing', 'shipping', 'customParameters', 'risk', 'standingInstruction', 'threeDSecure', 'cart', 'recurring'];
const UNDERSCORED = new RegExp(`^(${DOTTED.join('|')})_(.+)$`);

/** `result_code` → `result.code` (a name already dotted, or not Peach's, is left as it is). */
export const dottedName = (name: string): string => name.replace(UNDERSCORED, '$1.$2');

export type ParsedCallback = { ok: true; fields: CheckoutFields; format: 'form' | 'json' } | { ok: false; reason: string };

/** `{ result: { code } }` → `{ "result.code": … }`; only strings (and numbers) are kept as fields. */
function flatten(value: Record<string, unknown>, prefix = '', out: Record<string, string> = {}): Record<string, string> | null {
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof v === 'string') out[name] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) out[name] = String(v);
    else if (typeof v === 'boolean') out[name] = String(v);
    else if (isObject(v)) {
      if (flatten(v, name, out) === null) return null;
    } else if (v !== null) return null;
  }
  return out;
}

/** The fields of a redirect or webhook body, whichever of Peach's shapes it came in. */
export function parseCallbackBody(request: InboundRequest): ParsedCallback {
  const contentType = (header(request, 'content-type') ?? '').toLowerCase();
  if (contentType.startsWith('application/json')) {
    const body = jsonObject(request.rawBody);
    const payload = body && isObject(body.payload) ? body.payload : body;
    const flat = payload ? flatten(payload) : null;
    if (!flat) return { ok: false, reason: 'not a JSON object of Peach fields' };
    return { ok: true, fields: Object.fromEntries(Object.entries(flat).map(([k, v]) => [dottedName(k), v])), format: 'json' };
  }
  if (contentType !== '' && !contentType.startsWith('application/x-www-form-urlencoded')) return { ok: false, reason: `not a form post or JSON (${contentType.slice(0, 60)})` };
  const pairs = [...new URLSearchParams(request.rawBody)];
  if (new Set(pairs.map(([k]) => k)).size !== pairs.length) return { ok: false, reason: 'a field is repeated' };
  const fields = Object.fromEntries(pairs.map(([k, v]) => [dottedName(k), v]));
  if (Object.keys(fields).length !== pairs.length) return { ok: false, reason: 'a field arrives both dotted and with underscores' };
  return { ok: true, fields, format: 'form' };
}

export function header(request: InboundRequest, name: string): string | undefined {
  return Object.entries(request.headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

export type HeaderVerdict = 'absent' | 'valid' | 'invalid';

/**
 * The header HMAC: `x-webhook-signature` = hex HMAC-SHA256 under the secret token of
 * `${x-webhook-timestamp}.${x-webhook-id}.${url}.${rawBody}` (`x-webhook-signature-algorithm` HmacSHA256).
 */
export function headerSignature(request: InboundRequest, secretToken: string): HeaderVerdict {
  const signature = header(request, 'x-webhook-signature');
  if (signature === undefined) return 'absent';
  const timestamp = header(request, 'x-webhook-timestamp');
  const id = header(request, 'x-webhook-id');
  const algorithm = header(request, 'x-webhook-signature-algorithm') ?? 'HmacSHA256';
  if (!timestamp || !id || algorithm.replace(/[-_]/g, '').toLowerCase() !== 'hmacsha256' || !/^[0-9a-fA-F]{64}$/.test(signature)) return 'invalid';
  const expected = createHmac('sha256', secretToken).update(`${timestamp}.${id}.${request.url}.${request.rawBody}`, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? 'valid' : 'invalid';
}

/**
 * A callback is authentic when its header HMAC is valid, or (without one) its fields carry a valid
 * signature. A header HMAC that is present but wrong rejects it, whatever the body says.
 */
export function authentic(request: InboundRequest, fields: CheckoutFields, secretToken: string): { ok: true } | { ok: false; reason: string } {
  const byHeader = headerSignature(request, secretToken);
  if (byHeader === 'invalid') return { ok: false, reason: 'the header signature does not match' };
  if (byHeader === 'valid') return fields.signature === undefined || signatureMatches(fields, secretToken) ? { ok: true } : { ok: false, reason: 'the body signature does not match' };
  if (!fields.signature) return { ok: false, reason: 'no signature' };
  return signatureMatches(fields, secretToken) ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}
