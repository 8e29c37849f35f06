import { defineConfig } from 'vitest/config';

/**
 * Pure code runs once ("unit"). Everything that touches a database runs on PGlite and, when
 * TEST_DATABASE_URL is set, again on PostgreSQL: the same tests, the same migrations.
 */
const engines = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])];
const unit = ['src/domain/**/*.test.ts', 'src/lib/**/*.test.ts', 'src/config.test.ts', 'src/db/data-dir-lock.test.ts', 'src/providers/registry.test.ts', 'src/http/auth.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { test: { name: 'unit', include: unit } },
      ...engines.map((engine) => ({
        test: {
          name: engine,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: unit,
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      })),
    ],
  },
});
