#!/usr/bin/env node
// payrail's command line. The TypeScript sources run as they are, so there is no build step to forget. A
// start bundles src/ with esbuild (which tsx brings) into node_modules/.cache/payrail, under a hash of the
// sources, and every later start with the same sources loads that one file: about a second sooner than
// tsx's loader hooks, which handle each module in turn. Should bundling fail (no esbuild, a read-only
// folder), tsx runs the sources directly.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/** The sources the command line is made of (tests aside), in a stable order. */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sources(path);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
    });
}

/** Whether a process of this id still runs (one we may not signal does). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * Removes the partial bundles of processes killed while writing them (one still being written is left
 * alone) and, after a new bundle was made (`others`), the bundles of earlier sources.
 */
function sweep(cache, current, others) {
  for (const file of readdirSync(cache)) {
    if (!file.startsWith('cli-') || file === current) continue;
    const writer = /\.(\d+)\.partial$/.exec(file);
    if (writer ? !alive(Number(writer[1])) : others) rmSync(join(cache, file), { force: true });
  }
}

/** The bundle of these sources, made now if it is not there yet; null if it cannot be made. */
async function bundle() {
  try {
    const hash = createHash('sha256').update(root).update(readFileSync(fileURLToPath(import.meta.url)));
    // What esbuild reads besides the sources: the compiler options and the package's module type.
    for (const file of ['tsconfig.json', 'package.json']) hash.update(readFileSync(join(root, file)));
    for (const file of sources(src)) hash.update(relative(src, file)).update('\0').update(readFileSync(file)).update('\0');
    const cache = join(root, 'node_modules', '.cache', 'payrail');
    const name = `cli-${hash.digest('hex').slice(0, 20)}.mjs`;
    const out = join(cache, name);
    if (existsSync(out)) {
      sweep(cache, name, false);
      return out;
    }
    const { build } = await import('esbuild');
    mkdirSync(cache, { recursive: true });
    const partial = `${out}.${process.pid}.partial`;
    await build({
      entryPoints: [join(src, 'cli.ts')],
      outfile: partial,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      // Files that find their way by their own location (src/paths.ts) are told the checkout's instead.
      define: { __PAYRAIL_ROOT__: JSON.stringify(root) },
      logLevel: 'silent',
    });
    // Whole or not at all: several processes starting at once may each make it.
    renameSync(partial, out);
    sweep(cache, name, true);
    return out;
  } catch {
    return null;
  }
}

const bundled = await bundle();
if (bundled) {
  // Stack traces name the sources' files and lines, as they do under tsx.
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
