import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { addDays, type IsoDate } from '../../src/domain/periods.ts';
import { chargesFor, expectNoHorizontalScroll, openStage, recordRequests, screenshot, signIn, withChromium, type Stage } from './kit.ts';

const periodEnd = async (stage: Stage, serviceId: string): Promise<IsoDate> => (await stage.h.call('GET', `/services/${serviceId}`)).body.latest_period_end_date;
const today = (): IsoDate => new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 10) as IsoDate; // the operator's day (UTC+2)

describe.skipIf(!withChromium())('Buy Now in the browser', () => {
  let stage: Stage;
  beforeAll(async () => {
    stage = await openStage();
  });
  afterAll(() => stage?.close());

  it('buys two 7-day bundles: shows the quote, then pays it with the demo card', async () => {
    const serviceId = DEMO.services.dayBundle;
    const before = await periodEnd(stage, serviceId);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}`);
    await page.getByRole('link', { name: 'Buy now' }).or(page.getByRole('button', { name: 'Buy now' })).click();
    await page.waitForURL(`${stage.base}/app/services/${serviceId}/buy`);

    await page.getByRole('radio', { name: /7 Day bundle/ }).check();
    await page.getByLabel('Quantity').fill('2');
    await expect.poll(() => page.locator('main').textContent()).toContain('R23.00');
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'buy-now-bundle');

    const quotes = recordRequests(page, 'POST', '/purchases/buy-now');
    await page.getByRole('button', { name: 'Get quote' }).click();
    await page.getByRole('button', { name: 'Pay for this quote' }).or(page.getByRole('link', { name: 'Pay for this quote' })).waitFor();
    expect(quotes).toHaveLength(1);
    const quote = (await (await quotes[0]!.response())!.json()) as { id: string; amount: number; purchase_status_id: number };
    expect(quote).toMatchObject({ amount: 23, purchase_status_id: 6 });
    await screenshot(page, 'buy-now-bundle-quote');

    await page.getByRole('button', { name: 'Pay for this quote' }).or(page.getByRole('link', { name: 'Pay for this quote' })).click();
    await page.waitForURL(`${stage.base}/app/services/${serviceId}/pay?purchaseId=${quote.id}`);
    await page.getByRole('button', { name: 'Pay R23.00' }).click();
    await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${quote.id}/1`);
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    await screenshot(page, 'buy-now-bundle-paid');

    expect((await chargesFor(stage, 'payfast', quote.id)).map((c) => [c.status, c.amount_cents])).toEqual([['approved', 2300]]);
    const start = before !== null && before > today() ? before : today();
    expect(await periodEnd(stage, serviceId)).toBe(addDays(start, 14));
    await page.close();
  });

  it('buys recurring months by amount: R1000 previews 79 days and its VAT, and the quote matches', async () => {
    const serviceId = DEMO.services.recurringPaidUp;
    const before = await periodEnd(stage, serviceId);
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    await page.goto(`${stage.base}/app/services/${serviceId}/buy`);

    const amount = page.getByLabel('Amount (R)');
    await amount.fill('5');
    // Less than a day's price buys nothing: the page says so before anything is sent.
    await expect.poll(() => page.locator('main').textContent()).toMatch(/R12\.64/);
    await amount.fill('1000');
    await expect.poll(() => page.locator('main').textContent()).toMatch(/79 days/);
    expect(await page.locator('main').textContent()).toContain('132.14');
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'buy-now-amount');

    const quotes = recordRequests(page, 'POST', '/purchases/buy-now');
    await page.getByRole('button', { name: 'Get quote' }).click();
    await page.getByRole('button', { name: 'Pay for this quote' }).or(page.getByRole('link', { name: 'Pay for this quote' })).waitFor();
    expect(quotes).toHaveLength(1);
    const quote = (await (await quotes[0]!.response())!.json()) as { id: string; amount: number; amount_excl: number; tax_amount: number; purchase_lines: { quantity: number }[] };
    expect(quote).toMatchObject({ amount: 1000, amount_excl: 867.86, tax_amount: 132.14 });
    expect(quote.purchase_lines[0]!.quantity).toBe(79);
    await screenshot(page, 'buy-now-amount-quote');

    await page.getByRole('button', { name: 'Pay for this quote' }).or(page.getByRole('link', { name: 'Pay for this quote' })).click();
    await page.getByRole('button', { name: /^Pay R1\s?000\.00$/ }).click();
    await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${quote.id}/1`);
    await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    expect((await chargesFor(stage, 'payfast', quote.id)).map((c) => [c.status, c.amount_cents])).toEqual([['approved', 100000]]);
    const start = before !== null && before > today() ? before : today();
    expect(await periodEnd(stage, serviceId)).toBe(addDays(start, 79));
    await page.close();
  });
});
