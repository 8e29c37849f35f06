import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, withListeningPort, type Config } from './config.ts';
import { peachConnector } from './providers/peach/connector.ts';
import { payfastConnector } from './providers/payfast/connector.ts';
import { resolveSettings } from './providers/settings.ts';

const peach = (c: Config) => resolveSettings(peachConnector.settings, c.providers.peach, c);
const payfast = (c: Config) => resolveSettings(payfastConnector.settings, c.providers.payfast, c);

describe('config from the environment', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, '/srv/payrail');
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', publicUrl: 'http://localhost:8080', databaseUrl: null, dataDir: '/srv/payrail/data', sandbox: true, demo: true, logLevel: 'info' });
    expect(peach(c).baseUrl).toBe('http://localhost:8080/sandbox/peach');
    expect(peach(c).hosts).toEqual({ base: 'http://localhost:8080/sandbox/peach', card: 'http://localhost:8080/sandbox/peach-card' });
    expect(c.trustedProxies).toEqual([]);
    expect(c.jwt.secret).toBeNull();
  });

  it('follows PORT and PAYRAIL_PUBLIC_URL into the sandbox URLs', () => {
    const c = loadConfig({ PORT: '9000', PAYRAIL_PUBLIC_URL: 'https://pay.example.co.za/' });
    expect(c.publicUrl).toBe('https://pay.example.co.za');
    expect(payfast(c).baseUrl).toBe('https://pay.example.co.za/sandbox/payfast');
  });

  it('follows the port actually listened on when PORT=0, unless a public URL is configured', () => {
    const c = withListeningPort(loadConfig({ PORT: '0', PAYRAIL_PEACH_CARD_BASE_URL: 'https://sandbox-card.peachpayments.com' }), 43210);
    expect(c.publicUrl).toBe('http://localhost:43210');
    expect(peach(c).hosts).toEqual({ base: 'http://localhost:43210/sandbox/peach', card: 'https://sandbox-card.peachpayments.com' });
    const fixed = withListeningPort(loadConfig({ PORT: '0', PAYRAIL_PUBLIC_URL: 'https://pay.example.co.za' }), 43210);
    expect(fixed.publicUrl).toBe('https://pay.example.co.za');
  });

  it('turns demo data off by default on PostgreSQL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_SANDBOX: 'true' }).demo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_SANDBOX: 'true', PAYRAIL_DEMO: 'on' }).demo).toBe(true);
  });

  it('keeps sandbox mode off on PostgreSQL unless PAYRAIL_SANDBOX asks for it, and says how to ask', () => {
    const secrets = { PAYRAIL_JWT_SECRET: 'x'.repeat(32), PAYRAIL_ENCRYPTION_KEY: 'ab'.repeat(32) };
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', ...secrets }).sandbox).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_JWKS_URL: 'https://idp.example/jwks', PAYRAIL_ENCRYPTION_KEY: 'ab'.repeat(32) }).sandbox).toBe(false);

    let problems: string[] = [];
    try {
      loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems.some((p) => p.includes('PAYRAIL_JWT_SECRET'))).toBe(true);
    expect(problems.some((p) => p.includes('PAYRAIL_ENCRYPTION_KEY'))).toBe(true);
    expect(problems.some((p) => p.includes('set PAYRAIL_SANDBOX=true'))).toBe(true);
    // One secret missing is enough for the hint.
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_JWT_SECRET: 'x'.repeat(32) })).toThrow(/PAYRAIL_SANDBOX=true/);

    const trial = loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_SANDBOX: 'true' });
    expect(trial.sandbox).toBe(true);
    expect(trial.jwt.secret).toBeNull(); // generated in the data dir at start, as on PGlite
    // Asked for off, it is off with no hint to turn it on: the operator meant it.
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_SANDBOX: 'false' })).not.toThrow(/PAYRAIL_SANDBOX=true/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:p@db/payrail', PAYRAIL_SANDBOX: 'false' })).toThrow(/PAYRAIL_JWT_SECRET/);
  });

  it('leaves sandbox mode when real provider credentials are configured, and then needs real secrets', () => {
    expect(() => loadConfig({ PAYRAIL_PAYFAST_MERCHANT_ID: '10000100' })).toThrow(/PAYRAIL_JWT_SECRET.*required/);
    const c = loadConfig({ PAYRAIL_PAYFAST_MERCHANT_ID: '10000100', PAYRAIL_JWT_SECRET: 'x'.repeat(32), PAYRAIL_ENCRYPTION_KEY: 'ab'.repeat(32) });
    expect(c.sandbox).toBe(false);
    expect(c.providers.payfast!.credentials.merchant_id!.reveal()).toBe('10000100');
    expect(payfast(c).sandbox).toBe(false);
  });

  it('reads each provider’s variables from its connector’s declaration', () => {
    const c = loadConfig({ PAYRAIL_PEACH_BASE_URL: 'https://testsecure.peachpayments.com/', PAYRAIL_PEACH_LOOKUPS_PER_MINUTE: '30' });
    expect(c.providers.peach).toMatchObject({ hosts: { base: 'https://testsecure.peachpayments.com' }, lookupsPerMinute: 30 });
    const custom = loadConfig({ PAYRAIL_ACME_BASE_URL: 'https://acme.example', PAYRAIL_ACME_API_KEY: 'k', PAYRAIL_JWT_SECRET: 'x'.repeat(32), PAYRAIL_ENCRYPTION_KEY: 'ab'.repeat(32) }, '/', [{ key: 'acme', credentials: ['api_key'], hosts: { base: '/sandbox/acme' } }]);
    expect(custom.providers.acme!.hosts.base).toBe('https://acme.example');
    expect(custom.providers.acme!.credentials.api_key!.reveal()).toBe('k');
    expect(custom.sandbox).toBe(false);
    expect(() => loadConfig({ PAYRAIL_PEACH_CARD_BASE_URL: 'ftp://x' })).toThrow(/PAYRAIL_PEACH_CARD_BASE_URL/);
  });

  it('takes trusted proxies as addresses or CIDR ranges, and names a bad one', () => {
    expect(loadConfig({ PAYRAIL_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16,::1' }).trustedProxies).toEqual(['10.0.0.1', '192.168.0.0/16', '::1']);
    expect(() => loadConfig({ PAYRAIL_TRUSTED_PROXIES: 'proxy.local' })).toThrow(/PAYRAIL_TRUSTED_PROXIES.*proxy\.local/);
    expect(() => loadConfig({ PAYRAIL_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/PAYRAIL_TRUSTED_PROXIES/);
  });

  it('reads the internal hosts webhooks may go to: names, addresses, ranges', () => {
    expect(loadConfig({}).webhooks.allowedHosts).toEqual([]);
    expect(loadConfig({ PAYRAIL_WEBHOOK_ALLOWED_HOSTS: 'Hooks.Internal, 10.1.2.3,10.8.0.0/16, fd00::/8' }).webhooks.allowedHosts).toEqual(['hooks.internal', '10.1.2.3', '10.8.0.0/16', 'fd00::/8']);
    expect(() => loadConfig({ PAYRAIL_WEBHOOK_ALLOWED_HOSTS: 'https://hooks.internal/' })).toThrow(/PAYRAIL_WEBHOOK_ALLOWED_HOSTS.*https:\/\/hooks\.internal/);
    expect(() => loadConfig({ PAYRAIL_WEBHOOK_ALLOWED_HOSTS: '10.0.0.0/40' })).toThrow(/PAYRAIL_WEBHOOK_ALLOWED_HOSTS/);
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
    const c = loadConfig({ DATABASE_URL: 'postgres://user:hunter2@db/x', PAYRAIL_JWT_SECRET: 'j'.repeat(40), PAYRAIL_ENCRYPTION_KEY: 'ab'.repeat(32) });
    const printed = `${inspect(c, { depth: 5 })} ${JSON.stringify(c)} ${String(c.jwt.secret)}`;
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('j'.repeat(40));
    expect(c.databaseUrl!.reveal()).toBe('postgres://user:hunter2@db/x');
  });
});
