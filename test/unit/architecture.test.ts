// The shape docs/README promises: src/ folders depend on one another without cycles, and the enforcement core
// stays pure. Read from the import lines themselves, so that a change that breaks the shape fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm;

/** Every source file of src/ (tests aside) with the specifiers it imports. */
function sources(): Map<string, string[]> {
  const files = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        files.set(relative(SRC, path), [...readFileSync(path, 'utf8').matchAll(IMPORT)].map((m) => m[1]!));
      }
    }
  };
  walk(SRC);
  return files;
}

/** The project file a relative specifier names, relative to src/; undefined for a package. */
function target(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(SRC, resolve(SRC, dirname(file), specifier)).replace(/\.js$/, '.ts');
}

/** Top-level folder of a file under src/ ('' for the files at its root: shared leaves). */
const folderOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

function cycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

describe('architecture', () => {
  const files = sources();

  it('finds the sources it checks', () => {
    assert.ok(files.size > 40, String(files.size));
    assert.ok(files.has('server/app.ts') && files.has('enforce/params.ts'));
  });

  it('has no import cycle between files', () => {
    const graph = new Map([...files].map(([file, specifiers]) => [file, new Set(specifiers.map((s) => target(file, s)).filter((t): t is string => t !== undefined))]));
    assert.equal(cycle(graph)?.join(' → '), undefined);
  });

  it('has no import cycle between the folders of src/', () => {
    const graph = new Map<string, Set<string>>();
    for (const [file, specifiers] of files) {
      const from = folderOf(file);
      if (from === '') continue;
      for (const specifier of specifiers) {
        const to = target(file, specifier);
        if (to === undefined || folderOf(to) === '' || folderOf(to) === from) continue;
        if (!graph.has(from)) graph.set(from, new Set());
        graph.get(from)!.add(folderOf(to));
      }
    }
    assert.equal(cycle(graph)?.join(' → '), undefined);
  });

  it('keeps enforce/ pure: no HTTP, no I/O, nothing but the parser, a regex engine, a cache and leaf helpers', () => {
    const allowedPackages = new Set(['promql-parser-wasm', 're2js', 'lru-cache']);
    // http/form.ts is the canonical urlencoding of what is sent: string formatting, no HTTP.
    const allowedFiles = new Set(['result.ts', 'labels.ts', 'http/form.ts']);
    for (const [file, specifiers] of files) {
      if (folderOf(file) !== 'enforce') continue;
      for (const specifier of specifiers) {
        const to = target(file, specifier);
        const allowed = to === undefined ? allowedPackages.has(specifier) : folderOf(to) === 'enforce' || allowedFiles.has(to);
        assert.ok(allowed, `${file} imports ${specifier}`);
      }
    }
  });

  it('detects a cycle where there is one (the check can fail)', () => {
    assert.deepEqual(cycle(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]])), ['a', 'b', 'c', 'a']);
    assert.equal(cycle(new Map([['a', new Set(['b'])], ['b', new Set()]])), undefined);
  });
});
