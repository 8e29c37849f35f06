import { randomUUID } from 'node:crypto';
import { createHarness } from '../../../test/helpers/harness.ts';
import { VENDOR_SANDBOX_CREDENTIALS as CREDS } from './merchant.ts';

/** What this folder's tests share: payrail serving the sandbox on a real port, and well-formed messages. */

export const P = '/sandbox/vendor';
export const API = `${P}/prepaidutility/v3`;
export const basic = (username: string = CREDS.username, password: string = CREDS.password) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
export const AUTH = { authorization: basic() };

export interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** The fields every Transaction carries, for the message `id`. */
export const base = (id: string = randomUUID()) => ({
  id,
  time: new Date().toISOString(),
  originator: {
    institution: { id: '270001', name: 'payrail' },
    terminalId: 'PAYRAIL1',
    merchant: { merchantType: '4900', merchantId: 'PAYRAIL00000001', merchantName: { name: 'PAYRAIL', city: 'CAPE TOWN', region: 'WC', country: 'ZA' } },
  },
  client: { id: '270001', name: 'payrail' },
  thirdPartyIdentifiers: [{ institutionId: '270001', transactionIdentifier: id }],
});

export const purchase = (meterId = '01234567890', amount = 10_000, id: string = randomUUID()): Record<string, any> => ({
  ...base(id),
  meter: { meterId },
  purchaseAmount: { amount, currency: '710' },
  utilityType: 'ELECTRICITY',
});

export const advice = (requestId: string, id: string = randomUUID(), extra: Record<string, unknown> = {}) => ({
  id,
  requestId,
  time: new Date().toISOString(),
  thirdPartyIdentifiers: [{ institutionId: '270001', transactionIdentifier: requestId }],
  ...extra,
});

export async function startSandbox() {
  const h = await createHarness({ listen: true });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> => {
    const res = await fetch(`${h.baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  const api = (path: string, body: unknown, headers: Record<string, string> = AUTH) => call('POST', `${API}${path}`, body, headers);
  return {
    h,
    call,
    api,
    buy: (body: Record<string, any>) => api(`/tokenPurchases/${body.id}`, body),
    retry: (body: Record<string, any>) => api(`/tokenPurchases/${body.id}/retry`, body),
    confirm: (requestId: string, body: Record<string, any> = advice(requestId)) => api(`/tokenPurchases/${requestId}/confirmations/${body.id}`, body),
    reverse: (requestId: string, body: Record<string, any> = advice(requestId, undefined, { reversalReason: 'TIMEOUT' })) => api(`/tokenPurchases/${requestId}/reversals/${body.id}`, body),
    lookup: (meterId: string, id: string = randomUUID()) => api(`/meterLookups/${id}`, { ...base(id), meter: { meterId } }),
    reprint: (meterId: string, originalRef?: string, id: string = randomUUID()) => api(`/tokenReprints/${id}`, { ...base(id), meter: { meterId }, ...(originalRef ? { originalRef } : {}) }),
    behave: (settings: Record<string, unknown>) => call('PUT', `${P}/behaviour`, settings),
    resetBehaviour: () => call('DELETE', `${P}/behaviour`),
    ledger: async (ref?: string) => (await call('GET', `${P}/transactions${ref ? `?merchant_reference=${encodeURIComponent(ref)}` : ''}`)).body.items as any[],
    advices: async (requestId?: string) => (await call('GET', `${P}/advices${requestId ? `?request_id=${requestId}` : ''}`)).body.items as any[],
    close: () => h.close(),
  };
}
export type Client = Awaited<ReturnType<typeof startSandbox>>;
