import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { chargesFor, expectNoHorizontalScroll, openStage, payLabel, screenshot, signIn, unpaidService, withChromium, type Stage } from './kit.ts';

/** Fills the Peach sandbox's hosted card page and submits it. */
async function payOnPeachPage(page: Page, card: string, holder: string): Promise<void> {
  await page.waitForURL(/\/sandbox\/peach\//);
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel('Expiry (MM/YY)').fill('12/30');
  await page.getByLabel('CVV').fill('123');
  await page.getByLabel('Name on card').fill(holder);
  await page.getByRole('button', { name: /^Pay/ }).click();
}

describe.skipIf(!withChromium())('Add new payment method: the Peach Payments hosted page and back', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  it('pays on the hosted page with 4242…, returns to the success page, and lists the new card', async () => {
    const { serviceId, purchaseId, amount } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/pay`);
    await page.getByRole('radio', { name: /Add new payment method/ }).check();
    await page.getByRole('button', { name: payLabel(amount) }).click();
    await screenshot(page, 'peach-hosted-page');
    await payOnPeachPage(page, '4242 4242 4242 4242', 'Thandi Mokoena');

    await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${purchaseId}/1`);
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    await expect.poll(() => page.locator('main').textContent()).toMatch(/paid up/i);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'peach-success');
    const purchase = await stage.h.call('GET', `/purchases/${purchaseId}`);
    expect(purchase.body.purchase_status_id).toBe(4);
    expect((await chargesFor(stage, 'peach', purchaseId)).filter((c) => c.amount_cents === Math.round(amount * 100))).toHaveLength(1);

    // The new card is one of the customer's mediums now, on the next Pay-Now screen.
    const next = await unpaidService(stage.h);
    await page.goto(`${stage.base}/app/services/${next.serviceId}/pay`);
    await page.getByRole('radio', { name: /Thandi Mokoena/ }).waitFor();
    await screenshot(page, 'peach-new-card-listed');
    await page.close();
  });

  it('with the decline card returns to the failure page, charges nothing and leaves the purchase payable', async () => {
    const { serviceId, purchaseId, amount } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/pay`);
    await page.getByRole('radio', { name: /Add new payment method/ }).check();
    await page.getByRole('button', { name: payLabel(amount) }).click();
    await payOnPeachPage(page, '4000 0000 0000 0002', 'Sipho Declined');

    // Peach posts to the success URL even now (seed 000); payrail asks it and sends the browser to /0.
    await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${purchaseId}/0`);
    await page.getByRole('heading', { name: 'Payment failed' }).waitFor();
    await expect.poll(() => page.locator('main').textContent()).toContain('Nothing was charged');
    await screenshot(page, 'peach-declined');

    const details = await stage.h.call('GET', `/services/${serviceId}/details-and-actions`);
    expect(details.body.must_pay_info.arrears_purchase.id).toBe(purchaseId);
    expect((await stage.h.call('GET', `/purchases/${purchaseId}`)).body.purchase_status_id).not.toBe(4);
    const mediums = await stage.h.call('GET', `/payment-mediums?userId=${DEMO.customerUserId}`);
    expect(JSON.stringify(mediums.body)).not.toContain('Sipho Declined');

    // Still payable from the app: Try again leads back to the Pay-Now screen.
    await page.getByRole('link', { name: 'Try again' }).click();
    await page.waitForURL(`${stage.base}/app/services/${serviceId}/pay`);
    await page.getByRole('button', { name: payLabel(amount) }).waitFor();
    await page.close();
  });

  it('believes payrail’s records, not the address: a typed /1 for an unpaid purchase is no success', async () => {
    const { serviceId, purchaseId } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${purchaseId}/1`);
    await page.getByRole('heading', { name: 'No payment was made' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Payment successful' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Try again' }).click();
    await page.waitForURL(`${stage.base}/app/services/${serviceId}/pay`);
    await screenshot(page, 'typed-success-address');
    await page.close();
  });
});
