import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { purchase, startSandbox, type Client } from './test-client.ts';

/**
 * Token purchases, their retries, reprints and trials against the test meters (SPEC §12): a purchase id
 * issues tokens once, whatever arrives how often and how concurrently.
 */
let c: Client;
beforeAll(async () => {
  c = await startSandbox();
});
afterEach(() => c.resetBehaviour());
afterAll(() => c?.close());

const tokenOf = (body: any): string => body.tokens[0].token;

describe('the test meters', () => {
  it('01234567890 vends: 201, an STS token, units by the tariff, VAT, receipt and invoice; the ledger has no digits', async () => {
    const p = purchase('01234567890', 10_000);
    const res = await c.buy(p);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: p.id,
      meter: { meterId: '01234567890', supplyGroupCode: '600123' },
      customer: { firstName: 'Thandi', lastName: 'Mokoena' },
      utility: { name: 'Sandbox Municipal Electricity' },
      purchaseTotal: { amount: 10_000, currency: '710' },
      taxTotal: { amount: 1_304, currency: '710' },
      tokens: [{ tokenType: 'STD', units: 34.7, amount: { amount: 10_000, currency: '710', tax: 1_304, taxRate: 15 } }],
    });
    expect(tokenOf(res.body)).toMatch(/^[0-9]{20}$/);
    expect(res.body.tokens[0].receiptNum).toMatch(/^[0-9]{12}$/);
    expect(res.body.vatInvoiceNumber).toMatch(/^VI[0-9]{10}$/);
    const ledger = await c.ledger(p.id);
    expect(ledger).toMatchObject([{ kind: 'vend', status: 'approved', amount_cents: 10_000, details: { units: [34.7], meter_id: '01234567890' } }]);
    expect(JSON.stringify(ledger)).not.toContain(tokenOf(res.body));
  });

  it('any other well-formed meter vends like 01234567890, to a generic customer', async () => {
    const res = await c.buy(purchase('ABC123', 500_000));
    expect(res.status).toBe(201);
    expect(res.body.customer).toMatchObject({ firstName: 'Sandbox', lastName: 'Customer C123' });
    expect(res.body.tokens[0].units).toBe(1739.1);
  });

  it('…0408 issues its token but the first answer is lost (504, empty body); /retry returns the same token, 202', async () => {
    const p = purchase('98760408', 5_000);
    const lost = await c.buy(p);
    expect(lost.status).toBe(504);
    expect(lost.text).toBe('');
    const ledger = await c.ledger(p.id);
    expect(ledger).toMatchObject([{ status: 'approved', amount_cents: 5_000 }]);
    const first = await c.retry(p);
    const second = await c.retry(p);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(tokenOf(first.body)).toMatch(/^[0-9]{20}$/);
    expect(tokenOf(second.body)).toBe(tokenOf(first.body));
    expect(await c.ledger(p.id)).toHaveLength(1);
  });

  it('…0408 with lost_response drop: the connection is dropped, and the retry still finds the token', async () => {
    await c.behave({ lost_response: 'drop' });
    const p = purchase('98760408');
    await expect(c.buy(p)).rejects.toThrow();
    const retried = await c.retry(p);
    expect(retried.status).toBe(202);
    expect(await c.ledger(p.id)).toHaveLength(1);
  });

  it('…0503 is refused: 503 UPSTREAM_UNAVAILABLE, declined in the ledger; a retry gets the same refusal', async () => {
    const p = purchase('55550503');
    const res = await c.buy(p);
    expect(res).toMatchObject({ status: 503, body: { errorType: 'UPSTREAM_UNAVAILABLE', errorMessage: 'Utility unavailable', id: p.id } });
    const retry = await c.retry(p);
    expect(retry).toMatchObject({ status: 503, body: { errorType: 'UPSTREAM_UNAVAILABLE', requestType: 'TOKEN_PURCHASE_RETRY_REQUEST' } });
    expect(await c.ledger(p.id)).toMatchObject([{ status: 'declined', result_code: 'UPSTREAM_UNAVAILABLE' }]);
  });

  it('…0999 is unknown: lookup and purchase 400 UNKNOWN_METER_ID', async () => {
    expect(await c.lookup('01234560999')).toMatchObject({ status: 400, body: { errorType: 'UNKNOWN_METER_ID', requestType: 'METER_LOOKUP_REQUEST' } });
    const p = purchase('01234560999');
    expect(await c.buy(p)).toMatchObject({ status: 400, body: { errorType: 'UNKNOWN_METER_ID' } });
    expect(await c.ledger(p.id)).toMatchObject([{ status: 'declined', result_code: 'UNKNOWN_METER_ID' }]);
  });

  it('a meter lookup names the customer, utility and limits (201)', async () => {
    const res = await c.lookup('01234567890');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ customer: { firstName: 'Thandi', address: '12 Long Street, Cape Town, 8001' }, utility: { name: 'Sandbox Municipal Electricity' }, minAmount: { amount: 1_000 }, maxAmount: { amount: 500_000 } });
  });
});

