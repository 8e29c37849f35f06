import { eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Harness } from './harness.ts';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { insertMedium } from '../../src/modules/mediums/repo.ts';
import { insertPurchase } from '../../src/modules/purchases/repo.ts';
import { openBody } from '../../src/modules/payments/provider-callbacks.ts';
import { PurchaseCreationEvent, PurchaseLineType, PurchaseStatus } from '../../src/domain/enums.ts';
import { rational } from '../../src/domain/rational.ts';
import type { CardOutcome } from '../../src/sandboxes/kit/cards.ts';

export const CARDS = {
  approve: '4242424242424242',
  decline: '4000000000000002',
  insufficient: '4000000000009995',
  lost: '4000000000000119',
  unavailableOnce: '4000000000000259',
} as const;

export interface LedgerItem {
  id: string;
  merchant_reference: string | null;
  kind: string;
  amount: string;
  amount_cents: number;
  status: string;
  token_used: boolean;
}

/** The sandbox's ledger of charges (GET /sandbox/<name>/transactions), over HTTP like any client. */
export async function ledger(h: Harness, name: string): Promise<LedgerItem[]> {
  const res = await fetch(`${h.baseUrl}/sandbox/${name}/transactions`);
  if (res.status !== 200) throw new Error(`ledger ${name}: ${res.status}`);
  return ((await res.json()) as { items: LedgerItem[] }).items;
}

export const approvedCharges = async (h: Harness, name: string) => (await ledger(h, name)).filter((i) => i.status === 'approved' && i.kind !== 'card_update' && i.kind !== 'refund');

/**
 * A tokenised card of the demo customer that behaves like a sandbox test card: the provider's sandbox
 * knows the token, payrail holds it as a Valid CreditCard medium.
 */
export async function sandboxCardMedium(h: Harness, outcome: CardOutcome, provider: 'PayFast' | 'PeachPayments' = 'PayFast', last4 = '0000'): Promise<string> {
  const token = provider === 'PayFast' ? randomUUID() : randomUUID().replaceAll('-', '');
  const mediumId = randomUUID();
  await h.ctx.database.db.transaction(async (tx) => {
    await tx.insert(t.sandboxTokens).values({ token, provider, outcome, cardBin: '400000', cardLast4: last4, expiryMonth: 12, expiryYear: 2031, holder: 'Test Card' });
    await insertMedium(
      tx,
      h.ctx.vault,
      { id: mediumId, operatorId: DEMO.operatorId, customerId: DEMO.customerId, mediumType: 'CreditCard', provider, externalReference: `test-${outcome}`, accountName: 'Test Card', accountNumber: last4, expiryMonth: 12, expiryYear: 2031 },
      { provider, value: token },
    );
  });
  return mediumId;
}

/** The hidden inputs and action of the first form in a page. */
export function formOf(html: string, base: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form in page:\n${html.slice(0, 500)}`);
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"[^>]*>/gi)) fields[unescape(m[1]!)] = unescape(m[2]!);
  return { action: new URL(unescape(form[1]!), base).toString(), fields };
}

export const postForm = (url: string, fields: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });

/** A customer on a hosted page: opens it, types a card, submits. Returns the provider's answer to the browser. */
export async function payOnHostedPage(pageUrl: string, card: string, extra: Record<string, string> = {}): Promise<Response> {
  const page = await fetch(pageUrl.replace(/#.*$/, ''));
  if (page.status !== 200) throw new Error(`hosted page ${pageUrl}: ${page.status}`);
  const { action, fields } = formOf(await page.text(), pageUrl);
  return postForm(action, { ...fields, card_number: card, expiry: '12/30', cvv: '123', holder: 'K Nel', save_card: '1', ...extra });
}

/** Poll until `check` returns a value (callbacks are processed after PayFast's ITN is answered). */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh unpaid purchase (a once-off line) of one of the demo customer's services: the demo has one; tests need more. */
export async function unpaidPurchase(h: Harness, serviceId: string = DEMO.services.recurringInArrears, amount = 37_900): Promise<string> {
  const id = randomUUID();
  await insertPurchase(h.ctx.database.db, {
    id,
    operatorId: DEMO.operatorId,
    customerId: DEMO.customerId,
    serviceId,
    purchasePlanId: null,
    statusId: PurchaseStatus.Unpaid,
    creationEventId: PurchaseCreationEvent.Manual,
    purchaseDate: new Date(),
    lines: [{ id: randomUUID(), lineTypeId: PurchaseLineType.Once, description: 'Test line', quantity: 1, unitPriceIncl: rational(amount), totalCents: amount, rateBp: 1500, periodContributionPerQuantity: 0, productPriceId: null }],
  });
  return id;
}
export type { CardOutcome } from '../../src/sandboxes/kit/cards.ts';

/** Sets a sandbox's misbehaviour settings (PUT /sandbox/<name>/behaviour), or restores its defaults (null). */
export async function sandboxBehaviour(h: Harness, name: string, settings: Record<string, unknown> | null): Promise<void> {
  const res = await fetch(`${h.baseUrl}/sandbox/${name}/behaviour`, settings ? { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings) } : { method: 'DELETE' });
  if (res.status !== 200) throw new Error(`behaviour of ${name}: ${res.status} ${await res.text()}`);
}

/** The first collection attempt of a purchase, and the purchase's status. */
export const firstPaymentOf = async (h: Harness, purchaseId: string) => (await h.ctx.database.db.select().from(t.payments).where(eq(t.payments.purchaseId, purchaseId)))[0]!;
export const purchaseStatusOf = async (h: Harness, purchaseId: string) => (await h.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, purchaseId)))[0]!.statusId;

/** Stored provider callbacks whose body (sealed at rest) matches, with the body opened. */
export async function storedCallbacks(h: Harness, match: (body: string) => boolean) {
  const rows = await h.ctx.database.db.select().from(t.providerEvents);
  return rows.map((r) => ({ ...r, body: openBody(h.ctx, r) })).filter((r) => match(r.body));
}
