import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { ConnectorError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import type { CaptureInput, ConnectorContext, ProviderSettings } from '../contract.ts';
import { resolveSettings } from '../settings.ts';
import { debitsuccessConnector as ds } from './connector.ts';

/**
 * The Debitsuccess connector against the built-in sandbox over real HTTP: GetPaymentToken for a capture
 * (UpdatePaymentDetail), and every refusal of seed 002 it can meet, mapped to what payrail's caller sees.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true });
});
afterAll(() => h?.close());

const settings = (): ProviderSettings => resolveSettings(ds.settings, h.ctx.config.providers.debitsuccess, h.ctx.config);
const ctx = (overrides: Partial<ConnectorContext> = {}): ConnectorContext => ({
  fetch,
  clock: () => new Date(),
  log: h.ctx.log,
  settings: settings(),
  timeoutMs: 5_000,
  resolveHost: async () => [],
  ...overrides,
});
const customer = { id: 'c-1', name: 'Thandi Mokoena', email: 'thandi@example.co.za', cellNumber: '+27821234567' };
const capture = (overrides: Partial<CaptureInput> = {}, c = ctx()) =>
  ds.createCapture!({ reference: 'cap-1', mediumType: 'BankAccount', accountReference: `payrail-${crypto.randomUUID()}`, customer, returnUrl: `${h.baseUrl}/callbacks/debitsuccess/capture/cap-1`, ...overrides }, c);
/** The refusal a capture meets, as payrail's caller would see it. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string; message: string; providerCode: unknown }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    const e = err as ConnectorError;
    return { status: e.status, code: e.code, message: e.message, providerCode: e.extensions?.provider_code ?? null };
  }
  throw new Error('the capture was not refused');
}

describe('Debitsuccess GetPaymentToken for a capture', () => {
  it('answers a one-time form for a bank account: an 8-character token in the form URL, valid 10 minutes, and a webhook token', async () => {
    const before = Date.now();
    const session = await capture();
    expect(session.providerReference).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(session.noticeSecret).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(session.redirectUrl.endsWith(session.providerReference!)).toBe(true);
    expect(session.expiresAt!.getTime() - before).toBeGreaterThan(9.9 * 60_000);
    expect(session.expiresAt!.getTime() - before).toBeLessThanOrEqual(10 * 60_000 + 5_000);
    // The raw answer kept with the attempt holds neither token.
    expect(JSON.stringify(session.raw)).not.toContain(session.providerReference!);
    expect(JSON.stringify(session.raw)).not.toContain(session.noticeSecret!);
    const form = await fetch(session.redirectUrl);
    expect(form.status).toBe(200);
    expect(await form.text()).toMatch(/account number/i);
  });

  it('asks for a card when the medium is a card', async () => {
    const session = await capture({ mediumType: 'CreditCard' });
    const page = await (await fetch(session.redirectUrl)).text();
    expect(page).toMatch(/card number/i);
    expect(page).not.toMatch(/branch code/i);
  });

  it('refuses a customer Debitsuccess has no single active account for: 422 naming the code, nothing to send the customer to', async () => {
    const cases: [string, string, RegExp][] = [
      ['DS-MULTIPLE', '07', /more than one account/],
      ['DS-NORECORD', '08', /no account/],
      ['DS-INACTIVE', '10', /not active/],
      ['DS-ADDON', '14107', /add-on product/],
    ];
    for (const [accountReference, code, says] of cases) {
      const r = await refusal(capture({ accountReference }));
      expect(r, accountReference).toMatchObject({ status: 422, code: 'provider.declined', providerCode: code });
      expect(r.message).toMatch(says);
      expect(r.message).toContain(`(${code} `);
    }
  });

  it('maps refused credentials to a configuration problem (503), never a customer’s', async () => {
    const wrong: ProviderSettings = { ...settings(), sandbox: false, credentials: { username: new Secret('payrail-sandbox'), password: new Secret('not-the-password') } };
    expect(await refusal(capture({}, ctx({ settings: wrong })))).toMatchObject({ status: 503, code: 'provider.misconfigured', providerCode: '02' });
    const missing: ProviderSettings = { ...settings(), sandbox: false, credentials: {} };
    expect(await refusal(capture({}, ctx({ settings: missing })))).toMatchObject({ status: 503, code: 'provider.misconfigured', message: expect.stringContaining('PAYRAIL_DEBITSUCCESS_USERNAME') });
  });

  it('maps a CallbackURL Debitsuccess refuses to a protocol problem (it is payrail’s own address)', async () => {
    expect(await refusal(capture({ returnUrl: 'not a url' }))).toMatchObject({ status: 503, code: 'provider.protocol', providerCode: '14043' });
    expect(await refusal(capture({ returnUrl: `${h.baseUrl}/callbacks/${'x'.repeat(260)}` }))).toMatchObject({ status: 503, code: 'provider.protocol', providerCode: '14040' });
  });

  it('says nothing was sent when Debitsuccess cannot be reached', async () => {
    const away: ProviderSettings = { ...settings(), baseUrl: 'http://127.0.0.1:9' };
    const r = await refusal(capture({}, ctx({ settings: away })));
    expect(r).toMatchObject({ status: 503, code: 'provider.unavailable' });
    expect(r.message).toContain('nothing was sent');
  });
});

describe('the payment-status feed', () => {
  it('reads every status change once, across reads, even 1,100 stamped with one instant (more than one read’s pages)', async () => {
    // The sandbox's own records of 1,100 debit orders cleared at one instant, and one before them (seeded
    // straight into its tables: making them through the API would take 1,100 customers).
    const at = new Date('2031-03-02T08:00:00.000Z');
    const tag = crypto.randomUUID().slice(0, 8);
    await h.ctx.database.query(
      `INSERT INTO sandbox.debitsuccess_debit_orders (id, external_payment_identifier, account_reference_no, amount_cents, outcome, status, submitted_bank_day, created_at, updated_at)
       SELECT 'DF' || $1 || lpad(g::text, 5, '0'), 'feed-' || $1 || '-' || g, 'TST9999999', 10000, 'clears', 'Cleared', 0, $2, $2 FROM generate_series(0, 1100) g`,
      [tag, at],
    );
    await h.ctx.database.query(
      `INSERT INTO sandbox.debitsuccess_payment_statuses (payment_id, status, reason, returned, bank_day, occurred_at)
       SELECT 'DF' || $1 || lpad(g::text, 5, '0'), 'Cleared', NULL, false, 1, CASE WHEN g = 0 THEN $2::timestamptz - interval '1 second' ELSE $2::timestamptz END
       FROM generate_series(0, 1100) g ORDER BY g`,
      [tag, at],
    );
    const c = ctx({ clock: () => new Date(at.getTime() + 60_000) });
    const seen: string[] = [];
    let position: string | null = null;
    let reads = 0;
    for (let more = true; more && reads < 10; reads++) {
      const page = await ds.readPaymentFeed!({ position, startAt: new Date(at.getTime() - 5_000) }, c);
      seen.push(...page.entries.filter((e) => e.merchantReference?.startsWith(`feed-${tag}-`)).map((e) => e.merchantReference!));
      expect(page.entries.every((e) => e.kind === 'payment' && e.result.status === 'succeeded')).toBe(true);
      position = page.position;
      more = page.more;
    }
    expect(reads).toBe(2); // 20 pages a read: 1,000 entries, then the rest
    expect(seen).toHaveLength(1101);
    expect(new Set(seen).size).toBe(1101);

    // Read again at once: nothing new (the instant is not settled yet, so it is re-read and skipped).
    const again = await ds.readPaymentFeed!({ position, startAt: at }, c);
    expect(again.entries.filter((e) => e.merchantReference?.startsWith(`feed-${tag}-`))).toEqual([]);
    // A status stamped with the same instant that arrives later is still read.
    await h.ctx.database.query(
      `INSERT INTO sandbox.debitsuccess_payment_statuses (payment_id, status, reason, returned, bank_day, occurred_at) VALUES ('DF' || $1 || '00001', 'Failed', 'Returned unpaid: disputed by the account holder', true, 2, $2)`,
      [tag, at],
    );
    const late = await ds.readPaymentFeed!({ position: again.position, startAt: at }, c);
    const mine = late.entries.filter((e) => e.merchantReference?.startsWith(`feed-${tag}-`));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'payment_return', merchantReference: `feed-${tag}-1`, returned: { code: 'Failed', message: 'Returned unpaid: disputed by the account holder' } });
  });
});

describe('every refusal of seed 002', () => {
  it('is mapped: each code of GetPaymentToken’s table reaches payrail’s caller as a named problem', async () => {
    const { REFUSALS } = await import('./connector.ts');
    // Seed 002's response codes (../shared/seeds): there is no 14037.
    const seed = ['02', '07', '08', '10', '12016', '14034', '14035', '14036', '14038', '14039', '14040', '14041', '14042', '14043', '14044', '14045', '14107'];
    expect(Object.keys(REFUSALS).sort()).toEqual(seed.sort());
    for (const code of seed) expect(REFUSALS[code]!.says).toMatch(/^Debitsuccess|^The customer’s Debitsuccess/);
  });

  it('a real-time payment meets the amount and account refusals as a customer’s problem (422), with nothing sent to the form', async () => {
    const checkout = (customerId: string, amountCents: number) =>
      ds.createCheckout!(
        {
          merchantReference: 'pay-1',
          amount: { amountCents, currency: 'ZAR' },
          description: 'Monthly Recurring 20/10',
          customer: { ...customer, id: customerId },
          returnUrl: `${h.baseUrl}/app/ext-pay/u/p/1`,
          cancelUrl: `${h.baseUrl}/app/ext-pay/u/p/0`,
          notificationUrl: null,
          tokenise: false,
        },
        ctx(),
      );
    expect(await refusal(checkout(`payrail-${crypto.randomUUID()}`, 250_000))).toMatchObject({ status: 422, code: 'provider.declined', providerCode: '14044' });
    expect(await refusal(checkout('DS-FIXEDTERM', 15_000))).toMatchObject({ status: 422, code: 'provider.declined', providerCode: '14045' });
    expect(await refusal(checkout('DS-INACTIVE', 1_000))).toMatchObject({ status: 422, code: 'provider.declined', providerCode: '10' });
    expect(await refusal(checkout('', 1_000))).toMatchObject({ status: 503, code: 'provider.protocol', providerCode: '12016' });
    const ok = await checkout(`payrail-${crypto.randomUUID()}`, 200_000);
    expect(ok.redirectUrl.endsWith(ok.providerReference!)).toBe(true);
  });
});
