import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/ids.ts';
import { addDays, civilDate } from '../../src/domain/periods.ts';
import { expectNoHorizontalScroll, openStage, payLabel, screenshot, signIn, withChromium, type Stage } from './kit.ts';

const E14 = DEMO.services.recurringInArrears;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** '2026-12-03' as the app writes it: '3 Dec 2026'. */
const shown = (iso: string) => `${Number(iso.slice(8, 10))} ${MONTHS[Number(iso.slice(5, 7)) - 1]} ${iso.slice(0, 4)}`;
const money = (rand: number) => `R${rand.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')}`;

describe.skipIf(!withChromium())('billing runs, arrears and a suspended service in the browser', () => {
  let stage: Stage;
  /** Today on the operator's calendar (South Africa): the latest date a run may be for. */
  const today = civilDate(new Date());
  beforeAll(async () => {
    stage = await openStage();
    // Seed 000's service (collection day 15) goes live on the latest 15th, so today's run bills its first month;
    // with no grace days that month is overdue at once. Its plan has no card (nothing for the run to collect,
    // whose outcome the suspension would wait for), so the same run suspends the service.
    const latest15th = today.slice(8, 10) >= '15' ? `${today.slice(0, 8)}15` : `${addDays(`${today.slice(0, 8)}01`, -1).slice(0, 8)}15`;
    const operator = await stage.h.call('PATCH', '/operator', { token: stage.h.tokens.admin, body: { grace_days: 0 } });
    expect(operator.status).toBe(200);
    await stage.h.ctx.database.query('UPDATE purchase_plans SET active_medium_id = NULL WHERE service_id = $1', [E14]);
    const activated = await stage.h.call('PATCH', `/services/${E14}`, { token: stage.h.tokens.integrator, body: { service_status: 'Active', on_network_date: latest15th } });
    expect(activated.status).toBe(200);
  });
  afterAll(() => stage?.close());

  it('starts a run for today, shows its figures, and says so when the date was already run', async () => {
    const page = await stage.browser.page();
    await signIn(page, stage.base, 'Net99 Integrator');
    await page.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await expect.poll(() => page.getByTestId('runs-table').or(page.getByText('No billing runs yet.')).count()).toBe(1);

    const field = page.getByLabel('Run billing for');
    expect(await field.inputValue()).toBe(today);
    await page.getByRole('button', { name: 'Start billing run' }).click();
    const result = page.getByTestId('run-result');
    await expect.poll(() => result.textContent()).toContain(`Billing run for ${shown(today)} completed.`);

    // The figures on the screen are the run's, and the run billed and suspended seed 000's service.
    const runs = (await stage.h.call('GET', '/billing/runs?limit=25', { token: stage.h.tokens.integrator })).body.items;
    expect(runs).toHaveLength(1);
    const run = (await stage.h.call('GET', `/billing/runs/${runs[0].id}`, { token: stage.h.tokens.integrator })).body;
    expect(run).toMatchObject({ as_of: today, status: 'completed' });
    expect(run.purchases_created).toBeGreaterThanOrEqual(1);
    expect(run.services_suspended).toBeGreaterThanOrEqual(1);
    for (const key of ['purchases_created', 'collections_started', 'retries_started', 'services_suspended', 'services_reinstated', 'purchases_failed']) {
      expect(await result.getByTestId(`figure-${key}`).textContent(), key).toBe(String(run[key]));
    }
    expect(await result.getByTestId('collections-queued').textContent()).toBe(String(run.collections.queued));
    const service = (await stage.h.call('GET', `/services/${E14}`, { token: stage.h.tokens.integrator })).body;
    expect(service).toMatchObject({ service_status: 'Suspended', billing_status: 'Suspended' });

    // The list shows the run; its page shows the same figures.
    const table = page.getByTestId('runs-table');
    await expect.poll(() => table.getByRole('link', { name: shown(today) }).count()).toBe(1);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'billing-run-started');

    // The same date again creates and charges nothing more.
    await page.getByRole('button', { name: 'Start billing run' }).click();
    await expect.poll(() => result.textContent()).toContain(`${shown(today)} was already run; nothing changed.`);
    expect((await stage.h.call('GET', '/billing/runs?limit=25', { token: stage.h.tokens.integrator })).body.items).toHaveLength(1);

    await table.getByRole('link', { name: shown(today) }).click();
    await page.waitForURL(`${stage.base}/app/billing/runs/${run.id}`);
    await page.getByRole('heading', { name: `Billing run for ${shown(today)}` }).waitFor();
    expect(await page.getByTestId('figure-services_suspended').textContent()).toBe(String(run.services_suspended));
    expect(await page.getByTestId('figure-purchases_created').textContent()).toBe(String(run.purchases_created));
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'billing-run');
    await page.close();
  });

  it('shows why a date cannot be run next to the date field', async () => {
    const page = await stage.browser.page();
    await signIn(page, stage.base, 'Net99 Integrator');
    await page.goto(`${stage.base}/app/billing`);
    const field = page.getByLabel('Run billing for');
    await field.fill(addDays(today, 1));
    await page.getByRole('button', { name: 'Start billing run' }).click();
    const error = page.locator('#as-of-error');
    await expect.poll(() => error.textContent()).toContain('must not be after today');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await field.getAttribute('aria-describedby')).toContain('as-of-error');
    // The field has the focus, so its message is what is read next.
    expect(await page.evaluate('document.activeElement ? document.activeElement.id : null')).toBe('as-of');
    expect(await page.getByTestId('run-result').count()).toBe(0);
    expect((await stage.h.call('GET', '/billing/runs?limit=25', { token: stage.h.tokens.integrator })).body.items).toHaveLength(1);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'billing-run-date-error');

    // Changing the date clears the message.
    await field.fill(today);
    await expect.poll(() => error.count()).toBe(0);
    await page.close();
  });

  it('lists the services that are suspended or in arrears with what they owe', async () => {
    const api = (path: string) => stage.h.call('GET', path, { token: stage.h.tokens.integrator }).then((r) => r.body);
    const service = await api(`/services/${E14}`);
    const customer = await api(`/customers/${DEMO.customerId}`);
    expect(service.amount_due).toBeGreaterThan(0);

    const page = await stage.browser.page();
    await signIn(page, stage.base, 'Net99 Integrator');
    await page.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Arrears' }).click();
    await page.getByRole('heading', { name: 'Arrears', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Suspended', exact: true }).click();
    await page.waitForURL(`${stage.base}/app/arrears?status=Suspended`);

    const row = page.getByTestId(`arrears-${E14}`);
    await expect.poll(() => row.textContent()).toContain(customer.name);
    const text = (await row.textContent())!;
    expect(text).toContain(service.product_name);
    expect(text).toContain('Suspended');
    expect(text).toContain(shown(service.suspension_date));
    expect(text).toContain(money(service.amount_due));
    // The list is the API's: every suspended service, and only those.
    const suspended = (await api('/services?billing_status=Suspended&limit=25')).items as { id: string }[];
    const rows = page.getByTestId('arrears-table').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(suspended.length);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'arrears-suspended');

    // In arrears: what the API says owes and is not yet suspended; seed 000's service is not among them now.
    await page.getByRole('link', { name: 'In arrears', exact: true }).click();
    await page.waitForURL(`${stage.base}/app/arrears`);
    const inArrears = (await api('/services?billing_status=InArrears&limit=25')).items as { id: string }[];
    await expect.poll(() => rows.or(page.getByText('No service is in arrears.')).count()).toBe(Math.max(inArrears.length, 1));
    expect(await page.getByTestId(`arrears-${E14}`).count()).toBe(0);

    // Each row leads to the service.
    await page.getByRole('link', { name: 'Suspended', exact: true }).click();
    await row.getByRole('link', { name: service.product_name }).click();
    await page.waitForURL(`${stage.base}/app/services/${E14}`);
    await expect.poll(() => page.getByTestId('suspended-note').textContent()).toContain('Suspended.');
    await page.close();
  });

  it('shows a customer their suspended service, takes its payment with the demo card, and shows it active and paid up', async () => {
    const page = await stage.browser.page();
    await signIn(page, stage.base);
    // Home: the suspended service comes first, says so, and offers one way to pay.
    const card = page.getByTestId(`service-${E14}`);
    await expect.poll(() => card.getByTestId('suspended-note').textContent()).toMatch(/Suspended\..*overdue/);
    expect(await page.locator('article[data-testid^="service-"]').first().getAttribute('data-testid')).toBe(`service-${E14}`);
    // Pay now comes with what the card loads about what is due, a moment after the list.
    await expect.poll(() => card.getByRole('link', { name: /pay now/i }).count()).toBe(1);
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'suspended-home');

    // Pay what is due, oldest first, until the service owes nothing: each with the demo card.
    for (let i = 0; i < 3; i++) {
      const details = (await stage.h.call('GET', `/services/${E14}/details-and-actions`)).body;
      if (!details.must_pay_info) break;
      const due = details.must_pay_info.arrears_purchase;
      await page.goto(`${stage.base}/app/services/${E14}`);
      await expect.poll(() => page.getByTestId('suspended-note').textContent()).toContain('Suspended.');
      if (i === 0) await screenshot(page, 'suspended-service');
      await page.getByRole('link', { name: 'Make payment' }).click();
      await page.waitForURL(`${stage.base}/app/services/${E14}/pay`);
      expect(await page.getByRole('radio', { name: /test 4242/ }).isChecked()).toBe(true);
      await page.getByRole('button', { name: payLabel(due.amount) }).click();
      await page.waitForURL(`${stage.base}/app/ext-pay/${DEMO.customerUserId}/${due.id}/1`);
      await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
    }
    const after = (await stage.h.call('GET', `/services/${E14}`)).body;
    expect(after).toMatchObject({ service_status: 'Active', billing_status: 'PaidUp', amount_due: 0 });

    // The service: active, paid up, no longer suspended, and its payment history lists what was paid.
    await page.goto(`${stage.base}/app/services/${E14}`);
    const facts = page.getByTestId(`service-${E14}`);
    await expect.poll(() => facts.textContent()).toMatch(/Active/);
    expect(await facts.textContent()).toMatch(/Paid up/);
    expect(await page.getByTestId('suspended-note').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Make payment' }).count()).toBe(0);

    // Newest first, as the API lists them: seed 000's upfront purchase and the month the run billed, both paid with the card.
    const purchases = (await stage.h.call('GET', `/purchases?serviceId=${E14}`)).body.items as { id: string; amount: number; purchase_status_id: number; purchase_date: string }[];
    expect(purchases.length).toBeGreaterThanOrEqual(2);
    expect(purchases.every((p) => p.purchase_status_id === 4)).toBe(true);
    const history = page.getByTestId('purchase-history');
    const rows = history.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(purchases.length);
    for (let i = 0; i < purchases.length; i++) {
      const text = (await rows.nth(i).textContent())!;
      expect(text).toContain('Paid');
      expect(text).toContain('test 4242');
      expect(text).toContain(money(purchases[i]!.amount));
      // The day it was billed on the operator's calendar, wherever the browser is.
      expect(text).toContain(shown(civilDate(new Date(purchases[i]!.purchase_date))));
    }
    expect(await history.textContent()).toContain('On Order/Upfront Monthly');
    await expectNoHorizontalScroll(page);
    await screenshot(page, 'service-payment-history');

    // Home: no longer suspended, nothing to pay.
    await page.goto(`${stage.base}/app`);
    await expect.poll(() => card.textContent()).toMatch(/Paid up/);
    expect(await card.getByTestId('suspended-note').count()).toBe(0);
    expect(await card.getByRole('link', { name: /pay now/i }).count()).toBe(0);
    await page.close();
  });
});
