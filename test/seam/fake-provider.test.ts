import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID } from '../../src/modules/mediums/repo.ts';
import type { AttemptResult, Connector, ConnectorContext } from '../../src/providers/contract.ts';
import { exchange, jsonObject } from '../../src/providers/kit/http.ts';
import { CONNECTORS } from '../../src/providers/registry.ts';
import { checkCardForm } from '../../src/sandboxes/kit/cards.ts';
import { renderAutoPostPage, renderCardPage } from '../../src/sandboxes/kit/pages.ts';
import { sendNotification, type SandboxModule } from '../../src/sandboxes/kit/kit.ts';
import { SANDBOXES } from '../../src/sandboxes/registry.ts';
import { approvedCharges, CARDS, eventually, formOf, payOnHostedPage, postForm, unpaidPurchase } from '../helpers/collections.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * A provider payrail has never heard of — "FakePay", its connector and its sandbox written here — added
 * through the two registries alone (the lists passed to createConnectorRegistry and buildApp), and used
 * end to end: "Add new payment method" on its hosted page, its webhook and browser return, the card it
 * kept charged later, a forged webhook refused. Nothing else in payrail knows it exists.
 */

const PROVIDER = 'FakePay';
const TEST_KEY = 'fakepay-published-test-key';
const sign = (key: string, body: string) => createHmac('sha256', key).update(body).digest('hex');

/** FakePay's wire protocol, the provider's side: JSON API with an API key, a card page, signed webhooks. */
const fakeSandbox: SandboxModule = {
  name: 'fakepay',
  provider: PROVIDER,
  routes(scope, ctx) {
    const keyOk = (headers: Record<string, unknown>) => headers['x-api-key'] === TEST_KEY;
    const record = async (row: { reference: string; kind: string; amountCents: number; approved: boolean; token: string | null; sessionId?: string }) => {
      const id = `fp_${randomUUID().slice(0, 8)}`;
      await ctx.database.db.insert(t.sandboxTransactions).values({
        id,
        provider: PROVIDER,
        merchantReference: row.reference,
        sessionId: row.sessionId ?? null,
        token: row.token,
        kind: row.kind,
        amountCents: row.amountCents,
        status: row.approved ? 'approved' : 'declined',
        resultCode: row.approved ? 'paid' : 'declined',
        resultDescription: row.approved ? 'Paid' : 'Declined',
      });
      return id;
    };
    scope.post('/sessions', async (request, reply) => {
      if (!keyOk(request.headers)) return reply.status(401).send({ error: 'bad key' });
      const b = request.body as { reference: string; amount_cents: number; return_url: string; notify_url: string | null; save_card: boolean };
      const id = randomUUID();
      await ctx.database.db.insert(t.sandboxSessions).values({ id, provider: PROVIDER, kind: 'checkout', merchantReference: b.reference, amountCents: b.amount_cents, params: b });
      return reply.status(201).send({ id, url: `${ctx.config.publicUrl}/sandbox/fakepay/pay/${id}` });
    });
    scope.get('/pay/:id', async (request, reply) => {
      const id = (request.params as { id: string }).id;
      return reply.type('text/html').send(renderCardPage({ provider: 'FakePay', title: 'Pay', summary: [], action: `/sandbox/fakepay/pay/${id}`, saveCard: true }));
    });
    scope.post('/pay/:id', async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const [session] = await ctx.database.db.select().from(t.sandboxSessions).where(and(eq(t.sandboxSessions.id, id), eq(t.sandboxSessions.provider, PROVIDER)));
      if (!session || session.status !== 'open') return reply.status(409).send('closed');
      const check = checkCardForm(request.body as Record<string, string>, ctx.clock());
      if (!check.ok) return reply.status(400).send(check.message);
      const params = session.params as { reference: string; amount_cents: number; return_url: string; notify_url: string | null; save_card: boolean };
      const approved = check.card.outcome === 'approve';
      const token = approved && params.save_card ? `tok_${randomUUID()}` : null;
      if (token) await ctx.database.db.insert(t.sandboxTokens).values({ token, provider: PROVIDER, outcome: check.card.outcome, cardBin: check.card.bin, cardLast4: check.card.last4, expiryMonth: check.card.expiryMonth, expiryYear: check.card.expiryYear, holder: check.card.holder });
      const txn = await record({ reference: params.reference, kind: 'hosted', amountCents: params.amount_cents, approved, token, sessionId: id });
      await ctx.database.db.update(t.sandboxSessions).set({ status: 'completed', transactionId: txn }).where(eq(t.sandboxSessions.id, id));
      if (params.notify_url) {
        const body = JSON.stringify({ event_id: txn, reference: params.reference, status: approved ? 'paid' : 'declined', amount_cents: params.amount_cents, ...(token ? { token, last4: check.card.last4 } : {}) });
        await sendNotification(ctx, { provider: PROVIDER, url: params.notify_url, contentType: 'application/json', body, headers: { 'x-fakepay-signature': sign(TEST_KEY, body) } });
      }
      return reply.type('text/html').send(renderAutoPostPage(params.return_url, { session: id, reference: params.reference }));
    });
    scope.get('/payments', async (request, reply) => {
      if (!keyOk(request.headers)) return reply.status(401).send({ error: 'bad key' });
      const reference = (request.query as { reference?: string }).reference ?? '';
      const rows = await ctx.database.db.select().from(t.sandboxTransactions).where(and(eq(t.sandboxTransactions.provider, PROVIDER), eq(t.sandboxTransactions.merchantReference, reference)));
      const row = rows[0];
      if (!row) return reply.status(404).send({ error: 'no such payment' });
      return { id: row.id, status: row.status === 'approved' ? 'paid' : 'declined', amount_cents: row.amountCents, token: row.token };
    });
    scope.post('/charges', async (request, reply) => {
      if (!keyOk(request.headers)) return reply.status(401).send({ error: 'bad key' });
      const b = request.body as { reference: string; token: string; amount_cents: number };
      const [card] = await ctx.database.db.select().from(t.sandboxTokens).where(and(eq(t.sandboxTokens.provider, PROVIDER), eq(t.sandboxTokens.token, b.token)));
      if (!card) return reply.status(404).send({ error: 'no such card' });
      const approved = card.outcome === 'approve';
      const id = await record({ reference: b.reference, kind: 'token', amountCents: b.amount_cents, approved, token: b.token });
      return { id, status: approved ? 'paid' : 'declined', amount_cents: b.amount_cents };
    });
  },
};

