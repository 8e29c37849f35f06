import { isAbsolute, resolve } from 'node:path';
import { isIP } from 'node:net';
import { Secret } from './lib/secret.ts';
import type { SettingsDeclaration } from './providers/contract.ts';
import { SETTINGS_DECLARATIONS } from './providers/registry.ts';
import { credentialVariable, hostVariable, type ConfiguredProvider } from './providers/settings.ts';

/**
 * Configuration comes only from the environment and is parsed once, at start. Every problem names its
 * variable; all problems are reported together. Each provider's variables come from its connector's
 * declaration (src/providers/registry.ts), so a new provider brings its own.
 */
export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /** PAYRAIL_PUBLIC_URL was given; otherwise the public URL follows the port actually listened on. */
  publicUrlConfigured: boolean;
  /** PostgreSQL connection string; null means the embedded PGlite database in `dataDir`. */
  databaseUrl: Secret | null;
  dbPoolSize: number;
  /** details-and-actions responses kept per process (revalidated on every request); 0 turns it off. */
  detailsCacheSize: number;
  dataDir: string;
  jwt: { secret: Secret | null; jwksUrl: string | null; issuer: string | null; audience: string | null };
  /** Key for provider tokens at rest (32 bytes). Generated in the data dir in sandbox mode when unset. */
  encryptionKey: Secret | null;
  /**
   * The built-in provider sandboxes, generated secrets and sandbox sign-in. On by default only on PGlite
   * without provider credentials; on PostgreSQL only when PAYRAIL_SANDBOX asks for it.
   */
  sandbox: boolean;
  demo: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** What the environment configured per provider (by its settings key); resolveSettings fills in the rest. */
  providers: Record<string, ConfiguredProvider>;
  /**
   * Proxies in front of payrail whose X-Forwarded-For is believed (PAYRAIL_TRUSTED_PROXIES): addresses or
   * CIDR ranges. A provider's callback is then judged by the address the proxy received it from.
   */
  trustedProxies: string[];
  collections: {
    /** How long a connector waits for a provider's answer before the outcome is unknown. */
    providerTimeoutMs: number;
    /**
     * Origins (besides payrail's own) that browser redirects may lead to: the operator's client
     * interfaces. A return URL elsewhere is refused, so payrail is never an open redirect.
     */
    redirectOrigins: string[];
  };
  webhooks: {
    /**
     * PAYRAIL_WEBHOOK_ALLOWED_HOSTS: internal hosts webhooks may go to outside sandbox mode (host names,
     * IP addresses, CIDR ranges); every other endpoint must resolve to public internet addresses only.
     */
    allowedHosts: string[];
  };
  jobs: {
    /** Run the janitor and the webhook dispatcher inside `serve` (off when `payrail worker` does it). */
    inProcess: boolean;
    /** How often each job looks for due work. */
    intervalMs: number;
    /** First webhook retry delay; it doubles per attempt. */
    webhookBackoffMs: number;
    webhookMaxAttempts: number;
    /** Overrides every provider's delay before the janitor first asks about an unsettled attempt (null: the provider's own). */
    firstCheckAfterMs: number | null;
    /** Overrides every provider's attempt deadline (null: the provider's own; see ConnectorTiming.deadlineMs). */
    attemptDeadlineMs: number | null;
    /** The daily billing run: the operator's local time (HH:MM, South Africa) from which a day's run is due; null: no daily run. */
    billingTime: { hour: number; minute: number } | null;
    /** How long a claimed billing collection is held before another process may take it over. */
    billingLeaseMs: number;
    /** How many billing collections one process works at once. */
    billingConcurrency: number;
    /** How many slices of a billing run are billed at once on PostgreSQL (one connection each). */
    billingRunLanes: number;
  };
  sandboxes: {
    /** Test card …0119: how long the sandbox holds the connection before dropping it (0 = at once). */
    lostResponseAfterMs: number;
    /** How long a sandbox waits, after charging a stored card, before it answers (a slow provider). */
    answerDelayMs: number;
    /** Look-ups (`/status`, `/v1/query`) the Peach sandbox answers per minute before it answers 429 (Peach: 2). */
    peachStatusPerMinute: number;
    /** Peach test card …0077: how long after the checkout ends as cancelled the payment turns successful. */
    peachLateSuccessMs: number;
    /** The Debitsuccess sandbox's bank day advances by itself this often (0: only by `POST /sandbox/debitsuccess/bank-day`). */
    bankDayMs: number;
    /**
     * Where the sandboxes' merchant (payrail) lives, for the notices a provider sends to an address it was
     * configured with rather than given per payment (PayFast's account notify URL). Null: this process.
     * Set it when the sandboxes run alone (`payrail sandbox`) in front of a payrail elsewhere.
     */
    merchantUrl: string | null;
    /** `payrail sandbox`: its port, and its embedded database's folder (DATABASE_URL shares payrail's instead). */
    port: number;
    dataDir: string;
  };
}

