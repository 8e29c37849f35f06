import { loadConfig, type Config } from '../../src/config.ts';

/** Test configuration: fixed secrets, sandbox on, silent logs. */
export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-for-hs256';
export const TEST_ENCRYPTION_KEY = '0f'.repeat(32);

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      PAYRAIL_JWT_SECRET: TEST_JWT_SECRET,
      PAYRAIL_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      PAYRAIL_SANDBOX: 'true',
      PAYRAIL_LOG_LEVEL: 'silent',
      PAYRAIL_DATA_DIR: '/nonexistent-payrail-test-dir',
      // Tests run the jobs themselves, and a lost sandbox answer is dropped at once.
      PAYRAIL_JOBS_IN_PROCESS: 'false',
      PAYRAIL_SANDBOX_LOST_RESPONSE_MS: '0',
      PAYRAIL_PROVIDER_TIMEOUT_MS: '5000',
      PAYRAIL_WEBHOOK_BACKOFF_MS: '1',
      // Peach allows two look-ups a minute; tests that are not about that allowance are not slowed by it.
      PAYRAIL_SANDBOX_PEACH_LOOKUPS_PER_MINUTE: '100000',
      PAYRAIL_PEACH_LOOKUPS_PER_MINUTE: '100000',
      ...env,
    },
    '/',
  );
}
