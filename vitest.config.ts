import { defineConfig } from 'vitest/config';

/**
 * Pure code runs once ("unit"). Everything that touches a database runs on PGlite and, when
 * TEST_DATABASE_URL is set, again on PostgreSQL: the same tests, the same migrations. The browser tests
 * run once, on PGlite.
 */
const engines = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])];
/** Folders a test file made with tempDir are removed after it (a run leaves no data dirs in the temp dir). */
const setupFiles = ['test/helpers/temp-cleanup.ts'];
const unit = ['src/domain/**/*.test.ts', 'src/lib/**/*.test.ts', 'src/config.test.ts', 'src/architecture.test.ts', 'src/db/data-dir-lock.test.ts', 'src/providers/registry.test.ts', 'src/http/auth.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    // Three on two cores: the real-process tests spend most of their time waiting on their children and on
    // deadlines, which a third file uses. The whole suite: 609 s against 721 s with two, the same hour.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { test: { name: 'unit', include: unit, setupFiles } },
      ...engines.map((engine) => ({
        test: {
          name: engine,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...unit, 'test/browser/**'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles,
          // Files share a worker's loaded modules (no test mocks a module): importing the app once per
          // worker instead of once per file takes about a third off the suite.
          isolate: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      })),
      // The client interface in Debian's Chromium, against a real payrail (PGlite): skipped, with a message, without Chromium.
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts', 'test/browser/global-setup.ts'],
          setupFiles,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