/** FakePay's connector: the contract, nothing more. */
const fakeConnector: Connector = {
  id: PROVIDER,
  settings: { key: 'fakepay', credentials: ['api_key'], hosts: { base: '/sandbox/fakepay' } },
  capabilities: { tokenCharges: ['CreditCard'], tokenisation: true, defaultFor: ['CreditCard'] },
  callbacks: [
    { channel: 'redirect', path: '/callbacks/fakepay/return', answer: 'after-verify' },
    { channel: 'webhook', path: '/callbacks/fakepay/notify', answer: 'after-verify', notification: true },
  ],
  timing: { firstCheckAfterMs: 1_000, sessionTtlMs: 600_000, settleWindowMs: 60_000 },

  async createCheckout(input, ctx) {
    const sent = await api(ctx, 'POST', '/sessions', { reference: input.merchantReference, amount_cents: input.amount.amountCents, return_url: input.returnUrl, notify_url: input.notificationUrl, save_card: input.tokenise });
    const body = sent.kind === 'answer' ? jsonObject(sent.text) : null;
    if (!body || typeof body.url !== 'string') throw new Error('FakePay did not open a session');
    return { redirectUrl: body.url, providerReference: String(body.id), expiresAt: new Date(ctx.clock().getTime() + 600_000), raw: { id: body.id } };
  },
  async chargeToken(input, ctx) {
    const sent = await api(ctx, 'POST', '/charges', { reference: input.merchantReference, token: input.token, amount_cents: input.amount.amountCents });
    return sent.kind === 'answer' ? result(jsonObject(sent.text)) : { status: 'unknown', providerReference: null, raw: null };
  },
  async lookup(input, ctx) {
    const sent = await api(ctx, 'GET', `/payments?reference=${encodeURIComponent(input.merchantReference)}`);
    if (sent.kind !== 'answer') throw new Error('FakePay did not answer');
    return sent.status === 404 ? { status: 'pending', providerReference: input.providerReference, raw: null } : result(jsonObject(sent.text));
  },
  async verifyCallback(request, ctx) {
    if (request.channel === 'redirect') {
      // The browser's return is unsigned: only a pointer to the attempt; payrail asks FakePay (lookup).
      const fields = Object.fromEntries(new URLSearchParams(request.rawBody));
      if (!fields.reference || !fields.session) return { ok: false, reason: 'not a FakePay return' };
      return { ok: true, callback: { eventId: `return:${fields.session}`, kind: 'payment', merchantReference: fields.reference, providerReference: fields.session, result: { status: 'pending', providerReference: fields.session, raw: null }, occurredAt: null } };
    }
    const given = Buffer.from(request.headers['x-fakepay-signature'] ?? '', 'hex');
    const expected = Buffer.from(sign(ctx.settings.credentials.api_key?.reveal() ?? TEST_KEY, request.rawBody), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
    const body = jsonObject(request.rawBody);
    if (!body || typeof body.reference !== 'string') return { ok: false, reason: 'not a FakePay event' };
    return { ok: true, callback: { eventId: String(body.event_id), kind: 'payment', merchantReference: body.reference, providerReference: null, result: result(body), occurredAt: null } };
  },
};

function api(ctx: ConnectorContext, method: 'GET' | 'POST', path: string, body?: unknown) {
  const key = ctx.settings.credentials.api_key?.reveal() ?? (ctx.settings.sandbox ? TEST_KEY : '');
  return exchange(ctx, `${ctx.settings.baseUrl}${path}`, { method, headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
}

function result(body: Record<string, unknown> | null): AttemptResult {
  if (!body) return { status: 'unknown', providerReference: null, raw: null };
  const amount = typeof body.amount_cents === 'number' ? { amountCents: body.amount_cents, currency: 'ZAR' as const } : undefined;
  const token = typeof body.token === 'string' ? { value: body.token, mediumType: 'CreditCard' as const, accountName: 'FakePay card', accountNumber: typeof body.last4 === 'string' ? body.last4 : null } : undefined;
  if (body.status === 'paid') return { status: 'succeeded', providerReference: typeof body.id === 'string' ? body.id : null, ...(amount ? { amount } : {}), ...(token ? { token } : {}), raw: { id: body.id } };
  if (body.status === 'declined') return { status: 'failed', providerReference: null, failure: { code: 'declined', message: 'Declined', kind: 'declined' }, raw: { id: body.id } };
  return { status: 'unknown', providerReference: null, raw: null };
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ listen: true, connectors: [...CONNECTORS, fakeConnector], build: { sandboxes: [...SANDBOXES, fakeSandbox] } });
});
afterAll(async () => h?.close());

