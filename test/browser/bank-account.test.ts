import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { mediums } from '../../src/modules/mediums/schema.ts';
import { readPaymentFeeds } from '../../src/modules/payments/payment-feeds.ts';
import { expectNoHorizontalScroll, openStage, payLabel, screenshot, signIn, unpaidService, withChromium, type Stage } from './kit.ts';

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

  it('a debit order: "submitted — clears in 2–3 business days"; returned by the bank, it is said plainly to the customer and to staff', async () => {
    const { serviceId, purchaseId, amount } = await unpaidService(stage.h);
    // The customer's bank account 2222222222 (cleared, then returned by the bank), captured on Debitsuccess's form.
    const started = await stage.h.call('POST', '/payment-mediums/capture', { token: stage.h.tokens.integrator, body: { service_id: serviceId, medium_type: 'BankAccount', return_url: `${stage.base}/app` } });
    expect(started.status).toBe(201);
    const posted = await fetch(started.body.capture_url, { method: 'POST', body: new URLSearchParams({ account_holder: 'T Mokoena', bank: 'FNB', branch_code: '250655', account_number: '2222222222', account_type: 'Cheque' }), redirect: 'manual' });
    await fetch(posted.headers.get('location')!, { redirect: 'manual' });

    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/pay`);
    await page.getByRole('heading', { name: 'Pay now' }).waitFor();
    expect(await page.getByRole('radio', { name: /T Mokoena/ }).isChecked()).toBe(true);
    await page.getByRole('button', { name: payLabel(amount) }).click();
    await page.getByRole('heading', { name: 'Debit order submitted' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('Debit order submitted — clears in 2–3 business days');
    await screenshot(page, 'debit-order-submitted');

    // The service page says the same of the purchase, while the bank has it.
    await page.goto(`${stage.base}/app/services/${serviceId}`);
    await expect.poll(() => page.getByTestId('purchase-history').textContent(), { timeout: 10_000 }).toContain('Debit order submitted — clears in 2–3 business days');

    // Three bank days: cleared, settled, then returned unpaid. Debitsuccess's webhook and its status feed bring it.
    const sandbox = `${stage.base}/sandbox/debitsuccess`;
    for (let day = 0; day < 3; day++) expect((await fetch(`${sandbox}/bank-day`, { method: 'POST' })).status).toBe(200);
    await expect
      .poll(
        async () => {
          await readPaymentFeeds(stage.h.ctx, { now: new Date(Date.now() + 86_400_000) });
          return (await stage.h.call('GET', `/purchases/${purchaseId}`, { token: stage.h.tokens.integrator })).body.purchase_status_id;
        },
        { timeout: 15_000 },
      )
      .toBe(3);

    await page.reload();
    const history = page.getByTestId('purchase-history');
    await expect.poll(() => history.textContent(), { timeout: 10_000 }).toContain('Debit order returned unpaid by the bank (disputed by the account holder)');
    expect(await history.textContent()).toContain('is owed again');
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'debit-order-returned-customer');
    await page.close();

    // Staff see it on the service's payments: succeeded, returned, and why.
    const staffPage = await stage.browser.page();
    await signIn(staffPage, stage.base, 'Net99 Integrator');
    await staffPage.goto(`${stage.base}/app/services/${serviceId}`);
    const payments = staffPage.getByTestId('payments-table');
    await expect.poll(() => payments.textContent(), { timeout: 10_000 }).toContain('Returned');
    expect(await payments.textContent()).toContain('Returned unpaid: disputed by the account holder');
    await screenshot(staffPage, 'debit-order-returned-staff');
    await staffPage.close();
  });

  it('with Debitsuccess as the card provider, "Add new payment method" pays on its form and shows it paid once Debitsuccess confirms', async () => {
    expect((await stage.h.call('PATCH', '/operator', { token: stage.h.tokens.admin, body: { default_providers: { credit_card: 'Debitsuccess' } } })).status).toBe(200);
    const { serviceId, purchaseId, amount } = await unpaidService(stage.h);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/pay`);
    await page.getByRole('radio', { name: /Add new payment method/ }).check();
    await page.getByRole('button', { name: payLabel(amount) }).click();

    // Debitsuccess's own form, for the purchase's amount.
    await page.getByLabel('Card number').waitFor();
    expect(page.url()).toContain('/sandbox/debitsuccess/PayNow/T/');
    await page.getByLabel('Card number').fill('4444333322221111');
    await page.getByLabel('Expiry (MM/YY)').fill('04/25');
    await page.getByLabel('CVV').fill('123');
    await page.getByLabel('Name on card').fill('AUTHORISED');
    await screenshot(page, 'debitsuccess-card-form');
    await page.getByRole('button', { name: /pay/i }).click();

    // Back on payrail's result page (Status=Success in the address is only a hint): paid once Debitsuccess says so.
    await page.waitForURL(new RegExp(`/app/ext-pay/.*/${purchaseId}/1\\?Status=Success`));
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor({ timeout: 15_000 });
    const [payment] = (await stage.h.call('GET', `/payments?purchaseId=${purchaseId}`, { token: stage.h.tokens.integrator })).body.items;
    expect(payment).toMatchObject({ provider: 'Debitsuccess', kind: 'hosted', status: 'succeeded' });
    await screenshot(page, 'debitsuccess-card-paid');
    await page.close();
    expect((await stage.h.call('PATCH', '/operator', { token: stage.h.tokens.admin, body: { default_providers: { credit_card: 'PayFast' } } })).status).toBe(200);
  });
});
