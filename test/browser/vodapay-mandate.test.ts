import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { expectNoHorizontalScroll, openStage, payLabel, screenshot, signIn, unpaidService, withChromium, type Stage } from './kit.ts';

/**
 * "Add new payment method" on a Recurring service when the operator's card provider is VodaPay (SPEC §11):
 * VodaPay's page pays the purchase and sets up the monthly mandate; the service page shows it ("Monthly debit
 * of R379.00 on the …") and cancels it.
 */
describe.skipIf(!withChromium())('a VodaPay card mandate in the app', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
    const set = await stage.h.call('PATCH', '/operator', { token: stage.h.tokens.admin, body: { default_providers: { credit_card: 'VodaPay' } } });
    expect(set.status, set.text).toBe(200);
  });
  afterAll(() => stage?.close());

  it('pays on VodaPay’s page, shows the mandate on the service, and cancels it', async () => {
    const { serviceId, purchaseId, amount } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/pay`);
    const addNew = page.getByRole('radio', { name: /Add new payment method/ });
    await addNew.check();
    await expect.poll(() => page.locator('main').textContent()).toMatch(/VodaPay’s secure page: it pays this and is debited monthly/);
    await page.getByRole('button', { name: payLabel(amount) }).click();

    // VodaPay's page: a card that expires too soon for the mandate is refused there, nothing charged.
    await page.waitForURL(/\/sandbox\/vodapay-pay\/pay\?sessionId=/);
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry (MM/YY)').fill(expiringNextMonth());
    await page.getByLabel('CVV').fill('123');
    await page.getByLabel('Name on card').fill('Thandi Mokoena');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await expect.poll(() => page.locator('body').textContent()).toMatch(/expires too soon/);
    await screenshot(page, 'vodapay-card-too-short');
    expect((await stage.h.call('GET', `/purchases/${purchaseId}`)).body.purchase_status_id).toBe(2);

    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry (MM/YY)').fill('12/30');
    await page.getByLabel('CVV').fill('123');
    await page.getByLabel('Name on card').fill('Thandi Mokoena');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${purchaseId}/1`);
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    expect((await stage.h.call('GET', `/purchases/${purchaseId}`)).body.purchase_status_id).toBe(4);

    // The service page shows the mandate, and the customer can cancel it.
    await page.goto(`${stage.base}/app/services/${serviceId}`);
    const mandate = page.getByTestId('mandate');
    await mandate.waitFor();
    expect(await mandate.textContent()).toMatch(/^Monthly debit of R379\.00 on the \d+(st|nd|rd|th)$/);
    await expect.poll(() => page.getByRole('region', { name: 'Payment methods' }).textContent()).toMatch(/Card ending 4242 · VodaPay/);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'vodapay-mandate-on-service');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Cancel mandate' }).click();
    await page.getByTestId('mandate').waitFor({ state: 'detached' });
    const details = await stage.h.call('GET', `/services/${serviceId}/details-and-actions`);
    expect(details.body.mediums.some((m: { mandate: unknown }) => m.mandate)).toBe(false);
    const service = await stage.h.call('GET', `/services/${serviceId}`);
    expect(service.body.active_medium_id).toBeNull();
    await page.close();
  });
});

/** MM/YY of next month: valid today, but not three months past the first collection. */
function expiringNextMonth(): string {
  const d = new Date();
  d.setUTCMonth(d.getUTCMonth() + 1);
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCFullYear() % 100).padStart(2, '0')}`;
}
