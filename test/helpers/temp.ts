import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Folders made by tempDir and not yet removed. */
const made: string[] = [];

/**
 * A new folder under the OS temp dir (`payrail-<prefix>-…`), removed after the test file that made it
 * (test/helpers/temp-cleanup.ts, a setup file of every project): a run leaves no data dirs behind.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `payrail-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes the folders tempDir made; a folder that cannot be removed is left, never failing a test. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A process that outlived its test may still hold it; the OS's temp cleaning takes it later.
    }
  }
}
