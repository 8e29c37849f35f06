import { randomBytes } from 'node:crypto';
import { startReceiver } from '../debitsuccess/test-client.ts';
import { createHarness } from '../../../test/helpers/harness.ts';
import { VODAPAY_SANDBOX_MERCHANT as MERCHANT } from './merchant.ts';

/** What this folder's tests share: payrail serving the sandbox on a real port, a clock they move, a notification receiver. */

export const P = '/sandbox/vodapay';
export const HEADERS = { 'api-key': MERCHANT.apiKey, test: 'true' };
export const newTrace = () => `trace-${randomBytes(8).toString('hex')}`;

export interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Dates relative to the sandbox clock (UTC+2 calendar). */
export const dayFrom = (now: Date, days: number) => new Date(now.getTime() + 2 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);

/** Seed 001's request, made valid today: category 6 (the seed's example says 2), a first payment date ahead. */
export function seedRequest(now: Date, overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    echoData: '123',
    traceId: newTrace(),
    amount: 50000,
    customerId: 'customer01',
    digitalWalletId: '00000000-0000-0000-0000-000000000000',
    additionalData: 'OPCD;3343',
    delayedSettlement: false,
    basket: [{ lineNumber: '1', Id: 'vod50', barcode: '232323232', quantity: 1, description: 'Vodacom R50 Voucher', amountExVAT: 42500, amountVAT: 7500 }],
    Notifications: { callbackUrl: 'https://www.merchant.com/done?order=7', notificationUrl: 'https://www.merchant.com/notify' },
    styling: { logoUrl: 'https://www.merchant.com/logo.png', bannerUrl: 'https://www.merchant.com/message.png', theme: 0 },
    electronicReceipt: { method: 0, address: '27721234567' },
    communication: { msisdn: '27721234567', message: 'To make your payment please go the the following url: *{PaymentUrl}*' },
    recurring: { category: 6, firstPaymentDate: dayFrom(now, 10), frequency: 6, regularPaymentDay: 1, amount: 20000, paymentInstrumentMinimumValidityPeriod: 3 },
    ...overrides,
  };
}

export const testCard = (number: string, expiry = '12/30') => ({ card_number: number, expiry, cvv: '123', holder: 'T Mokoena' });

export async function startSandbox() {
  let offsetMs = 0;
  let last = 0;
  const h = await createHarness({ listen: true, clock: () => new Date((last = Math.max(Date.now() + offsetMs, last + 1))) });
  const receiver = await startReceiver();
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> => {
    const form = headers['content-type'] === 'application/x-www-form-urlencoded';
    const res = await fetch(path.startsWith('http') ? path : `${h.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body) }),
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
  const client = {
    h,
    receiver,
    call,
    advance: (ms: number) => (offsetMs += ms),
    now: () => h.ctx.clock(),
    api: (path: string, body: unknown, headers: Record<string, string> = HEADERS) => call('POST', `${P}${path}`, body, headers),
    initiate: (body: Record<string, unknown>) => client.api('/V2/Pay/Recurring', body),
    submit: (body: Record<string, unknown>) => client.api('/V2/Pay/SubmitRecurring', body),
    control: (action: string, body: Record<string, unknown>) => client.api(`/V2/Token/${action}`, { tokenControlAction: action, traceId: newTrace(), ...body }),
    /** The page a browser opens: GET the initiationUrl, then POST its form (its action) with these fields. */
    async pay(initiationUrl: string, fields: Record<string, string>): Promise<{ page: Res; res: Res }> {
      const page = await call('GET', initiationUrl);
      const action = /<form method="post" action="([^"]+)"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
      if (!action) throw new Error(`no form on the page: ${page.status} ${page.text.slice(0, 200)}`);
      const res = await call('POST', action, fields, { 'content-type': 'application/x-www-form-urlencoded' });
      return { page, res };
    },
    /** A mandate paid on its page with this card: the payment token. */
    async mandate(card = '4242424242424242', overrides: Record<string, unknown> = {}): Promise<{ token: string; traceId: string; location: string }> {
      const req = seedRequest(client.now(), overrides);
      const init = await client.initiate(req);
      if (init.body?.data?.responseCode !== '00') throw new Error(`initiation failed: ${init.text}`);
      let { res } = await client.pay(init.body.data.initiationUrl, { ...testCard(card), action: 'pay' });
      // Card …0259 is unavailable the first time on a page: the customer tries again.
      if (res.status === 503) ({ res } = await client.pay(init.body.data.initiationUrl, { ...testCard(card), action: 'pay' }));
      const location = res.headers.get('location') ?? '';
      const data = callbackData(location);
      const repeat = await client.initiate(req);
      if (!repeat.body.data.paymentToken) throw new Error(`no token: ${JSON.stringify(data)} ${repeat.text}`);
      return { token: repeat.body.data.paymentToken, traceId: req.traceId, location };
    },
    behave: (settings: Record<string, unknown>) => call('PUT', `${P}/behaviour`, settings),
    resetBehaviour: () => call('DELETE', `${P}/behaviour`),
    ledger: async (ref?: string) => (await call('GET', `${P}/transactions${ref ? `?merchant_reference=${encodeURIComponent(ref)}` : ''}`)).body.items as any[],
    async close() {
      await receiver.close();
      await h.close();
    },
  };
  return client;
}
export type Client = Awaited<ReturnType<typeof startSandbox>>;

/** The `data` of a callback location, decoded. */
export function callbackData(location: string | null): any {
  const data = new URL(location ?? 'http://x/').searchParams.get('data');
  return data ? JSON.parse(Buffer.from(data, 'base64').toString('utf8')) : null;
}
