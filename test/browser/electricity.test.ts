import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, DEMO_METERS } from '../../src/demo/ids.ts';
import { workRefunds } from '../../src/modules/refunds/work-refunds.ts';
import { workVends } from '../../src/modules/utility/vend.ts';
import { expectNoHorizontalScroll, openStage, recordRequests, screenshot, signIn, withChromium, type Stage } from './kit.ts';

/**
 * Prepaid electricity in the app (SPEC §12): the meter's owner shown before paying, an amount, the demo
 * card, "Vending…" until the vend job runs (the stage runs no jobs: the test runs them while the page
 * polls), then the 20-digit token, large and copyable, on the result page and in the service's history; a
 * meter the vendor refuses shows the refund; an unknown meter cannot be paid for; staff refund a payment.
 */
const TOKEN = /^\d{4}-\d{4}-\d{4}-\d{4}-\d{4}$/;

describe.skipIf(!withChromium())('prepaid electricity in the app', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  /** A new electricity service of the demo customer on a meter (placed through the setup API). */
  const meterService = async (meterId: string): Promise<string> => {
    const order = await stage.h.call('POST', '/orders', {
      token: stage.h.tokens.integrator,
      body: { customer_id: DEMO.customerId, product_id: DEMO.products.electricity, collector_id: DEMO.collectorId, meter_id: meterId },
    });
    expect(order.status, order.text).toBe(201);
    return order.body.service.id;
  };

  it('buys R100 on meter 01234567890 with the demo card: the owner first, "Vending…", then the token in 4-4-4-4-4 with its kWh, also in the history', async () => {
    const serviceId = DEMO.services.electricity;
    const page = await stage.browser.page();
    await stage.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stage.base });
    await signIn(page, stage.base);

    // The home page's card: prepaid electricity, its meter, "Buy electricity".
    const card = page.getByTestId(`service-${serviceId}`);
    await card.getByRole('link', { name: 'Buy electricity' }).waitFor();
    expect(await card.textContent()).toMatch(/Prepaid electricity.*01234567890/);
    expect(await card.getByRole('link', { name: /Buy now|Pay now/ }).count()).toBe(0);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'electricity-home-card');

    const submits = recordRequests(page, 'POST', '/purchases/submit-for-collection');
    await card.getByRole('link', { name: 'Buy electricity' }).click();
    await page.waitForURL(`${stage.base}/app/services/${serviceId}/electricity`);
    await page.getByRole('heading', { name: 'Buy electricity', level: 1 }).waitFor();
    // Whose meter it is, before anything can be paid.
    const meter = page.getByTestId('meter');
    await meter.waitFor();
    expect(await meter.textContent()).toMatch(/Meter 01234567890 — Thandi Mokoena, 12 Long Street/);
    expect(await page.getByRole('button', { name: /^Pay R/ }).count()).toBe(0);

    // The amount, with the range in words.
    const amount = page.getByLabel('Amount (R)');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await expect.poll(() => page.locator('#amount-hint').textContent()).toBe('Enter how much electricity to buy, in rand.');
    await amount.fill('5');
    await expect.poll(() => page.locator('#amount-hint').textContent()).toBe('The least you can buy is R10.00.');
    await amount.fill('3500');
    await expect.poll(() => page.locator('#amount-hint').textContent()).toBe('The most you can buy at once is R3 000.00.');
    expect(await amount.getAttribute('aria-invalid')).toBe('true');
    await amount.fill('ten');
    await expect.poll(() => page.locator('#amount-hint').textContent()).toMatch(/Enter an amount in rand/);
    await screenshot(page, 'electricity-amount-invalid');

    const quotes = recordRequests(page, 'POST', '/purchases/buy-now');
    await amount.fill('100');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    const pay = page.getByRole('button', { name: 'Pay R100.00' });
    await pay.waitFor();
    expect(quotes).toHaveLength(1);
    expect(quotes[0]!.postDataJSON()).toMatchObject({ service_id: serviceId, amount: 100 });
    const quote = (await (await quotes[0]!.response())!.json()) as { id: string; purchase_status_id: number; purchase_creation_event_id: number };
    expect(quote).toMatchObject({ purchase_status_id: 6, purchase_creation_event_id: 7 });
    const demoCard = page.getByTestId(`medium-${DEMO.mediums.card}`);
    expect(await demoCard.textContent()).toContain('Saved card ending 4242');
    await demoCard.getByRole('radio').check();
    expect(submits).toHaveLength(0);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'electricity-pay');

    await pay.click();
    await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${quote.id}/1`);
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    const tokens = page.getByTestId('utility-tokens');
    await expect.poll(() => tokens.textContent()).toMatch(/Vending…/);
    await screenshot(page, 'electricity-vending');

    // The vend job's turn, while the page polls.
    expect(await workVends(stage.h.ctx)).toBeGreaterThanOrEqual(1);
    const token = page.getByTestId('token');
    await token.waitFor({ timeout: 15_000 });
    const shown = (await token.textContent())!.trim();
    expect(shown).toMatch(TOKEN);
    const api = await stage.h.call('GET', `/purchases/${quote.id}/tokens`, { token: stage.h.tokens.customer });
    expect(api.body.status).toBe('issued');
    expect(shown).toBe(api.body.tokens[0].token);
    expect(await page.getByTestId('token-units').textContent()).toBe(`${api.body.tokens[0].units} kWh`);
    expect(await tokens.textContent()).toContain(api.body.tokens[0].receipt_number);
    await page.getByRole('heading', { name: 'Your electricity token' }).waitFor();

    // Copy: the 20 digits, on the clipboard.
    await page.getByRole('button', { name: 'Copy token' }).click();
    await expect.poll(() => tokens.getByRole('status').last().textContent()).toBe('Copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(shown.replaceAll('-', ''));
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'electricity-token');
    // A reprint asks the vendor for the same token (never a new purchase).
    await page.getByRole('button', { name: 'Reprint from the vendor' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('The vendor confirmed this token.');

    // The service's history has the same token under the purchase.
    await page.goto(`${stage.base}/app/services/${serviceId}`);
    await page.getByRole('link', { name: 'Buy electricity' }).waitFor();
    const history = page.getByTestId('purchase-history');
    await history.getByTestId('token').first().waitFor();
    expect((await history.getByTestId('token').allTextContents()).map((t) => t.trim())).toContain(shown);
    expect(await history.textContent()).toContain('Prepaid electricity, meter 01234567890');
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'electricity-history');
    await page.close();
  });

  it('a meter the vendor refuses: the page says the electricity could not be bought and the R200.00 is refunded', async () => {
    const serviceId = await meterService(DEMO_METERS.refused);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/electricity`);
    await page.getByTestId('meter').waitFor();
    expect(await page.getByTestId('meter').textContent()).toContain(`Meter ${DEMO_METERS.refused}`);
    await page.getByLabel('Amount (R)').fill('200');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await page.getByTestId(`medium-${DEMO.mediums.card}`).getByRole('radio').check();
    await page.getByRole('button', { name: 'Pay R200.00' }).click();
    await page.waitForURL(new RegExp(`/app/ext-pay/${DEMO.customerUserId}/[0-9a-f-]+/1$`));
    const tokens = page.getByTestId('utility-tokens');
    await expect.poll(() => tokens.textContent()).toMatch(/Vending…/);

    await workVends(stage.h.ctx);
    await page.getByRole('heading', { name: 'Electricity could not be bought' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => tokens.textContent()).toMatch(/The electricity could not be bought.*Your payment of R200\.00 (is being|has been) refunded/);
    await workRefunds(stage.h.ctx);
    await expect.poll(() => tokens.textContent(), { timeout: 15_000 }).toMatch(/Your payment of R200\.00 has been refunded\./);
    expect(await page.getByTestId('token').count()).toBe(0);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'electricity-refunded');

    // The history says it too, under the cancelled purchase.
    await page.goto(`${stage.base}/app/services/${serviceId}`);
    const history = page.getByTestId('purchase-history');
    await expect.poll(() => history.textContent()).toMatch(/Cancelled[\s\S]*Your payment of R200\.00 has been refunded/);
    await screenshot(page, 'electricity-refunded-history');
    await page.close();
  });

  it('a meter the vendor does not know: a clear message and nothing to pay with', async () => {
    const serviceId = await meterService(DEMO_METERS.lostFirstAnswer);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    // The vendor forgets the meter after the order was placed (an unknown meter cannot be ordered).
    await page.route(`**/services/${serviceId}/meter`, (route) =>
      route.fulfill({
        status: 422,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Unprocessable Entity', status: 422, code: 'meter.unknown', detail: 'The vendor does not know the meter.' }),
      }),
    );
    await page.goto(`${stage.base}/app/services/${serviceId}/electricity`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(`The electricity vendor does not know meter ${DEMO_METERS.lostFirstAnswer}, so electricity cannot be bought for it.`);
    expect(await page.getByLabel('Amount (R)').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Continue to payment|^Pay R/ }).count()).toBe(0);
    await screenshot(page, 'electricity-unknown-meter');
    await page.close();
  });

  it('staff refund a payment from the payments table, after confirming; a refused refund is a message', async () => {
    // A paid, vended R20.00 on the demo service (through the API).
    const serviceId = DEMO.services.electricity;
    const quote = await stage.h.call('POST', '/purchases/buy-now', { token: stage.h.tokens.customer, body: { service_id: serviceId, amount: 20 } });
    expect(quote.status, quote.text).toBe(201);
    const paid = await stage.h.call('POST', '/purchases/submit-for-collection', { token: stage.h.tokens.customer, body: { service_id: serviceId, purchase_id: quote.body.id, medium_id: DEMO.mediums.card } });
    expect(paid.status, paid.text).toBe(200);
    await workVends(stage.h.ctx);

    const page = await stage.browser.page();
    await signIn(page, stage.base, 'Net99 Integrator');
    await page.goto(`${stage.base}/app/services/${serviceId}`);
    const table = page.getByTestId('payments-table');
    const refund = table.getByRole('button', { name: /^Refund R20\.00 of / });
    await refund.waitFor();

    // A refusal is a message, and nothing changes.
    await page.route('**/payments/*/refunds', (route) =>
      route.fulfill({ status: 422, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Unprocessable Entity', status: 422, code: 'refund.not_refundable', detail: 'This payment cannot be refunded.' }) }),
    );
    await refund.click();
    const dialog = page.getByRole('dialog', { name: 'Refund R20.00?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('goes back to the customer through PayFast');
    await dialog.getByRole('button', { name: 'Refund R20.00' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toBe('This payment cannot be refunded.');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.unroute('**/payments/*/refunds');

    // Cancelling refunds nothing; confirming does.
    const refunds = recordRequests(page, 'POST', `/payments/${paid.body.payment_id}/refunds`);
    await refund.click();
    await dialog.waitFor();
    await dialog.getByLabel('Reason (optional)').fill('Customer bought for the wrong meter');
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'electricity-staff-refund-dialog');
    await dialog.getByRole('button', { name: 'Refund R20.00' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => page.getByRole('status').filter({ hasText: /^Refunded R20\.00/ }).textContent()).toBe('Refunded R20.00: PayFast confirmed the refund.');
    expect(refunds).toHaveLength(1);
    expect(await table.getByTestId(`refund-${paid.body.payment_id}`).textContent()).toBe('Refunded');
    expect(await table.getByRole('button', { name: /^Refund R20\.00 of / }).count()).toBe(0);
    const listed = await stage.h.call('GET', '/refunds', { token: stage.h.tokens.integrator });
    expect(listed.body.items.find((r: { payment_id: string }) => r.payment_id === paid.body.payment_id)).toMatchObject({ status: 'succeeded', amount: 20, reason: 'requested', comment: 'Customer bought for the wrong meter' });
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'electricity-staff-refunded');
    await page.close();
  });
});
