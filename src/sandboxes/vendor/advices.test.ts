import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { advice, purchase, startSandbox, type Client } from './test-client.ts';

/** Confirmations and reversals: recorded, refused when repeated or orphaned, and failed on demand. */
let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterEach(() => c.resetBehaviour());
afterAll(() => c?.close());

describe('advices', () => {
  it('a confirmation is 202 and recorded; a repeat of its id is 400 DUPLICATE_RECORD and counted', async () => {
    const p = purchase();
    await c.buy(p);
    const body = advice(p.id);
    const res = await c.confirm(p.id, body);
    expect(res).toMatchObject({ status: 202, body: { id: body.id, requestId: p.id } });
    const again = await c.confirm(p.id, body);
    expect(again).toMatchObject({ status: 400, body: { errorType: 'DUPLICATE_RECORD', requestType: 'CONFIRMATION_ADVICE', id: body.id, originalId: p.id } });
    expect(await c.advices(p.id)).toMatchObject([{ id: body.id, requestId: p.id, kind: 'confirmation', reason: null, received: 2 }]);
  });

  it.each(['TIMEOUT', 'CANCELLED', 'RESPONSE_NOT_FINAL'])('a reversal (%s) is 202 and recorded with its reason; the tokens stay issued', async (reason) => {
    const p = purchase();
    await c.buy(p);
    const body = advice(p.id, undefined, { reversalReason: reason });
    expect((await c.reverse(p.id, body)).status).toBe(202);
    expect(await c.advices(p.id)).toMatchObject([{ kind: 'reversal', reason, received: 1 }]);
    expect(await c.ledger(p.id)).toMatchObject([{ status: 'approved' }]);
  });

  it('an advice for a purchase never received is 404 UNABLE_TO_LOCATE_RECORD', async () => {
    const requestId = randomUUID();
    expect(await c.confirm(requestId)).toMatchObject({ status: 404, body: { errorType: 'UNABLE_TO_LOCATE_RECORD', originalId: requestId } });
    expect(await c.reverse(requestId)).toMatchObject({ status: 404 });
    expect(await c.advices(requestId)).toEqual([]);
  });

  it('advices of a declined purchase are recorded too', async () => {
    const p = purchase('55550503');
    await c.buy(p);
    expect((await c.reverse(p.id)).status).toBe(202);
  });

  it('advice_failures: the next n advices answer the status set (504 empty, 500 ErrorDetail) and are not recorded', async () => {
    const p = purchase();
    await c.buy(p);
    const body = advice(p.id);
    await c.behave({ advice_failures: 2, advice_failure_status: 504 });
    expect(await c.confirm(p.id, body)).toMatchObject({ status: 504, text: '' });
    expect(await c.confirm(p.id, body)).toMatchObject({ status: 504 });
    expect(await c.advices(p.id)).toEqual([]);
    expect((await c.confirm(p.id, body)).status).toBe(202);
    await c.behave({ advice_failures: 1, advice_failure_status: 500 });
    expect(await c.reverse(p.id)).toMatchObject({ status: 500, body: { errorType: 'GENERAL_ERROR', requestType: 'REVERSAL_ADVICE' } });
    expect(await c.advices(p.id)).toHaveLength(1);
  });

  it('behaviour settings are checked', async () => {
    expect((await c.behave({ advice_failures: -1 })).status).toBe(400);
    expect((await c.behave({ advice_failure_status: 502 })).status).toBe(400);
    expect((await c.behave({ lost_response: 'slow' })).status).toBe(400);
    expect((await c.behave({ colour: 'red' })).status).toBe(400);
  });
});
