import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MediumTypes } from './domain/enums.ts';
import { CONNECTORS } from './providers/registry.ts';
import { tempDir } from '../test/helpers/temp.ts';

/**
 * The layers a reader sees in the tree (SPEC §2) hold in the code: these tests read every import and fail
 * on one that crosses a boundary the wrong way.
 */
const SRC = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(SRC, '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of a file, resolved to a path from the repository root (`src/http/app.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

function crossings(from: string, forbidden: readonly string[]): string[] {
  return filesUnder(join(SRC, from)).flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.some((f) => target.startsWith(f)))
      .map((target) => `${relative(ROOT, file)} → ${target}`),
  );
}

/** Import circles among the (non-test) files under a folder, each as the files it goes through. */
function cyclesUnder(dir: string): string[] {
  const files = filesUnder(resolve(SRC, dir)).filter((f) => !f.endsWith('.test.ts'));
  const inside = new Set(files.map((f) => relative(ROOT, f)));
  const edges = new Map(files.map((f) => [relative(ROOT, f), importsOf(f).filter((t) => inside.has(t))]));
  const found = new Set<string>();
  const walk = (node: string, path: string[]) => {
    for (const next of edges.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at !== -1) found.add([...path.slice(at), next].join(' → '));
      else if (path.length < 12) walk(next, [...path, next]);
    }
  };
  for (const start of inside) walk(start, [start]);
  return [...found];
}

describe('architecture', () => {
  it('connectors import nothing from the HTTP layer, the sandboxes or the use-cases', () => {
    expect(crossings('providers', ['src/http/', 'src/sandboxes/', 'src/modules/', 'src/jobs/', 'src/app.ts', 'src/server.ts'])).toEqual([]);
  });

  it('sandboxes use none of payrail’s use-cases or connectors’ internals beyond their signatures and published merchants', () => {
    // Their tests may check that both sides agree (a sandbox's webhook verified by its connector).
    const crossing = crossings('sandboxes', ['src/modules/', 'src/jobs/', 'src/providers/']).filter((c) => !/→ src\/providers\/[a-z-]+\/(signature|credentials)\.ts$/.test(c) && !/^src\/sandboxes\/\S+\.test\.ts /.test(c));
    expect(crossing).toEqual([]);
  });

  it('the domain is pure: it imports nothing outside itself', () => {
    expect(crossings('domain', ['src/'].map((p) => p)).filter((c) => !c.split(' → ')[1]!.startsWith('src/domain/'))).toEqual([]);
  });

  it('no provider is named in the use-cases: they ask the registry', () => {
    // 'OffSystem' is a medium type too; table definitions may carry a column default.
    const names = CONNECTORS.map((c) => c.id).filter((id) => !(MediumTypes as readonly string[]).includes(id));
    const found = filesUnder(join(SRC, 'modules'))
      .filter((f) => !f.endsWith('.test.ts') && !f.endsWith('/schema.ts'))
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        return names.filter((name) => new RegExp(`['"\`]${name}['"\`]`).test(text)).map((name) => `${relative(ROOT, file)}: '${name}'`);
      });
    expect(found).toEqual([]);
  });

  it('the collection core has no import circle (its types live in their own file)', () => {
    expect(cyclesUnder('modules/payments')).toEqual([]);
  });

  it('finds a crossing when there is one (the check itself works)', () => {
    expect(crossings('http', ['src/modules/']).length).toBeGreaterThan(0);
    const dir = tempDir('circle');
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.ts';\nexport const a = b;\n");
    writeFileSync(join(dir, 'b.ts'), "import type { a } from './a.ts';\nexport const b = 1 as unknown as typeof a;\n");
    expect(cyclesUnder(dir).length).toBeGreaterThan(0);
  });
});
