import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { chargesFor, expectNoHorizontalScroll, openStage, recordRequests, screenshot, signIn, withChromium, type Stage } from './kit.ts';

const E14 = DEMO.services.recurringInArrears;

describe.skipIf(!withChromium())('Pay Now in the browser (the demo card)', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  it('signs in as a demo user and shows one card per service, with Pay now where something is due', async () => {
    const page = await stage.browser.page();
    await page.goto(`${stage.base}/app`);
    // Not signed in: the app sends the browser to the sign-in page, which lists the demo users.
    await page.waitForURL(`${stage.base}/app/sign-in`);
    await expect.poll(() => page.getByRole('button', { name: 'Sign in as Konstand Nel' }).isVisible()).toBe(true);
    await screenshot(page, 'sign-in');
    await page.getByRole('button', { name: 'Sign in as Konstand Nel' }).click();
    await page.waitForURL(`${stage.base}/app`);
    await page.getByRole('heading', { name: 'Your services' }).waitFor();

    const cards = page.locator('article[data-testid^="service-"]');
    // The demo's four subscriptions and its prepaid electricity.
    await expect.poll(() => cards.count()).toBe(5);
    const due = page.getByTestId(`service-${E14}`);
    await expect.poll(() => due.textContent()).toContain('R379.00');
    expect(await due.textContent()).toMatch(/in arrears/i);
    expect(await due.getByRole('link', { name: /pay now/i }).or(due.getByRole('button', { name: /pay now/i })).count()).toBe(1);
    // Paid-up services offer no Pay now.
    const paid = page.getByTestId(`service-${DEMO.services.dayBundle}`);
    expect(await paid.textContent()).toMatch(/paid up/i);
    expect(await paid.getByRole('link', { name: /pay now/i }).or(paid.getByRole('button', { name: /pay now/i })).count()).toBe(0);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'home');
    await page.close();
  });

  it('pays seed 000’s purchase with the demo card once, even on a double click, and shows it paid', async () => {
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    const card = page.getByTestId(`service-${E14}`);
    await card.getByRole('link', { name: /pay now/i }).or(card.getByRole('button', { name: /pay now/i })).click();
    await page.waitForURL(`${stage.base}/app/services/${E14}/pay`);

    // The Pay-Now screen: the amount with its line, the mediums, the active one checked.
    await page.getByRole('heading', { name: 'Pay now' }).waitFor();
    const body = page.locator('main');
    await expect.poll(() => body.textContent()).toContain('On Order/Upfront Monthly');
    expect(await page.getByRole('radio', { name: /test 4242/ }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: /Add new payment method/ }).count()).toBe(1);
    expect(await page.getByRole('radio', { name: /N\/A/ }).count()).toBe(0); // the OffSystem medium is staff-only
    expect(await page.getByLabel('active medium').count()).toBe(1);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'pay-now');

    const submits = recordRequests(page, 'POST', '/purchases/submit-for-collection');
    await page.getByRole('button', { name: 'Pay R379.00' }).dblclick();
    await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${DEMO.purchases.arrears}/1`);
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    await expect.poll(() => page.locator('main').textContent()).toMatch(/paid up/i);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'pay-now-success');

    expect(submits).toHaveLength(1);
    const charges = await chargesFor(stage, 'payfast', DEMO.purchases.arrears);
    expect(charges.map((c) => [c.status, c.amount_cents])).toEqual([['approved', 37900]]);
    const details = await stage.h.call('GET', `/services/${E14}/details-and-actions`);
    expect(details.body).toMatchObject({ must_pay_info: null, billing_status: 'PaidUp' });

    // Home: the card no longer offers Pay now.
    await page.goto(`${stage.base}/app`);
    const card2 = page.getByTestId(`service-${E14}`);
    await expect.poll(() => card2.textContent()).toMatch(/paid up/i);
    expect(await card2.getByRole('link', { name: /pay now/i }).or(card2.getByRole('button', { name: /pay now/i })).count()).toBe(0);
    await page.close();
  });

  it('sends an expired session back to sign-in with words a customer understands', async () => {
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    // The identity provider's token ran out: every stored credential now fails.
    await page.evaluate(`
      for (const store of [sessionStorage, localStorage]) {
        for (let i = 0; i < store.length; i++) {
          const key = store.key(i);
          const value = store.getItem(key);
          if (value.includes('eyJ')) store.setItem(key, value.replace(/eyJ[\\w-]+\\.[\\w-]+\\.[\\w-]+/g, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.expired'));
        }
      }
    `);
    await page.goto(`${stage.base}/app/services/${E14}`);
    await page.waitForURL(/\/app\/sign-in/);
    await expect.poll(() => page.locator('body').textContent()).toContain('Your session has expired');
    await screenshot(page, 'session-expired');
    await page.close();
  });
});
