// Tests, benchmarks and scripts read nothing outside the repository: a plain clone must be enough to run them.
// The scan resolves the places that build a file path (new URL(..., import.meta.url), fileURLToPath, path.join and
// path.resolve from the file's directory, fs calls, import specifiers, a shell script's $(dirname "$0") and cd) and
// fails when one lands outside the repository root. Strings that are only data ('../x' as a tenant id, request paths
// with /../) are not paths and are left alone. Naming a sibling directory called shared, or a machine path under /work,
// fails too, wherever it stands.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['test', 'parser/test', 'parser/bench', 'parser/scripts', 'scripts', 'helm'];
const EXTENSIONS = new Set(['.ts', '.mjs', '.js', '.sh', '.go']);
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'target', '.git']);

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

/** A string literal without interpolation: '…', "…" or `…`. Its text is in group 1, 2 or 3. */
const LIT = String.raw`(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|\x60([^\x60$\\]*)\x60)`;
const litValue = (m: RegExpExecArray, first: number): string => (m[first] ?? m[first + 1] ?? m[first + 2]) as string;
const IDENT = String.raw`[A-Za-z_$][\w$]*`;

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel.split(sep)[0] !== '..' && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

function lineAt(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** What every scanned file may not mention at all, whatever the context. */
function forbiddenMentions(file: string, source: string): Finding[] {
  const found: Finding[] = [];
  for (const m of source.matchAll(/(?:\.\.\/)+shared(?=[/'"`\s]|$)/gm)) {
    found.push({ file, line: lineAt(source, m.index ?? 0), what: `${m[0]}: a directory beside the repository` });
  }
  for (const m of source.matchAll(/(?<![\w.$~-])\/work\//g)) {
    found.push({ file, line: lineAt(source, m.index ?? 0), what: 'a machine path under /work' });
  }
  return found;
}

/**
 * The places in a TypeScript/JavaScript source that build a path, resolved from the file's location: each that
 * lands outside `root` is a finding. `file` is repository-relative.
 */
function scriptEscapes(root: string, file: string, source: string): Finding[] {
  const abs = join(root, file);
  const dir = dirname(abs);
  const fileUrl = pathToFileURL(abs);
  const found: Finding[] = [];
  const check = (index: number, target: string, what: string) => {
    if (!isInside(root, target)) found.push({ file, line: lineAt(source, index), what: `${what} resolves to ${relative(root, target)}, outside the repository` });
  };
  const checkUrl = (index: number, url: URL, what: string) => {
    if (url.protocol === 'file:') check(index, fileURLToPath(url), what);
  };

  // Names bound to a location: `const X = new URL('…', import.meta.url)` (a URL), `fileURLToPath(…)`, `.pathname`,
  // `join(import.meta.dirname, '…')`, `import.meta.dirname`, `__dirname` (a path). Later ones may build on earlier ones.
  const urls = new Map<string, URL>();
  const paths = new Map<string, string>([['__dirname', dir], ['import.meta.dirname', dir]]);
  const urlExpr = (text: string): URL | undefined => {
    const m = new RegExp(String.raw`^new URL\(\s*${LIT}\s*,\s*(import\.meta\.url|${IDENT})\s*\)`).exec(text);
    if (m === null) return undefined;
    const base = m[4] === 'import.meta.url' ? fileUrl : urls.get(m[4] as string);
    return base === undefined ? undefined : new URL(litValue(m, 1), base);
  };
  const pathExpr = (text: string): string | undefined => {
    let m = /^fileURLToPath\(\s*(new URL\([^)]*\))\s*\)/.exec(text);
    if (m !== null) {
      const url = urlExpr(m[1] as string);
      return url?.protocol === 'file:' ? fileURLToPath(url) : undefined;
    }
    m = /^(new URL\([^)]*\))\.pathname/.exec(text);
    if (m !== null) {
      const url = urlExpr(m[1] as string);
      return url?.protocol === 'file:' ? fileURLToPath(url) : undefined;
    }
    if (/^dirname\(\s*fileURLToPath\(\s*import\.meta\.url\s*\)\s*\)/.test(text)) return dir;
    m = new RegExp(String.raw`^(?:path\.)?(join|resolve)\(\s*(import\.meta\.dirname|${IDENT})((?:\s*,\s*${LIT})*)`).exec(text);
    if (m !== null) {
      const base = paths.get(m[2] as string);
      if (base === undefined) return undefined;
      const parts = [...(m[3] as string).matchAll(new RegExp(LIT, 'g'))].map((p) => litValue(p, 1));
      return m[1] === 'join' ? join(base, ...parts) : resolve(base, ...parts);
    }
    m = /^(import\.meta\.dirname|__dirname)\b/.exec(text);
    return m === null ? undefined : dir;
  };
  for (const m of source.matchAll(new RegExp(String.raw`\b(?:const|let|var)\s+(${IDENT})\s*(?::[^=;]+)?=\s*`, 'g'))) {
    const rest = source.slice((m.index ?? 0) + m[0].length, (m.index ?? 0) + m[0].length + 400);
    const name = m[1] as string;
    const url = urlExpr(rest);
    const path = url === undefined ? pathExpr(rest) : undefined;
    if (url !== undefined) {
      urls.set(name, url);
      if (/^new URL\([^)]*\)\.pathname/.test(rest) && url.protocol === 'file:') paths.set(name, fileURLToPath(url));
    } else if (path !== undefined) {
      paths.set(name, path);
    }
  }

  // new URL('…', import.meta.url) and new URL('…', KNOWN_URL), wherever they stand.
  for (const m of source.matchAll(new RegExp(String.raw`new URL\(\s*${LIT}\s*,\s*(import\.meta\.url|${IDENT})\s*\)`, 'g'))) {
    const base = m[4] === 'import.meta.url' ? fileUrl : urls.get(m[4] as string);
    if (base !== undefined) checkUrl(m.index ?? 0, new URL(litValue(m, 1), base), `new URL(${JSON.stringify(litValue(m, 1))}, ${m[4]})`);
  }
  // join/resolve(BASE, '…', …) from the file's directory or a name bound to a location.
  for (const m of source.matchAll(new RegExp(String.raw`(?<![\w$.])(?:path\.)?(?:join|resolve)\(\s*(import\.meta\.dirname|${IDENT})((?:\s*,\s*${LIT})+)`, 'g'))) {
    const base = paths.get(m[1] as string);
    if (base === undefined) continue;
    const parts = [...(m[2] as string).matchAll(new RegExp(LIT, 'g'))].map((p) => litValue(p, 1));
    check(m.index ?? 0, join(base, ...parts), `${m[0].split('(')[0]}(${m[1]}, ${parts.map((p) => JSON.stringify(p)).join(', ')})`);
  }
  // `${KNOWN}/…` in a template literal.
  for (const m of source.matchAll(new RegExp(String.raw`\$\{(${IDENT})\}(\/[^\x60$]*)`, 'g'))) {
    const base = paths.get(m[1] as string);
    if (base !== undefined) check(m.index ?? 0, join(base, m[2] as string), `\`\${${m[1]}}${m[2]}\``);
  }
  // fs calls on a relative literal: relative to the working directory (the repository root under npm test), and
  // to the file's own directory for good measure.
  const fsCall = String.raw`(?<![\w$])(?:readFileSync|readFile|existsSync|readdirSync|readdir|statSync|stat|lstatSync|accessSync|access|openSync|open|createReadStream|copyFileSync|copyFile|cpSync|cp|watch|watchFile)\(\s*${LIT}`;
  for (const m of source.matchAll(new RegExp(fsCall, 'g'))) {
    const p = litValue(m, 1);
    if (p.startsWith('/') || /^[a-z]+:/i.test(p)) continue; // absolute: system files (/proc, /dev), not the repository's
    check(m.index ?? 0, resolve(root, p), `${m[0]}' from the working directory`);
    check(m.index ?? 0, resolve(dir, p), `${m[0]}' from the file's directory`);
  }
  // Relative import specifiers stay inside too (they always have; this keeps it so).
  const imports = String.raw`(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\(\s*|import\.meta\.resolve\(\s*)${LIT}`;
  for (const m of source.matchAll(new RegExp(imports, 'g'))) {
    const spec = litValue(m, 1);
    if (spec.startsWith('./') || spec.startsWith('../')) checkUrl(m.index ?? 0, new URL(spec, fileUrl), `import ${JSON.stringify(spec)}`);
  }
  return found;
}

/** The same for a shell script: $(dirname "$0"), variables bound to it, cd, source, and relative words with "..". */
function shellEscapes(root: string, file: string, source: string): Finding[] {
  const scriptDir = dirname(join(root, file));
  const found: Finding[] = [];
  const vars = new Map<string, string>();
  let cwd = root; // scripts are run from the repository root (npm scripts, CI, the READMEs)
  const DIRNAME = String.raw`"?\$\(\s*dirname\s+(?:"\$0"|\$0|"\$\{BASH_SOURCE\[0\]\}"|\$\{BASH_SOURCE\[0\]\})\s*\)"?`;
  const TAIL = String.raw`((?:\/[^\s"'\x60;)|&$]*)?)`;
  let offset = 0;
  for (const rawLine of source.split('\n')) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    if (/^\s*#/.test(rawLine)) continue;
    const line = rawLine.replace(/(^|\s)#.*$/, '$1');
    const at = (what: string, target: string) => {
      if (!isInside(root, target)) found.push({ file, line: lineAt(source, lineStart), what: `${what} resolves to ${relative(root, target)}, outside the repository` });
    };
    // The first location an expression names: $(dirname "$0")/…, $VAR/… or ${VAR}/… for a bound VAR.
    const locate = (text: string): string | undefined => {
      const d = new RegExp(DIRNAME + TAIL).exec(text);
      if (d !== null) return join(scriptDir, d[1] ?? '');
      for (const v of text.matchAll(new RegExp(String.raw`\$\{?([A-Za-z_]\w*)\}?` + TAIL, 'g'))) {
        const base = vars.get(v[1] as string);
        if (base !== undefined) return join(base, v[2] ?? '');
      }
      return undefined;
    };
    for (const m of line.matchAll(new RegExp(DIRNAME + TAIL, 'g'))) at(m[0], join(scriptDir, m[1] ?? ''));
    for (const m of line.matchAll(new RegExp(String.raw`\$\{?([A-Za-z_]\w*)\}?` + TAIL, 'g'))) {
      const base = vars.get(m[1] as string);
      if (base !== undefined && m[2]) at(m[0], join(base, m[2]));
    }
    // Relative words holding a ".." segment, from the current directory.
    for (const m of line.matchAll(/(?<=^|[\s"'=(])([\w.\-/]*\.\.(?:\/[\w.\-/]*)?)(?=$|[\s"';)|&])/g)) {
      const word = m[1] as string;
      if (/(^|\/)\.\.(\/|$)/.test(word) && !word.startsWith('/')) at(word, resolve(cwd, word));
    }
    const assign = /^\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=(.*)$/.exec(line);
    if (assign !== null) {
      const target = locate(assign[2] as string);
      if (target !== undefined) vars.set(assign[1] as string, target);
    }
    for (const m of line.matchAll(/(?:^|[;&|(]|\s)(?:cd|source|\.)\s+("[^"]*(?:"[^"]*"[^"]*)*"|\S+)/g)) {
      const word = m[1] as string;
      const target = locate(word) ?? (word.includes('$') ? undefined : resolve(cwd, word.replace(/^["']|["']$/g, '')));
      if (target === undefined) continue;
      at(m[0].trim(), target);
      if (/(?:^|[;&|]|\s)cd\s/.test(m[0]) && !/\(\s*cd\s/.test(line)) cwd = target;
    }
  }
  return found;
}

/** A Go source: file-opening calls on a relative literal, from the file's directory and from the root. */
function goEscapes(root: string, file: string, source: string): Finding[] {
  const dir = dirname(join(root, file));
  const found: Finding[] = [];
  const call = /\b(?:os\.(?:ReadFile|Open|OpenFile|Stat|Lstat|ReadDir|Create|WriteFile)|filepath\.Join|path\.Join|exec\.Command)\(\s*(?:"((?:[^"\\\n]|\\.)*)"|`([^`]*)`)/g;
  for (const m of source.matchAll(call)) {
    const p = (m[1] ?? m[2]) as string;
    if (p.startsWith('/') || !/(^|\/)\.\.(\/|$)/.test(p)) continue;
    for (const [from, base] of [["the file's directory", dir], ['the working directory', root]] as const) {
      const target = resolve(base, p);
      if (!isInside(root, target)) found.push({ file, line: lineAt(source, m.index ?? 0), what: `${m[0]} from ${from} resolves to ${relative(root, target)}, outside the repository` });
    }
  }
  return found;
}

/** Every way `source` (the text of repository-relative `file`) reaches outside `root`. */
export function findEscapes(root: string, file: string, source: string): Finding[] {
  const ext = extname(file);
  const specific = ext === '.sh' ? shellEscapes(root, file, source) : ext === '.go' ? goEscapes(root, file, source) : scriptEscapes(root, file, source);
  return [...forbiddenMentions(file, source), ...specific];
}

function scannedFiles(): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(ROOT, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(child);
      } else if (EXTENSIONS.has(extname(entry.name))) {
        files.push(child);
      }
    }
  };
  for (const dir of SCANNED) walk(dir);
  return files.sort();
}

describe('tests, benchmarks and scripts stay inside the repository', () => {
  it(`no file under ${SCANNED.join(', ')} reads outside the repository`, () => {
    const files = scannedFiles();
    assert.ok(files.includes('parser/test/support/corpus.ts') && files.includes('test/unit/repository-contained.test.ts'), 'the scan found the files it must cover');
    assert.ok(files.some((f) => f.endsWith('.sh')) && files.some((f) => f.endsWith('.go')), 'the scan covers shell and Go too');
    const findings = files.flatMap((f) => findEscapes(ROOT, f, readFileSync(join(ROOT, f), 'utf8')));
    assert.deepEqual(findings.map((f) => `${f.file}:${f.line}: ${f.what}`), []);
  });
});

describe('the detector', () => {
  // Fixtures write ^^ for .. (and assemble the word shared) so that this file does not itself hold what it looks for.
  const beside = 'sha' + 'red';
  const escapes = (file: string, ...lines: string[]) => findEscapes(ROOT, file, lines.join('\n').replaceAll('^^', '..'));

  it("catches the old corpus line, new URL('<4 levels up>/shared/corpus/', import.meta.url)", () => {
    const old = `const CORPUS_DIR = new URL('^^/^^/^^/^^/${beside}/corpus/', import.meta.url);`;
    const found = escapes('parser/test/support/corpus.ts', old);
    assert.ok(found.some((f) => /new URL\(.*resolves to \.\.\//.test(f.what)), JSON.stringify(found));
    assert.ok(found.some((f) => /beside the repository/.test(f.what)), JSON.stringify(found));
    // The same climb to any other directory name is caught by resolution alone.
    assert.equal(escapes('parser/test/support/corpus.ts', "const D = new URL('^^/^^/^^/^^/elsewhere/', import.meta.url);").length, 1);
  });

  it('accepts the corpus where it is now, and other paths inside the repository', () => {
    assert.deepEqual(escapes('parser/test/support/corpus.ts', "const CORPUS_DIR = new URL('^^/corpus/', import.meta.url);", 'readFileSync(new URL(name, CORPUS_DIR));'), []);
    assert.deepEqual(escapes('test/jwt/keys.test.ts', "const EXAMPLE_JWKS = new URL('^^/^^/configs/jwks_example.json', import.meta.url).pathname;"), []);
    assert.deepEqual(escapes('test/support/gateway.ts', "export const ROOT = fileURLToPath(new URL('^^/^^', import.meta.url));", "export const CLI = join(ROOT, 'src', 'cli.ts');", 'readFileSync(`${ROOT}/package.json`);'), []);
    assert.deepEqual(escapes('parser/scripts/build.sh', 'PARSER_DIR=$(cd "$(dirname "$0")/^^" && pwd)', 'cd "$PARSER_DIR" && ls "$PARSER_DIR/src"'), []);
    assert.deepEqual(escapes('parser/scripts/extract-corpus.sh', 'corpus="$(dirname "$0")/^^/test/corpus"'), []);
  });

  it('leaves strings that are data, and import specifiers inside the repository, alone', () => {
    assert.deepEqual(escapes('test/jwt/attacks.test.ts', "    ['tenant_id with a slash', { tenant_id: '^^/x' }],"), []);
    assert.deepEqual(escapes('test/unit/path.test.ts', "    '/api/v1/query/^^/targets',", "    '/api/v1/query/^^',"), []);
    assert.deepEqual(escapes('test/unit/path.test.ts', "import { parseTarget } from '^^/^^/src/enforce/path.js';"), []);
    assert.deepEqual(escapes('test/unit/watched-file.test.ts', "const neighbour = join(file, '^^', 'gateway.log');"), []);
    assert.deepEqual(escapes('test/upstream.test.ts', 'readFileSync(`/proc/${pid}/status`, "utf8");', "readFileSync('/proc/self/stat');"), []);
  });

  it('catches the other ways of climbing out', () => {
    const cases: [string, string[]][] = [
      ['test/unit/x.test.ts', ["readFileSync(join(import.meta.dirname, '^^', '^^', '^^', 'elsewhere', 'x.json'));"]],
      ['test/unit/x.test.ts', ["readFileSync(path.join(__dirname, '^^/^^/^^/elsewhere'));"]],
      ['test/unit/x.test.ts', ["const ROOT = fileURLToPath(new URL('^^/^^/', import.meta.url));", "readFileSync(path.resolve(ROOT, '^^', 'elsewhere'));"]],
      ['test/unit/x.test.ts', ["const ROOT = fileURLToPath(new URL('^^/^^/', import.meta.url));", 'readFileSync(`${ROOT}/^^/elsewhere/x`);']],
      ['test/unit/x.test.ts', ["const BASE = new URL('^^/^^/', import.meta.url);", "readFileSync(new URL('^^/elsewhere/x', BASE));"]],
      ['test/unit/x.test.ts', ["const data = readFileSync('^^/elsewhere/x.json', 'utf8');"]],
      ['parser/test/support/x.ts', ["import { x } from '^^/^^/^^/^^/elsewhere/x.js';"]],
      ['parser/scripts/x.sh', ['cd "$(dirname "$0")/^^/^^/^^"']],
      ['scripts/x.sh', ['ROOT=$(cd "$(dirname "$0")/^^" && pwd)', 'node "$ROOT/^^/elsewhere/check.mjs"']],
      ['scripts/x.sh', ['cd "$(dirname "$0")/^^"', 'node ^^/elsewhere/check.mjs']],
      ['scripts/x.sh', ['source ^^/elsewhere/env.sh']],
      ['parser/scripts/x.go', ['data, err := os.ReadFile("^^/^^/^^/elsewhere/x.jsonl")']],
      ['test/unit/x.test.ts', [`const corpus = '^^/${beside}/corpus';`]],
      ['test/unit/x.test.ts', [`const corpus = '${'/wo' + 'rk/'}${beside}/corpus';`]],
    ];
    for (const [file, lines] of cases) {
      assert.ok(escapes(file, ...lines).length > 0, `${file}: ${lines.join(' / ')} should be caught`);
    }
  });
});