const E14 = DEMO.services.recurringInArrears;
const submit = (body: Record<string, unknown>) => h.call('POST', '/purchases/submit-for-collection', { body: { success_url: null, failure_url: null, ...body } });
const statusOf = async (purchaseId: string) => (await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, purchaseId)))[0]!.statusId;

describe('a provider added through the registries alone', () => {
  it('is an operator default, runs "Add new payment method", settles by its return and webhook, and charges the card it kept', async () => {
    const set = await h.call('PATCH', '/operator', { token: h.tokens.admin, body: { default_providers: { credit_card: PROVIDER } } });
    expect(set.status).toBe(200);
    expect((await h.call('GET', '/default?mediumType=2')).body.provider).toBe(PROVIDER);

    const first = await unpaidPurchase(h);
    const res = await submit({ service_id: E14, medium_id: GLOBAL_OPAQUE_MEDIUM_ID, purchase_id: first });
    expect(res.status).toBe(200);
    expect(res.body.payment_link_url).toMatch(new RegExp(`^${h.baseUrl}/sandbox/fakepay/pay/`));

    // The customer pays on FakePay's page; FakePay posts its webhook and sends the browser back through payrail.
    const page = await payOnHostedPage(res.body.payment_link_url, CARDS.approve);
    const { action, fields } = formOf(await page.text(), res.body.payment_link_url);
    expect(action.startsWith(`${h.baseUrl}/callbacks/fakepay/return?url=`)).toBe(true);
    const landing = await postForm(action, fields);
    expect(landing.status).toBe(303);
    expect(landing.headers.get('location')).toBe(`${h.baseUrl}/app/ext-pay/${DEMO.customerUserId}/${first}/1`);
    expect(await statusOf(first)).toBe(4);
    // The webhook arrives too (notification URL from the declaration), is verified and absorbed.
    const hook = await eventually(async () => (await h.ctx.database.db.select().from(t.providerEvents).where(and(eq(t.providerEvents.provider, PROVIDER), eq(t.providerEvents.channel, 'webhook'))))[0]?.processedAt && (await h.ctx.database.db.select().from(t.providerEvents).where(and(eq(t.providerEvents.provider, PROVIDER), eq(t.providerEvents.channel, 'webhook'))))[0]);
    expect(hook.verified).toBe(true);
    expect(hook.outcome).toMatch(/^processed/);

    // The kept card is a Valid FakePay medium, charged by token for the next purchase.
    const [card] = await h.ctx.database.db.select().from(t.mediums).where(and(eq(t.mediums.provider, PROVIDER), eq(t.mediums.mediumType, 'CreditCard')));
    expect(card).toMatchObject({ status: 'Valid', accountNumber: '4242' });
    const second = await unpaidPurchase(h);
    const charged = await submit({ service_id: E14, medium_id: card!.id, purchase_id: second });
    expect(charged.status).toBe(200);
    expect(charged.body).toMatchObject({ payment_status: 'succeeded', purchase_status_id: 4 });
    expect((await approvedCharges(h, 'fakepay')).map((c) => c.kind)).toEqual(['hosted', 'token']);
  });

  it('refuses a forged webhook and changes nothing; the janitor settles through the connector’s look-up', async () => {
    const purchase = await unpaidPurchase(h);
    const res = await submit({ service_id: E14, medium_id: GLOBAL_OPAQUE_MEDIUM_ID, purchase_id: purchase });
    const [payment] = await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchase));
    const body = JSON.stringify({ event_id: 'forged-1', reference: payment!.merchantReference, status: 'paid', amount_cents: 37_900 });
    const forged = await fetch(`${h.baseUrl}/callbacks/fakepay/notify`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fakepay-signature': sign('not-the-key', body) }, body });
    expect(forged.status).toBe(400);
    expect(await statusOf(purchase)).toBe(2);

    // Paid at FakePay, but both the return and the webhook are lost: the janitor asks FakePay.
    const page = await fetch(res.body.payment_link_url);
    const { action, fields } = formOf(await page.text(), res.body.payment_link_url);
    await h.ctx.database.db.update(t.sandboxSessions).set({ params: { reference: payment!.merchantReference, amount_cents: 37_900, return_url: `${h.baseUrl}/nowhere`, notify_url: null, save_card: false } }).where(eq(t.sandboxSessions.id, payment!.providerReference!));
    await postForm(action, { ...fields, card_number: CARDS.approve, expiry: '12/30', cvv: '123', holder: 'K Nel' });
    const { settleUnsettledPayments } = await import('../../src/modules/payments/settle-unsettled-payments.ts');
    await settleUnsettledPayments(h.ctx, { now: new Date(Date.now() + 60_000) });
    expect(await statusOf(purchase)).toBe(4);
  });
});
