import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { testConfig } from '../helpers/config.ts';
import { openStage, screenshot, withChromium, type Stage } from './kit.ts';

describe.skipIf(!withChromium())('signing in outside sandbox mode: a token from the identity provider', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage({ config: testConfig({ PAYRAIL_SANDBOX: 'false' }) });
  });
  afterAll(() => stage?.close());

  it('offers no demo users, refuses a bad token, and signs in with a pasted one', async () => {
    const page = await stage.browser.page();
    await page.goto(`${stage.base}/app/sign-in`);
    const field = page.getByLabel('Bearer token');
    await field.waitFor();
    expect(await page.getByRole('button', { name: /^Sign in as / }).count()).toBe(0);
    await field.fill('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('That token was not accepted');
    await screenshot(page, 'sign-in-token-refused');

    await field.fill(`Bearer ${stage.h.tokens.customer}`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${stage.base}/app`);
    await page.getByRole('heading', { name: 'Your services' }).waitFor();
    await expect.poll(() => page.getByTestId(`service-${DEMO.services.recurringInArrears}`).count()).toBe(1);
    await page.close();
  });

  it('takes a token the identity provider puts in the address fragment, and clears it from the address', async () => {
    const page = await stage.browser.page();
    await page.goto(`${stage.base}/app/sign-in#access_token=${stage.h.tokens.integrator}`);
    await page.waitForURL(`${stage.base}/app`);
    await page.getByRole('heading', { name: 'Services' }).waitFor();
    expect(page.url()).toBe(`${stage.base}/app`);
    // Going back does not show the token either: the sign-in entry was rewritten without it.
    await page.goBack();
    expect(page.url()).not.toContain('access_token');
    await page.close();
  });
});
