import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq, like } from 'drizzle-orm';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { apiSignature, FORM_FIELDS, formSignature } from '../../providers/payfast/signature.ts';
import type { CardOutcome } from '../kit/cards.ts';
import { sandboxNotifications, sandboxTokens, sandboxTransactions } from '../kit/schema.ts';

/** What this folder's tests share: a payrail serving the sandbox over HTTP, a merchant's ITN receiver, and signed calls. */

export const P = '/sandbox/payfast';
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const newRef = () => `P${randomBytes(6).toString('hex')}`;
export const card = (number: string) => ({ card_number: number, expiry: '12/30', cvv: '123', holder: 'Test Holder' });
export const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** A clock that never gives one millisecond twice, so "the most recent charge" has one answer in fast tests. */
export function monotonicClock(): () => Date {
  let last = 0;
  return () => new Date((last = Math.max(Date.now(), last + 1)));
}

export interface Received {
  path: string;
  body: string;
  at: number;
}

/** The merchant's side: an HTTP server that records every ITN and answers 200. Each test asks for its own path. */
export async function startReceiver() {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
      received.push({ path: req.url ?? '', body, at: Date.now() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const at = (path: string) => received.filter((r) => r.path === path);
  return {
    /** A fresh notify URL and its path. */
    fresh(): { url: string; path: string } {
      const path = `/itn/${randomUUID()}`;
      return { url: `${base}${path}`, path };
    },
    at,
    /** Waits until `count` ITNs have arrived at `path` (a few seconds at most). */
    async waitFor(path: string, count: number, timeoutMs = 5_000): Promise<Received[]> {
      const until = Date.now() + timeoutMs;
      while (at(path).length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      return at(path);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

export async function startSandbox(): Promise<{ h: Harness; receiver: Receiver; client: ReturnType<typeof payfastClient> }> {
  const h = await createHarness({ listen: true, clock: monotonicClock() });
  const receiver = await startReceiver();
  return { h, receiver, client: payfastClient(h) };
}

export function payfastClient(h: Harness) {
  const post = (url: string, fields: Record<string, string> | string, headers: Record<string, string> = FORM) =>
    h.app.inject({ method: 'POST', url, headers, payload: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString() });
  const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });
  const apiHeaders = (fields: Record<string, string> = {}, overrides: Record<string, string> = {}): Record<string, string> => {
    const base = { 'merchant-id': MERCHANT.merchantId, version: 'v1', timestamp: new Date().toISOString() };
    return { ...base, signature: apiSignature({ ...base, ...fields }, MERCHANT.passphrase), ...overrides };
  };
  const paymentForm = (notifyUrl: string | null, overrides: Record<string, string> = {}): Record<string, string> => ({
    merchant_id: MERCHANT.merchantId,
    merchant_key: MERCHANT.merchantKey,
    return_url: 'https://shop.example/paid',
    cancel_url: 'https://shop.example/cancelled',
    ...(notifyUrl ? { notify_url: notifyUrl } : {}),
    m_payment_id: newRef(),
    amount: '100.00',
    item_name: 'Test item',
    ...overrides,
  });
  return {
    post,
    get,
    apiHeaders,
    paymentForm,
    signedForm: (form: Record<string, string>) => ({ ...form, signature: formSignature(FORM_FIELDS.filter((k) => form[k] !== undefined).map((k) => [k, form[k]!] as const), MERCHANT.passphrase) }),
    /** Posts the hosted form and returns the payment page's path. */
    async openPage(notifyUrl: string | null, overrides: Record<string, string> = {}): Promise<{ path: string; id: string; ref: string }> {
      const form = paymentForm(notifyUrl, overrides);
      const res = await post(`${P}/eng/process`, form);
      if (res.statusCode !== 302) throw new Error(`the hosted form answered ${res.statusCode}: ${res.body}`);
      const url = new URL(res.headers.location as string);
      return { path: url.pathname, id: url.pathname.split('/').pop()!, ref: form.m_payment_id! };
    },
    adhoc: (token: string, body: Record<string, unknown>) => {
      const headers = apiHeaders(Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])));
      return h.app.inject({ method: 'POST', url: `${P}/api/subscriptions/${token}/adhoc`, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    },
    query: (id: string) => h.app.inject({ method: 'GET', url: `${P}/api/process/query/${encodeURIComponent(id)}`, headers: apiHeaders() }),
    behave: (settings: Record<string, unknown>) => h.app.inject({ method: 'PUT', url: `${P}/behaviour`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(settings) }),
    resetBehaviour: () => h.app.inject({ method: 'DELETE', url: `${P}/behaviour` }),
    /** A token of the given test card, made directly in the sandbox's table. */
    async cardToken(outcome: CardOutcome = 'approve', notifyUrl: string | null = null): Promise<string> {
      const token = randomUUID();
      await h.ctx.database.db.insert(sandboxTokens).values({ token, provider: 'PayFast', outcome, cardBin: '424242', cardLast4: '4242', expiryMonth: 1, expiryYear: 2032, holder: 'Test', notifyUrl, createdAt: new Date('2025-03-04T10:00:00Z') });
      return token;
    },
    rows: (ref: string) => h.ctx.database.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.merchantReference, ref)),
    tokenRows: (token: string) => h.ctx.database.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.token, token)),
    /** ITNs stored (sent or to be sent) whose body starts with this m_payment_id. */
    itnsFor: (ref: string) => h.ctx.database.db.select().from(sandboxNotifications).where(like(sandboxNotifications.body, `m_payment_id=${ref}&%`)),
    itnsTo: (url: string) => h.ctx.database.db.select().from(sandboxNotifications).where(eq(sandboxNotifications.url, url)),
  };
}
export type Client = ReturnType<typeof payfastClient>;

/** An ITN's fields in order, and whether its signature is PayFast's: MD5 of the posted string before `signature`, plus the passphrase. */
export function readItn(body: string): { fields: [string, string][]; values: URLSearchParams; signed: boolean } {
  const [params = '', signature = ''] = body.split('&signature=');
  return { fields: [...new URLSearchParams(body)], values: new URLSearchParams(body), signed: signature === md5(`${params}&passphrase=${MERCHANT.passphrase}`) };
}

export const ITN_FIELDS = [
  'm_payment_id', 'pf_payment_id', 'payment_status', 'item_name', 'item_description', 'amount_gross', 'amount_fee', 'amount_net',
  'custom_str1', 'custom_str2', 'custom_str3', 'custom_str4', 'custom_str5', 'custom_int1', 'custom_int2', 'custom_int3', 'custom_int4', 'custom_int5',
  'name_first', 'name_last', 'email_address', 'merchant_id',
];
