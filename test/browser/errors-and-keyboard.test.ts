import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.ts';
import { chargesFor, openStage, payLabel, screenshot, signIn, unpaidService, withChromium, type Stage } from './kit.ts';

describe.skipIf(!withChromium())('when PayFast cannot be reached', () => {
  let stage: Stage;
  beforeAll(async () => {
    // Nothing listens on port 9: every PayFast call is refused before a byte is sent.
    stage = await openStage({ config: testConfig({ PAYRAIL_PAYFAST_BASE_URL: 'http://127.0.0.1:9' }) });
  });
  afterAll(() => stage?.close());

  it('says the provider is unavailable and nothing was charged, and leaves the purchase payable', async () => {
    const { serviceId, purchaseId, amount } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/pay`);
    await page.getByRole('button', { name: payLabel(amount) }).click();
    await page.getByRole('alert').filter({ hasText: 'The payment provider is unavailable right now. Nothing was charged' }).waitFor();
    await screenshot(page, 'provider-unavailable');
    expect(page.url()).toBe(`${stage.base}/app/services/${serviceId}/pay`);
    // The button is usable again, and the purchase is still what is due.
    expect(await page.getByRole('button', { name: payLabel(amount) }).isEnabled()).toBe(true);
    const details = await stage.h.call('GET', `/services/${serviceId}/details-and-actions`);
    expect(details.body.must_pay_info.arrears_purchase.id).toBe(purchaseId);
    const payments = await stage.h.call('GET', `/payments?purchaseId=${purchaseId}`);
    expect(payments.body.items.map((p: { status: string }) => p.status)).toEqual(['failed']);
    await page.close();
  });
});

describe.skipIf(!withChromium())('keyboard only', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  it('signs in, opens Pay now and pays with the keyboard alone', async () => {
    const { serviceId, purchaseId, amount } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await page.goto(`${stage.base}/app/sign-in`);
    const tabTo = async (name: string | RegExp, max = 40) => {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        const focused = (await page.evaluate('(document.activeElement && (document.activeElement.innerText || document.activeElement.getAttribute("aria-label") || "")) || ""')) as string;
        if (typeof name === 'string' ? focused.trim() === name : name.test(focused)) return;
      }
      throw new Error(`could not reach ${String(name)} with Tab`);
    };
    await tabTo('Sign in as Konstand Nel');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${stage.base}/app`);
    const card = page.getByTestId(`service-${serviceId}`);
    await card.waitFor();
    // Tab through the page to this service's Pay now link.
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      if (await card.getByRole('link', { name: /pay now/i }).evaluate((el) => el === el.ownerDocument.activeElement).catch(() => false)) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(`${stage.base}/app/services/${serviceId}/pay`);
    await page.getByRole('button', { name: payLabel(amount) }).waitFor();
    await tabTo(payLabel(amount));
    await screenshot(page, 'keyboard-focus-on-pay');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/app/ext-pay/[^/]+/${purchaseId}/1$`));
    expect((await chargesFor(stage, 'payfast', purchaseId)).map((c) => c.status)).toEqual(['approved']);
    await page.close();
  });
});
