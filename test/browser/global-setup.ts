import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { CHROMIUM } from '../helpers/browser.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Debian's Chromium is installed: the browser tests run. */
    chromium: boolean;
  }
}

/**
 * The browser tests drive the built client interface, so it is built once per run, from the sources as
 * they are. Without Chromium they are skipped, and the run says so.
 */
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const present = existsSync(CHROMIUM);
  project.provide('chromium', present);
  if (!present) {
    const say = () => process.stderr.write(`\n[browser] SKIPPED: the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it).\n\n`);
    say();
    return say; // again at the end, under the summary
  }
  await build({ configFile: join(import.meta.dirname, '..', '..', 'web', 'vite.config.ts'), logLevel: 'warn' });
  return undefined;
}
