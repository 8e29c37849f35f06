import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, withListeningPort } from './config.ts';

describe('config from the environment', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, '/srv/payrail');
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', publicUrl: 'http://localhost:8080', databaseUrl: null, dataDir: '/srv/payrail/data', sandbox: true, demo: true, logLevel: 'info' });
    expect(c.providers.peach.baseUrl).toBe('http://localhost:8080/sandbox/peach');
    expect(c.providers.vendor.baseUrl).toBe('http://localhost:8080/sandbox/vendor/prepaidutility/v3');
    expect(c.jwt.secret).toBeNull();
  });

  it('follows PORT and PAYRAIL_PUBLIC_URL into the sandbox URLs', () => {
    const c = loadConfig({ PORT: '9000', PAYRAIL_PUBLIC_URL: 'https://pay.example.co.za/' });
    expect(c.publicUrl).toBe('https://pay.example.co.za');
    expect(c.providers.payfast.baseUrl).toBe('https://pay.example.co.za/sandbox/payfast');
  });

  it('follows the port actually listened on when PORT=0, unless a public URL is configured', () => {
    const c = withListeningPort(loadConfig({ PORT: '0', PAYRAIL_VENDOR_BASE_URL: 'https://vendor.example.co.za' }), 43210);
    expect(c.publicUrl).toBe('http://localhost:43210');
    expect(c.providers.peach.baseUrl).toBe('http://localhost:43210/sandbox/peach');
    expect(c.providers.vendor.baseUrl).toBe('https://vendor.example.co.za');
    const fixed = withListeningPort(loadConfig({ PORT: '0', PAYRAIL_PUBLIC_URL: 'https://pay.example.co.za' }), 43210);
    expect(fixed.publicUrl).toBe('https://pay.example.co.za');
  });

  it('turns demo data off by default on PostgreSQL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail' }).demo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_DEMO: 'on' }).demo).toBe(true);
  });

  it('leaves sandbox mode when real provider credentials are configured, and then needs real secrets', () => {
    expect(() => loadConfig({ PAYRAIL_PAYFAST_MERCHANT_ID: '10000100' })).toThrow(/PAYRAIL_JWT_SECRET.*required/);
    const c = loadConfig({ PAYRAIL_PAYFAST_MERCHANT_ID: '10000100', PAYRAIL_JWT_SECRET: 'x'.repeat(32), PAYRAIL_ENCRYPTION_KEY: 'ab'.repeat(32) });
    expect(c.sandbox).toBe(false);
    expect(c.providers.payfast.credentials.merchant_id!.reveal()).toBe('10000100');
  });

  it('reports every bad variable at once, by name', () => {
    try {
      loadConfig({ PORT: 'eighty', PAYRAIL_SANDBOX: 'maybe', DATABASE_URL: 'mysql://x', PAYRAIL_JWT_SECRET: 'short', PAYRAIL_LOG_LEVEL: 'loud', PAYRAIL_ENCRYPTION_KEY: 'zz' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).message;
      for (const name of ['PORT', 'PAYRAIL_SANDBOX', 'DATABASE_URL', 'PAYRAIL_JWT_SECRET', 'PAYRAIL_LOG_LEVEL', 'PAYRAIL_ENCRYPTION_KEY']) expect(text).toContain(name);
    }
  });

  it('never prints a secret or a database password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'ftp://user:hunter2@db/x' })).toThrow(/\*\*\*/);
    expect(() => loadConfig({ DATABASE_URL: 'ftp://user:hunter2@db/x' })).not.toThrow(/hunter2/);
    const c = loadConfig({ DATABASE_URL: 'postgres://user:hunter2@db/x', PAYRAIL_JWT_SECRET: 'j'.repeat(40) });
    const printed = `${inspect(c, { depth: 5 })} ${JSON.stringify(c)} ${String(c.jwt.secret)}`;
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('j'.repeat(40));
    expect(c.databaseUrl!.reveal()).toBe('postgres://user:hunter2@db/x');
  });
});
