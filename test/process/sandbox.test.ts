import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as t from '../../src/db/schema.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { eventually, payOnHostedPage, unpaidPurchase } from '../helpers/collections.ts';
import { testConfig } from '../helpers/config.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { runPayrail } from '../helpers/process.ts';
import { tempDir } from '../helpers/temp.ts';

/**
 * `payrail sandbox`: the providers' side alone, on its own port and database, and a payrail elsewhere that
 * talks to it only through its PAYRAIL_<PROVIDER>_BASE_URL variables — as it would to the real providers.
 */
describe.runIf(inject('engine') === 'pglite')('payrail sandbox, standalone', () => {
  let sandbox: ReturnType<typeof runPayrail>;
  let h: Harness | undefined;
  beforeAll(() => {
    const dataDir = join(tempDir('sandbox'), 'data');
    sandbox = runPayrail(['sandbox', '--port', '0'], { PAYRAIL_SANDBOX_DATA_DIR: dataDir, PAYRAIL_LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    sandbox?.child.kill('SIGTERM');
    if (sandbox) expect(await sandbox.exited).toBe(0);
    await h?.close();
  });

  it('serves the sandboxes on their own port, prints how to point payrail at them, and a payrail there collects through it', async () => {
    const url = await eventually(async () => /payrail sandboxes are listening on (http:\/\/\S+)/.exec(sandbox.output())?.[1], 60_000);
    const out = sandbox.output();
    expect(out).toContain(`PAYRAIL_PAYFAST_BASE_URL=${url}/sandbox/payfast`);
    expect(out).toContain(`PAYRAIL_PEACH_CARD_BASE_URL=${url}/sandbox/peach-card`);
    expect((await fetch(`${url}/sandbox/payfast/transactions`)).status).toBe(200);
    expect((await fetch(`${url}/purchases`)).status).toBe(404); // only the providers' side is here

    h = await createHarness({ listen: true, config: testConfig({ PAYRAIL_PAYFAST_BASE_URL: `${url}/sandbox/payfast` }) });
    const purchaseId = await unpaidPurchase(h);
    const res = await h.call('POST', '/purchases/submit-for-collection', { body: { service_id: DEMO.services.recurringInArrears, medium_id: DEMO.mediums.paymentLink, purchase_id: purchaseId } });
    expect(res.status).toBe(200);
    expect(res.body.payment_link_url.startsWith(`${url}/sandbox/payfast/eng/process/payment/`)).toBe(true);
    await payOnHostedPage(res.body.payment_link_url, '4242424242424242');
    // The standalone PayFast posts its ITN to payrail, which confirms it with that PayFast's validate service.
    await eventually(async () => (await h!.ctx.database.db.select().from(t.purchases).where(eq(t.purchases.id, purchaseId)))[0]!.statusId === 4);
    const ledger = (await (await fetch(`${url}/sandbox/payfast/transactions?status=approved`)).json()) as { items: { amount: string }[] };
    expect(ledger.items.map((i) => i.amount)).toEqual(['379.00']);
    // payrail's own built-in sandbox charged nothing.
    expect(((await (await fetch(`${h.baseUrl}/sandbox/payfast/transactions`)).json()) as { items: unknown[] }).items).toEqual([]);
  }, 120_000); // a process to start, a database to create and a payment to make, on a busy machine
});
