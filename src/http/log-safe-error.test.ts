import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../test/helpers/harness.ts';
import { insertCustomer } from '../modules/customers/repo.ts';
import { serializeError } from './log-safe-error.ts';

/** A failed query must not put what a caller sent into the log (SPEC §3): here, a customer's details. */
let h: Harness;
const lines: string[] = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  h = await createHarness({ log: pino({ level: 'info' }, sink) });
});
afterAll(() => h.close());

const person = { name: 'Lindiwe Privatename', email: 'lindiwe.private@example.co.za', cellNumber: '+27831112233' };
const personal = ['Privatename', 'lindiwe.private', '1112233'];

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the query to fail');
}

describe('the err serializer', () => {
  it('keeps a failed insert’s SQL, SQLSTATE and constraint, and none of its parameters', async () => {
    const err = await failure(() => insertCustomer(h.ctx.database.db, { id: '5c1b0e8e-0000-4000-8000-000000000001', operatorId: '5c1b0e8e-0000-4000-8000-0000000000ff', ...person, externalReference: null }));
    // What pino's own serializer would have written: the parameters, in the message and the stack.
    expect(JSON.stringify(pino.stdSerializers.err(err))).toContain('Privatename');
    const safe = serializeError(err) as Record<string, unknown>;
    const text = JSON.stringify(safe);
    for (const p of personal) expect(text).not.toContain(p);
    expect(safe.message).toMatch(/^Failed query: insert into "customers"/);
    expect(safe.cause).toMatchObject({ code: '23503', constraint: expect.stringContaining('operator') });
    expect(String(safe.stack)).toMatch(/\n\s+at /);
  });

  it('hides the value PostgreSQL quotes in a data error', async () => {
    const err = await failure(() => h.ctx.database.query('SELECT $1::uuid', [person.email]));
    const text = JSON.stringify(serializeError(err));
    expect(text).toContain('22P02');
    expect(text).not.toContain('lindiwe');
  });

  it('is the serializer of the app’s request logs', async () => {
    const err = await failure(() => insertCustomer(h.ctx.database.db, { id: '5c1b0e8e-0000-4000-8000-000000000002', operatorId: '5c1b0e8e-0000-4000-8000-0000000000ff', ...person, externalReference: null }));
    lines.length = 0;
    h.app.log.child({ reqId: 'r-1' }).error({ err }, 'unhandled error');
    const log = lines.join('');
    expect(log).toContain('23503');
    for (const p of personal) expect(log).not.toContain(p);
  });
});
