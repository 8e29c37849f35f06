import { expect, inject } from 'vitest';
import type { Page, Request } from 'playwright-core';
import type { Config } from '../../src/config.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { openBrowser, screenshot, type Browser } from '../helpers/browser.ts';

/** Whether this run has Chromium (the browser global setup says; without it every browser test is skipped). */
export const withChromium = (): boolean => inject('chromium');

/** A real payrail on a random port (its own copy of the seeded database) and a Chromium to drive it. */
export interface Stage {
  h: Harness;
  browser: Browser;
  base: string;
  close(): Promise<void>;
}

export async function openStage(options: { config?: Config } = {}): Promise<Stage> {
  const h = await createHarness({ listen: true, ...options });
  const browser = await openBrowser();
  return {
    h,
    browser,
    base: h.baseUrl,
    async close() {
      const errors = [...browser.pageErrors];
      await browser.close();
      await h.close();
      // Every page of the file ran without an uncaught error or a blocked script or style.
      expect(errors).toEqual([]);
    },
  };
}

/** Signs in on the sandbox sign-in page as the named demo user and waits for the home page. */
export async function signIn(page: Page, base: string, name = 'Konstand Nel'): Promise<void> {
  await page.goto(`${base}/app/sign-in`);
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
  await page.waitForURL(`${base}/app`);
}

/** A new service of the demo customer with an unpaid upfront purchase (placed through the setup API). */
export async function unpaidService(h: Harness, productId: string = DEMO.products.recurring): Promise<{ serviceId: string; purchaseId: string; amount: number }> {
  const res = await h.call('POST', '/orders', { token: h.tokens.integrator, body: { customer_id: DEMO.customerId, product_id: productId, collector_id: DEMO.collectorId } });
  expect(res.status).toBe(201);
  return { serviceId: res.body.service.id, purchaseId: res.body.upfront_purchase.id, amount: res.body.upfront_purchase.amount };
}

export interface LedgerEntry {
  merchant_reference: string;
  kind: string;
  amount_cents: number;
  status: string;
  card: { bin: string; last4: string } | null;
}

/** The Pay button's words for an amount in rand, as the app writes them: `Pay R303.20`, `Pay R1 000.00`. */
export const payLabel = (amount: number): string => `Pay R${amount.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')}`;

/** The sandbox's ledger entries for a purchase's attempts: every charge the provider made or refused for it. */
export async function chargesFor(stage: Stage, provider: 'payfast' | 'peach', purchaseId: string): Promise<LedgerEntry[]> {
  const payments = await stage.h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: stage.h.tokens.integrator });
  const references = new Set((payments.body.items as { merchant_reference: string }[]).map((p) => p.merchant_reference));
  const res = await fetch(`${stage.base}/sandbox/${provider}/transactions`);
  return ((await res.json()) as { items: LedgerEntry[] }).items.filter((t) => references.has(t.merchant_reference));
}

/** Records the page's API requests matching `path` (method and URL), to count submissions. */
export function recordRequests(page: Page, method: string, path: string): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (r.method() === method && new URL(r.url()).pathname === path) seen.push(r);
  });
  return seen;
}

/** No horizontal scroll: the page is no wider than the window. */
export async function expectNoHorizontalScroll(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = (await page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })')) as { scrollWidth: number; innerWidth: number };
  expect(scrollWidth, `page ${page.url()} is ${scrollWidth}px wide in a ${innerWidth}px window`).toBeLessThanOrEqual(innerWidth);
}

export { screenshot };
