import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding src/, web/ and package.json. Run from the sources (tsx, the tests) it is found from
 * this file; in the bundle bin/payrail.js makes of src/ (a single file elsewhere), esbuild writes it in as
 * __PAYRAIL_ROOT__.
 */
declare const __PAYRAIL_ROOT__: string | undefined;
export const ROOT: string = typeof __PAYRAIL_ROOT__ === 'string' ? __PAYRAIL_ROOT__ : join(dirname(fileURLToPath(import.meta.url)), '..');
