import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { DEBITSUCCESS_SANDBOX_MERCHANT as MERCHANT } from './merchant.ts';

/** What this folder's tests share: a payrail serving the sandbox on a real port, a clock they move, a webhook receiver. */

export const P = '/sandbox/debitsuccess';
export const USER = { Username: MERCHANT.username, Password: MERCHANT.password };
export const newExternal = () => `EXT${randomBytes(5).toString('hex').toUpperCase()}`;

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: any;
}

/** The merchant's webhook receiver: records everything; answers 200, or what `answer` says for a path. */
export async function startReceiver() {
  const received: Received[] = [];
  const answers = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      received.push({ path: req.url ?? '', headers, body: JSON.parse(body || 'null') });
      res.writeHead(answers.get(req.url ?? '') ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const at = (path: string) => received.filter((r) => r.path === path);
  return {
    fresh: () => {
      const path = `/hook/${randomUUID()}`;
      return { url: `${base}${path}`, path };
    },
    answer: (path: string, status: number) => answers.set(path, status),
    at,
    // Returns as soon as `count` have arrived; the bound only matters when one never does, and a loaded
    // machine (the whole suite on two cores) can take more than 5 s to deliver a sandbox's webhook.
    async waitFor(path: string, count: number, timeoutMs = 20_000): Promise<Received[]> {
      const until = Date.now() + timeoutMs;
      while (at(path).length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      return at(path);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

export interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** A sandbox on a real port whose clock the test moves with `advance(ms)`. */
export async function startSandbox() {
  let offsetMs = 0;
  let last = 0;
  const h = await createHarness({ listen: true, clock: () => new Date((last = Math.max(Date.now() + offsetMs, last + 1))) });
  const receiver = await startReceiver();
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> => {
    const form = typeof body === 'object' && body !== null && headers['content-type'] === 'application/x-www-form-urlencoded';
    const res = await fetch(`${h.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body) }),
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
    getPaymentToken: async (fields: Record<string, unknown>) => (await call('POST', `${P}/DSAPI/GetPaymentToken`, { User: USER, ...fields })).body,
    cardStatus: async (fields: Record<string, unknown>) => (await call('POST', `${P}/DSAPI/GetCardPaymentStatusForCustomerAccount`, { User: USER, ...fields })).body,
    /** A token for a real-time card payment (or the request's overrides) that must succeed. */
    async token(fields: Record<string, unknown> = {}) {
      const res = await client.getPaymentToken({ ExternalAccountReferenceNo: newExternal(), PayMethodType: 'CreditCard', RequestType: 'RealTimePayment', Amount: 379, CreateOneOffCharge: true, PaymentNote: 'Monthly fibre', CallbackURL: 'https://shop.example/ds-return', ...fields });
      if (res.Status !== 'Succeed') throw new Error(`GetPaymentToken failed: ${JSON.stringify(res.ResponseNotes)}`);
      return res as { Token: string; WebhookToken: string; ValidTo: string; PaymentFormURL: string };
    },
    formPath: (token: string) => `${P}/PayNow/T/${token}`,
    open: (token: string) => call('GET', `${P}/PayNow/T/${token}`),
    submit: (token: string, fields: Record<string, string>) => call('POST', `${P}/PayNow/T/${token}`, fields, { 'content-type': 'application/x-www-form-urlencoded' }),
    behave: (settings: Record<string, unknown>) => call('PUT', `${P}/behaviour`, settings),
    resetBehaviour: () => call('DELETE', `${P}/behaviour`),
    ledger: async (ref?: string) => (await call('GET', `${P}/transactions${ref ? `?merchant_reference=${encodeURIComponent(ref)}` : ''}`)).body.items as any[],
    async bearer(): Promise<Record<string, string>> {
      const res = await call('POST', `${P}/identity/connect/token`, { grant_type: 'client_credentials', client_id: MERCHANT.clientId, client_secret: MERCHANT.clientSecret }, { 'content-type': 'application/x-www-form-urlencoded' });
      return { authorization: `Bearer ${res.body.access_token}` };
    },
    /** An account (new external reference) with this bank account stored through the PayNow form. */
    async bankAccount(accountNumber: string): Promise<{ accountReferenceNo: string; external: string }> {
      const external = newExternal();
      const t = await client.token({ ExternalAccountReferenceNo: external, RequestType: 'UpdatePaymentDetail', PayMethodType: 'BankAccount', Amount: undefined, CreateOneOffCharge: false, PaymentNote: undefined });
      await client.open(t.Token);
      const res = await client.submit(t.Token, bankForm(accountNumber));
      const location = new URL(res.headers.get('location')!);
      if (location.searchParams.get('Status') !== 'Success') throw new Error(`storing the bank account: ${location.href}`);
      return { accountReferenceNo: location.searchParams.get('AccountReferenceNo')!, external };
    },
    /** An account (new external reference) with this card stored through the PayNow form (UpdatePaymentDetail). */
    async card(form: Record<string, string>): Promise<{ accountReferenceNo: string; external: string }> {
      const external = newExternal();
      const t = await client.token({ ExternalAccountReferenceNo: external, RequestType: 'UpdatePaymentDetail', PayMethodType: 'CreditCard', Amount: undefined, CreateOneOffCharge: false, PaymentNote: undefined });
      await client.open(t.Token);
      const res = await client.submit(t.Token, form);
      const location = new URL(res.headers.get('location')!);
      if (location.searchParams.get('Status') !== 'Success') throw new Error(`storing the card: ${location.href}`);
      return { accountReferenceNo: location.searchParams.get('AccountReferenceNo')!, external };
    },
  };
  return client;
}
export type Client = Awaited<ReturnType<typeof startSandbox>>;

export const dsCard = (holder: string, expiry = '04/25') => ({ card_number: '4444333322221111', expiry, cvv: '123', holder });
/** One of payrail's test cards (SPEC §6) by number: 4242… approves, …0002 and …9995 decline, …0259 fails at the gateway. */
export const testCard = (number: string) => ({ card_number: number, expiry: '12/30', cvv: '123', holder: 'T Mokoena' });
export const bankForm = (accountNumber: string) => ({ account_holder: 'T Mokoena', bank: 'FNB', branch_code: '250655', account_number: accountNumber, account_type: 'Cheque' });

/** The callback's query, in order, as [name, value] pairs (values decoded). */
export const callbackQuery = (location: string | null): [string, string][] => [...new URL(location ?? 'http://x/').searchParams];
