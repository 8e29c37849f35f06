import { isAbsolute, resolve } from 'node:path';
import { Secret } from './lib/secret.ts';

/**
 * Configuration comes only from the environment and is parsed once, at start. Every problem names its
 * variable; all problems are reported together.
 */
export interface ProviderSettings {
  /** Where the connector sends its requests; the built-in sandbox unless configured. */
  baseUrl: string;
  /** The base URL is payrail's own sandbox, derived from the public URL. */
  builtInSandbox: boolean;
  credentials: Record<string, Secret>;
}

export type ProviderName = 'peach' | 'payfast' | 'vodapay' | 'debitsuccess' | 'vendor';

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
  sandbox: boolean;
  demo: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  providers: Record<ProviderName, ProviderSettings>;
  collections: {
    /** How long a connector waits for a provider's answer before the outcome is unknown. */
    providerTimeoutMs: number;
    /**
     * Origins (besides payrail's own) that browser redirects may lead to: the operator's client
     * interfaces. A return URL elsewhere is refused, so payrail is never an open redirect.
     */
    redirectOrigins: string[];
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
  };
  sandboxes: {
    /** Test card …0119: how long the sandbox holds the connection before dropping it (0 = at once). */
    lostResponseAfterMs: number;
    /** How long a sandbox waits, after charging a stored card, before it answers (a slow provider). */
    answerDelayMs: number;
  };
}

/** Each provider's credential variables. Setting any of them means real credentials are configured. */
export const PROVIDER_CREDENTIAL_VARS: Record<ProviderName, readonly string[]> = {
  peach: ['PAYRAIL_PEACH_ENTITY_ID', 'PAYRAIL_PEACH_SECRET_TOKEN', 'PAYRAIL_PEACH_ACCESS_TOKEN'],
  payfast: ['PAYRAIL_PAYFAST_MERCHANT_ID', 'PAYRAIL_PAYFAST_MERCHANT_KEY', 'PAYRAIL_PAYFAST_PASSPHRASE'],
  vodapay: ['PAYRAIL_VODAPAY_API_KEY'],
  debitsuccess: ['PAYRAIL_DEBITSUCCESS_USERNAME', 'PAYRAIL_DEBITSUCCESS_PASSWORD'],
  vendor: ['PAYRAIL_VENDOR_USERNAME', 'PAYRAIL_VENDOR_PASSWORD'],
};

const SANDBOX_PATHS: Record<ProviderName, string> = {
  peach: '/sandbox/peach',
  payfast: '/sandbox/payfast',
  vodapay: '/sandbox/vodapay',
  debitsuccess: '/sandbox/debitsuccess',
  vendor: '/sandbox/vendor/prepaidutility/v3',
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
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

  const realCredentials = Object.values(PROVIDER_CREDENTIAL_VARS).some((vars) => vars.some((v) => str(v) !== null));
  const sandbox = bool('PAYRAIL_SANDBOX', !realCredentials);
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

  const providers = {} as Record<ProviderName, ProviderSettings>;
  for (const name of Object.keys(PROVIDER_CREDENTIAL_VARS) as ProviderName[]) {
    const upper = name.toUpperCase();
    const credentials: Record<string, Secret> = {};
    for (const v of PROVIDER_CREDENTIAL_VARS[name]) {
      const value = str(v);
      if (value !== null) credentials[v.slice(`PAYRAIL_${upper}_`.length).toLowerCase()] = new Secret(value);
    }
    const baseUrl = url(`PAYRAIL_${upper}_BASE_URL`, ['http:', 'https:']);
    providers[name] = { baseUrl: baseUrl ?? `${publicUrl}${SANDBOX_PATHS[name]}`, builtInSandbox: baseUrl === null, credentials };
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
  const collections = { providerTimeoutMs: int('PAYRAIL_PROVIDER_TIMEOUT_MS', 20_000, 100, 300_000), redirectOrigins };
  const jobs = {
    inProcess: bool('PAYRAIL_JOBS_IN_PROCESS', true),
    intervalMs: int('PAYRAIL_JOBS_INTERVAL_MS', 2_000, 10, 3_600_000),
    webhookBackoffMs: int('PAYRAIL_WEBHOOK_BACKOFF_MS', 10_000, 1, 86_400_000),
    webhookMaxAttempts: int('PAYRAIL_WEBHOOK_MAX_ATTEMPTS', 12, 1, 100),
    firstCheckAfterMs: str('PAYRAIL_JANITOR_FIRST_CHECK_MS') === null ? null : int('PAYRAIL_JANITOR_FIRST_CHECK_MS', 0, 0, 86_400_000),
  };
  const sandboxes = {
    lostResponseAfterMs: int('PAYRAIL_SANDBOX_LOST_RESPONSE_MS', 30_000, 0, 600_000),
    answerDelayMs: int('PAYRAIL_SANDBOX_ANSWER_DELAY_MS', 0, 0, 600_000),
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
    collections,
    jobs,
    sandboxes,
  };
}

/**
 * The configuration once payrail listens: with `PORT=0` the port is only known then, and a public URL
 * (and the built-in sandboxes' URLs) not configured explicitly follow it.
 */
export function withListeningPort(config: Config, port: number): Config {
  if (config.publicUrlConfigured || port === config.port) return config;
  const publicUrl = `http://localhost:${port}`;
  const providers = Object.fromEntries(
    Object.entries(config.providers).map(([name, p]) => [name, p.builtInSandbox ? { ...p, baseUrl: `${publicUrl}${SANDBOX_PATHS[name as ProviderName]}` } : p]),
  ) as Config['providers'];
  return { ...config, port, publicUrl, providers };
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
