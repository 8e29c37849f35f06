import type { ConnectorContext, ProviderSettings } from '../contract.ts';
import { exchange, type Exchange } from '../kit/http.ts';
import type { PayFastCredentials } from './credentials.ts';
import { apiSignature } from './signature.ts';

/** PayFast's REST API (api.payfast.co.za): where it is, and one signed call. */

/** The REST API's base: PayFast's API host for its own hosts, else `/api` under the base URL (payrail's sandboxes). */
export function apiBase(settings: ProviderSettings): string {
  const base = settings.baseUrl.replace(/\/+$/, '');
  const host = new URL(base).hostname;
  if (host === 'sandbox.payfast.co.za' || host === 'www.payfast.co.za' || host === 'payfast.co.za') return 'https://api.payfast.co.za';
  return `${base}/api`;
}

const testingQuery = (settings: ProviderSettings): string => (new URL(settings.baseUrl).hostname === 'sandbox.payfast.co.za' ? '?testing=true' : '');

/** A signed REST call: headers merchant-id, version, timestamp and signature over headers, query and body fields. */
export function apiCall(ctx: ConnectorContext, creds: PayFastCredentials, method: 'GET' | 'POST', path: string, body?: Record<string, string | number>): Promise<Exchange> {
  const timestamp = ctx.clock().toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const headerFields = { 'merchant-id': creds.merchantId, version: 'v1', timestamp };
  const bodyFields = Object.fromEntries(Object.entries(body ?? {}).map(([k, v]) => [k, String(v)]));
  const signature = apiSignature({ ...headerFields, ...bodyFields }, creds.passphrase);
  return exchange(ctx, `${apiBase(ctx.settings)}${path}${testingQuery(ctx.settings)}`, {
    method,
    headers: { ...headerFields, signature, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}
