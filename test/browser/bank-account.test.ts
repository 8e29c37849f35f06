import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { mediums } from '../../src/modules/mediums/schema.ts';
import { expectNoHorizontalScroll, openStage, screenshot, signIn, withChromium, type Stage } from './kit.ts';

describe.skipIf(!withChromium())('adding a bank account through Debitsuccess', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  it('from the service page to Debitsuccess’s form and back, the account ending 7890 active on the service', async () => {
    const service = DEMO.services.recurringPaidUp;
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${service}`);
    await page.getByRole('button', { name: 'Add bank account' }).click();

    // Debitsuccess's own page: payrail never sees the account number.
    await page.getByLabel('Account holder').waitFor();
    expect(page.url()).toContain('/sandbox/debitsuccess/PayNow/T/');
    await page.getByLabel('Account holder').fill('K Nel');
    await page.getByLabel('Bank').selectOption('Capitec');
    await page.getByLabel('Branch code').fill('470010');
    await page.getByLabel('Account number').fill('1234567890');
    await page.getByLabel('Account type').selectOption('Savings');
    await screenshot(page, 'debitsuccess-bank-form');
    await page.getByRole('button', { name: 'Save' }).click();

    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toContain('Bank account ending 7890 added');
    expect(new URL(page.url()).pathname).toBe(`/app/services/${service}`);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'bank-account-added');

    const active = await stage.h.call('GET', `/active-payment-medium-for-service?serviceId=${service}`);
    const [medium] = await stage.h.ctx.database.db.select().from(mediums).where(eq(mediums.id, active.body.medium_detail_id));
    expect(medium).toMatchObject({ mediumType: 'BankAccount', provider: 'Debitsuccess', accountNumber: '7890', status: 'Valid' });
    await page.close();
  });

  it('an account the bank refuses: said plainly, nothing changed', async () => {
    const service = DEMO.services.recurringPaidUp;
    const before = (await stage.h.call('GET', `/active-payment-medium-for-service?serviceId=${service}`)).body;
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${service}`);
    await page.getByRole('button', { name: 'Add bank account' }).click();
    await page.getByLabel('Account holder').fill('K Nel');
    await page.getByLabel('Branch code').fill('470010');
    await page.getByLabel('Account number').fill('3333333333');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: 15_000 }).toContain('Your bank account was not added');
    expect(await page.getByRole('alert').first().textContent()).toContain('Nothing changed');
    expect((await stage.h.call('GET', `/active-payment-medium-for-service?serviceId=${service}`)).body).toEqual(before);
    await page.close();
  });
});