/** A DNS name: dot-separated labels of letters, digits, hyphens (and underscores, which internal DNS allows). */
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd(), declarations: readonly SettingsDeclaration[] = SETTINGS_DECLARATIONS): Config {
  const problems: string[] = [];
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = str(name);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const v = str(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['1', 'true', 'on', 'yes'].includes(v)) return true;
    if (['0', 'false', 'off', 'no'].includes(v)) return false;
    problems.push(`${name} must be true or false (or 1/0, on/off), got "${env[name]}"`);
    return fallback;
  };
  const url = (name: string, protocols: readonly string[]): string | null => {
    const v = str(name);
    if (v === null) return null;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return v.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${redactUrl(v)}"`);
      return null;
    }
  };

  const port = int('PORT', 8080, 0, 65535);
  const host = str('HOST') ?? '127.0.0.1';
  const configuredPublicUrl = url('PAYRAIL_PUBLIC_URL', ['http:', 'https:']);
  const publicUrl = configuredPublicUrl ?? `http://localhost:${port}`;
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const dataDirRaw = str('PAYRAIL_DATA_DIR') ?? './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  const jwtSecret = str('PAYRAIL_JWT_SECRET');
  if (jwtSecret !== null && jwtSecret.length < 32) {
    problems.push('PAYRAIL_JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit key)');
  }
  const jwksUrl = url('PAYRAIL_JWKS_URL', ['http:', 'https:']);

  const encryptionKey = str('PAYRAIL_ENCRYPTION_KEY');
  if (encryptionKey !== null && !/^[0-9a-fA-F]{64}$/.test(encryptionKey)) {
    problems.push('PAYRAIL_ENCRYPTION_KEY must be 64 hex characters (32 bytes)');
  }

  const realCredentials = declarations.some((d) => d.credentials.some((c) => str(credentialVariable(d.key, c)) !== null));
  // PostgreSQL is the production engine: sandbox mode (generated secrets, sign-in as any demo user) is
  // only ever on there because someone asked for it, never because a secret was forgotten.
  const sandboxAskedFor = str('PAYRAIL_SANDBOX') !== null;
  const sandbox = bool('PAYRAIL_SANDBOX', !realCredentials && databaseUrl === null);
  const demo = bool('PAYRAIL_DEMO', databaseUrl === null);

  const logLevelRaw = (str('PAYRAIL_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelRaw)) {
    problems.push(`PAYRAIL_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevelRaw}"`);
  }

  if (!sandbox && jwtSecret === null && jwksUrl === null) {
    problems.push('PAYRAIL_JWT_SECRET (or PAYRAIL_JWKS_URL) is required when PAYRAIL_SANDBOX is off');
  }
  if (!sandbox && encryptionKey === null) {
    problems.push('PAYRAIL_ENCRYPTION_KEY is required when PAYRAIL_SANDBOX is off');
  }
  if (!sandbox && !sandboxAskedFor && !realCredentials && databaseUrl !== null && (encryptionKey === null || (jwtSecret === null && jwksUrl === null))) {
    problems.push('PAYRAIL_SANDBOX is off by default with DATABASE_URL (PostgreSQL): to try payrail on PostgreSQL with the built-in sandboxes, set PAYRAIL_SANDBOX=true explicitly');
  }

  const providers: Record<string, ConfiguredProvider> = {};
  for (const d of declarations) {
    const hosts: Record<string, string> = {};
    for (const host of Object.keys(d.hosts)) {
      const value = url(hostVariable(d.key, host), ['http:', 'https:']);
      if (value !== null) hosts[host] = value;
    }
    const credentials: Record<string, Secret> = {};
    for (const c of d.credentials) {
      const value = str(credentialVariable(d.key, c));
      if (value !== null) credentials[c] = new Secret(value);
    }
    const lookups = `PAYRAIL_${d.key.toUpperCase()}_LOOKUPS_PER_MINUTE`;
    providers[d.key] = { hosts, credentials, lookupsPerMinute: str(lookups) === null ? null : int(lookups, 1, 1, 100_000) };
  }

  const trustedProxies: string[] = [];
  for (const raw of (str('PAYRAIL_TRUSTED_PROXIES') ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [address, bits, extra] = raw.split('/');
    const family = isIP(address ?? '');
    const prefixOk = bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (family === 0 || !prefixOk || extra !== undefined) problems.push(`PAYRAIL_TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR ranges, got "${raw}"`);
    else trustedProxies.push(raw);
  }

  const redirectOrigins: string[] = [];
  for (const raw of (str('PAYRAIL_REDIRECT_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean)) {
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      redirectOrigins.push(u.origin);
    } catch {
      problems.push(`PAYRAIL_REDIRECT_ORIGINS must be a comma-separated list of http(s) origins, got "${raw}"`);
    }
  }
  const allowedHosts: string[] = [];
  for (const raw of (str('PAYRAIL_WEBHOOK_ALLOWED_HOSTS') ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)) {
    const [address, bits, extra] = raw.split('/');
    const family = isIP(address ?? '');
    const range = family !== 0 && extra === undefined && (bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32)));
    if (range || HOST_NAME.test(raw)) allowedHosts.push(raw);
    else problems.push(`PAYRAIL_WEBHOOK_ALLOWED_HOSTS must be a comma-separated list of host names, IP addresses or CIDR ranges, got "${raw}"`);
  }
  const collections = { providerTimeoutMs: int('PAYRAIL_PROVIDER_TIMEOUT_MS', 20_000, 100, 300_000), redirectOrigins };
  const jobs = {
    inProcess: bool('PAYRAIL_JOBS_IN_PROCESS', true),
    intervalMs: int('PAYRAIL_JOBS_INTERVAL_MS', 2_000, 10, 3_600_000),
    webhookBackoffMs: int('PAYRAIL_WEBHOOK_BACKOFF_MS', 10_000, 1, 86_400_000),
    webhookMaxAttempts: int('PAYRAIL_WEBHOOK_MAX_ATTEMPTS', 12, 1, 100),
    firstCheckAfterMs: str('PAYRAIL_JANITOR_FIRST_CHECK_MS') === null ? null : int('PAYRAIL_JANITOR_FIRST_CHECK_MS', 0, 0, 86_400_000),
    attemptDeadlineMs: str('PAYRAIL_ATTEMPT_DEADLINE_MS') === null ? null : int('PAYRAIL_ATTEMPT_DEADLINE_MS', 0, 1_000, 86_400_000),
    billingTime: billingTime(str('PAYRAIL_BILLING_TIME') ?? '02:00', problems),
    billingLeaseMs: int('PAYRAIL_BILLING_LEASE_MS', 60_000, 1_000, 3_600_000),
    billingConcurrency: int('PAYRAIL_BILLING_CONCURRENCY', 100, 1, 200),
    billingRunLanes: int('PAYRAIL_BILLING_RUN_LANES', 2, 1, 32),
  };
  const sandboxes = {
    lostResponseAfterMs: int('PAYRAIL_SANDBOX_LOST_RESPONSE_MS', 30_000, 0, 600_000),
    answerDelayMs: int('PAYRAIL_SANDBOX_ANSWER_DELAY_MS', 0, 0, 600_000),
    peachStatusPerMinute: int('PAYRAIL_SANDBOX_PEACH_LOOKUPS_PER_MINUTE', 2, 1, 100_000),
    peachLateSuccessMs: int('PAYRAIL_SANDBOX_PEACH_LATE_SUCCESS_MS', 5_000, 0, 3_600_000),
    bankDayMs: int('PAYRAIL_SANDBOX_BANK_DAY_MS', 0, 0, 86_400_000),
    merchantUrl: url('PAYRAIL_SANDBOX_MERCHANT_URL', ['http:', 'https:']),
    port: int('PAYRAIL_SANDBOX_PORT', 8090, 0, 65535),
    dataDir: ((raw) => (isAbsolute(raw) ? raw : resolve(cwd, raw)))(str('PAYRAIL_SANDBOX_DATA_DIR') ?? './data-sandbox'),
  };

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port,
    host,
    publicUrl,
    publicUrlConfigured: configuredPublicUrl !== null,
    databaseUrl: databaseUrl === null ? null : new Secret(databaseUrl),
    dbPoolSize: int('PAYRAIL_DB_POOL_SIZE', 10, 1, 200),
    detailsCacheSize: int('PAYRAIL_DETAILS_CACHE_SIZE', 10_000, 0, 1_000_000),
    dataDir,
    jwt: {
      secret: jwtSecret === null ? null : new Secret(jwtSecret),
      jwksUrl,
      issuer: str('PAYRAIL_JWT_ISSUER'),
      audience: str('PAYRAIL_JWT_AUDIENCE'),
    },
    encryptionKey: encryptionKey === null ? null : new Secret(encryptionKey.toLowerCase()),
    sandbox,
    demo,
    logLevel: logLevelRaw as Config['logLevel'],
    providers,
    trustedProxies,
    collections,
    webhooks: { allowedHosts },
    jobs,
    sandboxes,
  };
}

/**
 * The configuration once payrail listens: with `PORT=0` the port is only known then, and a public URL not
 * configured explicitly follows it (and with it the built-in sandboxes' URLs, see resolveSettings).
 */
export function withListeningPort(config: Config, port: number): Config {
  if (config.publicUrlConfigured || port === config.port) return config;
  return { ...config, port, publicUrl: `http://localhost:${port}` };
}

/** A URL fit for a message: its password replaced. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable)';
  }
}

/** PAYRAIL_BILLING_TIME: `HH:MM` (24-hour, South African time), or `off` for no daily run. */
function billingTime(raw: string, problems: string[]): { hour: number; minute: number } | null {
  if (/^(off|false|0|no)$/i.test(raw)) return null;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw);
  if (!m) {
    problems.push(`PAYRAIL_BILLING_TIME must be a time of day as HH:MM (24-hour, South African time) or off, got "${raw}"`);
    return null;
  }
  return { hour: Number(m[1]), minute: Number(m[2]) };
}
