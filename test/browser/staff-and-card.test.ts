import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO } from '../../src/demo/ids.ts';
import { mediums } from '../../src/modules/mediums/schema.ts';
import { chargesFor, expectNoHorizontalScroll, openStage, screenshot, signIn, unpaidService, withChromium, type Stage } from './kit.ts';

describe.skipIf(!withChromium())('for integrators: off-system allocation and the payments list', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  it('records a cash payment with its comment, and lists it with the service’s payments', async () => {
    const E14 = DEMO.services.recurringInArrears;
    const page = await stage.browser.page();
    await signIn(page, stage.base, 'Net99 Integrator');
    await page.getByRole('heading', { name: 'Services' }).waitFor();
    await page.goto(`${stage.base}/app/services/${E14}`);

    await page.getByLabel('Purchase source').selectOption({ label: 'Cash' });
    await page.getByLabel('Comment').fill('Paid at the Sandton store, receipt 4471');
    await screenshot(page, 'staff-off-system-form');
    await page.getByRole('button', { name: 'Record payment' }).click();

    const payments = page.getByRole('table');
    await expect.poll(() => payments.textContent(), { timeout: 15_000 }).toMatch(/OffSystem[\s\S]*succeeded|succeeded[\s\S]*OffSystem/i);
    expect(await payments.textContent()).toContain('379.00');
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'staff-payments-list');

    const details = await stage.h.call('GET', `/services/${E14}/details-and-actions`);
    expect(details.body).toMatchObject({ must_pay_info: null, billing_status: 'PaidUp' });
    const [payment] = (await stage.h.call('GET', `/payments?purchaseId=${DEMO.purchases.arrears}`, { token: stage.h.tokens.integrator })).body.items;
    expect(payment).toMatchObject({ provider: 'OffSystem', status: 'succeeded', amount: 379, purchase_source_id: DEMO.sources.cash, comment: 'Paid at the Sandton store, receipt 4471' });
    expect(await chargesFor(stage, 'payfast', DEMO.purchases.arrears)).toEqual([]);
    await page.close();
  });

  it('lists the operator’s services a page at a time', async () => {
    const total = (await stage.h.call('GET', '/services?limit=100', { token: stage.h.tokens.integrator })).body.items.length;
    for (let i = total; i < 25; i++) await unpaidService(stage.h);
    const all = (await stage.h.call('GET', '/services?limit=100', { token: stage.h.tokens.integrator })).body.items.length;
    const page = await stage.browser.page();
    await signIn(page, stage.base, 'Net99 Integrator');
    const cards = page.locator('article[data-testid^="service-"]');
    await expect.poll(() => cards.count()).toBe(20);
    await page.getByRole('button', { name: 'Show more services' }).click();
    await expect.poll(() => cards.count()).toBe(Math.min(all, 40));
    if (all <= 40) expect(await page.getByRole('button', { name: 'Show more services' }).count()).toBe(0);
    await page.close();
  });

  it('does not offer customers the off-system form', async () => {
    const { serviceId } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}`);
    await page.getByRole('link', { name: 'Make payment' }).or(page.getByRole('button', { name: 'Make payment' })).waitFor();
    expect(await page.getByRole('button', { name: 'Record payment' }).count()).toBe(0);
    expect(await page.getByLabel('Purchase source').count()).toBe(0);
    await page.close();
  });
});

describe.skipIf(!withChromium())('Update card for a HybridDayBundle service', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  const card = async () => (await stage.h.ctx.database.db.select().from(mediums).where(eq(mediums.id, DEMO.mediums.card)))[0]!;
  const main = (page: Page) => () => page.locator('main').textContent();
  /** The customer, signed in, on the hybrid service's page, presses Update card and lands on PayFast's page. */
  async function openCardUpdate(): Promise<Page> {
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${DEMO.services.hybrid}`);
    await page.getByRole('button', { name: 'Update card' }).or(page.getByRole('link', { name: 'Update card' })).click();
    await page.waitForURL(/\/sandbox\/payfast\/eng\/recurring\/update\//);
    return page;
  }
  /** A new card entered on PayFast's page, which sends the browser back to the service. */
  async function saveCard(page: Page, number: string, expiry: string): Promise<void> {
    await page.getByLabel('Card number').fill(number);
    await page.getByLabel('Expiry (MM/YY)').fill(expiry);
    await page.getByLabel('CVV').fill('123');
    await page.getByLabel('Name on card').fill('Konstand Nel');
    await page.getByRole('button', { name: 'Update card' }).click();
    await page.waitForURL(new RegExp(`/app/services/${DEMO.services.hybrid}`));
  }

  it('replaces the card on the PayFast page and comes back to the service', async () => {
    const page = await openCardUpdate();
    await screenshot(page, 'payfast-card-update-page');
    await saveCard(page, '5200 0000 0000 0007', '11/32');
    // PayFast's UPDATED notice moves the medium to the new card, and the page says so once it has.
    await expect.poll(main(page), { timeout: 15_000 }).toContain('Your card was updated: payments now use the card ending 0007.');
    await screenshot(page, 'payfast-card-updated');
    expect((await card()).accountNumber).toBe('0007');
    await page.close();
  });

  it('says nothing changed when the customer cancels on the PayFast page', async () => {
    const before = await card();
    const page = await openCardUpdate();
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL(new RegExp(`/app/services/${DEMO.services.hybrid}`));
    // Said within seconds (PayFast returns a cancel to the same address as a new card), not after a long wait.
    await expect.poll(main(page), { timeout: 14_000 }).toContain(`Payments still use the card ending ${before.accountNumber}.`);
    expect(await main(page)()).not.toContain('Your card was updated');
    await screenshot(page, 'payfast-card-update-cancelled');
    expect(await card()).toEqual(before);
    await page.close();
  });

  it('shows the new card when PayFast’s notice comes after the page said nothing changed', async () => {
    const behaviour = (body: unknown) => fetch(`${stage.base}/sandbox/payfast/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await behaviour({ itn: 'late', itnDelayMs: 14_000 })).status).toBe(200);
    try {
      const before = await card();
      const page = await openCardUpdate();
      await saveCard(page, '4200 0000 0000 0091', '10/33');
      await expect.poll(main(page), { timeout: 14_000 }).toContain(`Payments still use the card ending ${before.accountNumber}.`);
      // The notice arrives 14 s after the card was saved: the page, still looking, says so without a reload.
      await expect.poll(main(page), { timeout: 30_000 }).toContain('Your card was updated: payments now use the card ending 0091.');
      await page.close();
    } finally {
      await behaviour({ itn: 'normal' });
    }
  });
});