describe('one purchase id, one token', () => {
  it('a reused purchase id is 400 DUPLICATE_RECORD, and nothing more is vended', async () => {
    const p = purchase();
    const first = await c.buy(p);
    const again = await c.buy(p);
    expect(again).toMatchObject({ status: 400, body: { errorType: 'DUPLICATE_RECORD', id: p.id } });
    expect(await c.ledger(p.id)).toHaveLength(1);
    expect(tokenOf((await c.retry(p)).body)).toBe(tokenOf(first.body));
    // An id is unique across message types.
    expect((await c.lookup('01234567890', p.id)).body.errorType).toBe('DUPLICATE_RECORD');
  });

  it('a retry whose original never arrived is processed as a new purchase; later retries return its token', async () => {
    const p = purchase();
    const first = await c.retry(p);
    expect(first.status).toBe(202);
    expect(tokenOf((await c.retry(p)).body)).toBe(tokenOf(first.body));
    expect(await c.ledger(p.id)).toHaveLength(1);
  });

  it('a retry must carry the original request', async () => {
    const p = purchase('01234567890', 10_000);
    await c.buy(p);
    const res = await c.retry({ ...p, purchaseAmount: { amount: 20_000, currency: '710' } });
    expect(res).toMatchObject({ status: 400, body: { errorType: 'FORMAT_ERROR', requestType: 'TOKEN_PURCHASE_RETRY_REQUEST' } });
  });

  it('20 concurrent purchases with one id: one token, the rest DUPLICATE_RECORD', async () => {
    const p = purchase();
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.buy(p)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 400 && a.body.errorType === 'DUPLICATE_RECORD')).toHaveLength(19);
    expect(await c.ledger(p.id)).toHaveLength(1);
  });

  it('20 concurrent retries with one id: all answered with the same one token', async () => {
    const p = purchase();
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.retry(p)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    expect(new Set(answers.map((a) => tokenOf(a.body))).size).toBe(1);
    expect(await c.ledger(p.id)).toHaveLength(1);
  });

  it('purchase_failures: the next purchase fails 500 before the vendor looks at it; its retry vends', async () => {
    await c.behave({ purchase_failures: 1, purchase_failure_status: 500 });
    const p = purchase();
    expect(await c.buy(p)).toMatchObject({ status: 500, body: { errorType: 'GENERAL_ERROR' } });
    expect(await c.ledger(p.id)).toEqual([]);
    expect((await c.retry(p)).status).toBe(202);
    expect((await c.call('GET', '/sandbox/vendor/behaviour')).body.purchase_failures).toBe(0);
  });
});

describe('reprints and trials', () => {
  it('reprints the last token of a meter, or one named by purchase id or receipt number (200), moving no money', async () => {
    const meter = `7${Date.now()}`.slice(0, 11);
    const a = await c.buy(purchase(meter, 2_000));
    const b = await c.buy(purchase(meter, 3_000));
    const last = await c.reprint(meter);
    expect(last.status).toBe(200);
    expect(tokenOf(last.body)).toBe(tokenOf(b.body));
    const byId = await c.reprint(meter, a.body.id);
    expect(tokenOf(byId.body)).toBe(tokenOf(a.body));
    const byReceipt = await c.reprint(meter, a.body.tokens[0].receiptNum);
    expect(tokenOf(byReceipt.body)).toBe(tokenOf(a.body));
    const reprints = (await c.ledger(a.body.id)).filter((r) => r.kind === 'reprint');
    expect(reprints).toMatchObject([{ status: 'approved', amount_cents: 0 }, { status: 'approved', amount_cents: 0 }]);
  });

  it('a reprint with nothing to reprint is 404 UNABLE_TO_LOCATE_RECORD; a reused reprint id DUPLICATE_RECORD', async () => {
    expect(await c.reprint('99998888')).toMatchObject({ status: 404, body: { errorType: 'UNABLE_TO_LOCATE_RECORD' } });
    expect(await c.reprint('01234567890', randomUUID())).toMatchObject({ status: 404 });
    const id = randomUUID();
    await c.buy(purchase('01234567890'));
    expect((await c.reprint('01234567890', undefined, id)).status).toBe(200);
    expect((await c.reprint('01234567890', undefined, id)).body.errorType).toBe('DUPLICATE_RECORD');
  });

  it('a trial answers what a purchase would (200) with no valid token and nothing in the ledger', async () => {
    const p = purchase('01234567890', 10_000);
    const res = await c.api(`/tokenPurchases/${p.id}/trial`, p);
    expect(res.status).toBe(200);
    expect(res.body.tokens).toMatchObject([{ units: 34.7, token: '0'.repeat(20), receiptNum: null }]);
    expect(await c.ledger(p.id)).toEqual([]);
    expect((await c.api(`/tokenPurchases/${p.id}/trial`, p)).body.errorType).toBe('DUPLICATE_RECORD');
    const other = purchase('55550503');
    expect((await c.api(`/tokenPurchases/trials/${other.id}`, other)).status).toBe(503);
  });
});
