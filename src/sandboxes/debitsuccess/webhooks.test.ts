import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxNotifications } from '../kit/schema.ts';
import { eq } from 'drizzle-orm';
import { dsCard, P, startSandbox, type Client } from './test-client.ts';
import { RETRY_AFTER_MS, WEBHOOK_PROVIDER } from './webhooks.ts';

/** The facility webhook: a 200 is a delivery; anything else is retried 3 times 180 s apart, then the webhook is disabled. */

let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterAll(async () => {
  await c.receiver.close();
  await c.h.close();
});

const pay = async () => {
  const t = await c.token();
  await c.open(t.Token);
  await c.submit(t.Token, dsCard('AUTHORISED'));
  return t;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhook delivery', () => {
  it('retries a failing webhook 3 times 180 s apart, then disables it until re-enabled', async () => {
    const hook = c.receiver.fresh();
    c.receiver.answer(hook.path, 500);
    await c.behave({ webhookUrl: hook.url });
    // Storing a bank account sends one notice: the facility's.
    await c.bankAccount('1234567890');
    expect(await c.receiver.waitFor(hook.path, 1)).toHaveLength(1);
    await sleep(500);
    expect(c.receiver.at(hook.path)).toHaveLength(1);
    for (let attempt = 2; attempt <= 4; attempt++) {
      c.advance(RETRY_AFTER_MS - 30_000);
      await sleep(500);
      expect(c.receiver.at(hook.path), `not before 180 s (attempt ${attempt})`).toHaveLength(attempt - 1);
      c.advance(30_000);
      expect(await c.receiver.waitFor(hook.path, attempt)).toHaveLength(attempt);
    }
    await sleep(300);
    const status = (await c.call('GET', `${P}/webhook`)).body;
    expect(status).toMatchObject({ url: hook.url, enabled: false, undelivered: 0 });
    const stored = await c.h.ctx.database.db.select().from(sandboxNotifications).where(eq(sandboxNotifications.url, hook.url));
    expect(stored.map((n) => [n.provider, n.attempts, n.lastStatus, n.deliveredAt])).toEqual([[WEBHOOK_PROVIDER, 4, 500, null]]);

    // Disabled: a payment now sends nothing, even once the receiver is fixed.
    c.receiver.answer(hook.path, 200);
    await pay();
    c.advance(RETRY_AFTER_MS);
    await sleep(600);
    expect(c.receiver.at(hook.path)).toHaveLength(4);

    // Re-enabled: new notices are delivered (with the Realtime event's headers); those abandoned stay so.
    expect((await c.call('POST', `${P}/webhook/enable`)).body).toMatchObject({ enabled: true, undelivered: 0 });
    const t = await pay();
    const after = await c.receiver.waitFor(hook.path, 6);
    expect(after.slice(4).map((r) => r.body.WebhookToken ?? r.body.ExternalTransactionIdentifier).sort()).toEqual([t.WebhookToken, t.Token].sort());
    expect(after.slice(4).map((r) => r.headers['x-eventname'] ?? null).sort()).toEqual(['Realtime.Account.Payment.Authorized', null]);
    c.advance(RETRY_AFTER_MS * 4);
    await sleep(600);
    expect(c.receiver.at(hook.path)).toHaveLength(6);
  });

  it('counts only a 200 as delivered: a 204 is retried', async () => {
    const hook = c.receiver.fresh();
    c.receiver.answer(hook.path, 204);
    await c.behave({ webhookUrl: hook.url });
    await pay();
    await c.receiver.waitFor(hook.path, 2);
    c.receiver.answer(hook.path, 200);
    c.advance(RETRY_AFTER_MS);
    expect(await c.receiver.waitFor(hook.path, 4)).toHaveLength(4);
    await sleep(300);
    expect((await c.call('GET', `${P}/webhook`)).body).toMatchObject({ enabled: true, undelivered: 0 });
  });
});
