import { expect } from 'vitest';
import type { Harness } from './harness.ts';

/**
 * A bank account captured for a service on Debitsuccess's form, as a customer would (over real HTTP to the
 * sandbox: open the form, submit it, come back through payrail): the Valid medium's id.
 */
export async function captureBankAccount(h: Harness, serviceId: string, accountNumber: string, holder = 'K Nel'): Promise<string> {
  const started = await h.call('POST', '/payment-mediums/capture', { token: h.tokens.integrator, body: { service_id: serviceId, medium_type: 'BankAccount', return_url: `${h.baseUrl}/app` } });
  expect(started.status, started.text).toBe(201);
  await fetch(started.body.capture_url);
  const form = new URLSearchParams({ account_holder: holder, bank: 'FNB', branch_code: '250655', account_number: accountNumber, account_type: 'Cheque' });
  const posted = await fetch(started.body.capture_url, { method: 'POST', body: form, redirect: 'manual' });
  expect(posted.status).toBe(302);
  await fetch(posted.headers.get('location')!, { redirect: 'manual' });
  const done = await h.call('GET', `/payment-mediums/captures/${started.body.id}`, { token: h.tokens.integrator });
  expect(done.body.status).toBe('succeeded');
  return done.body.medium_id as string;
}
