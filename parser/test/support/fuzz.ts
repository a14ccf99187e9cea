// Random and mutated PromQL for the fuzz test and the longer fuzz script: every input must give a result
// or a PromQLError, never a trap or another exception, and whatever parses must print back to the same tree.
import { isDeepStrictEqual } from 'node:util';
import { enforce, enforceSelector, format, parse, PromQLError, type Matcher } from '../../ts/index.js';
import { refusedOnlyUnderEnforcement } from './outcome.js';

const TENANTS: readonly Matcher[][] = [
  [{ name: 'namespace', type: '=~', value: 'a|b' }],
  [{ name: 'namespace', type: '=', value: 'a' }, { name: 'team', type: '!=', value: '' }],
];

const TOKENS = [
  'foo', 'bar', 'up', 'http_requests_total', '{', '}', '(', ')', '[', ']', ',', ':', '=', '!=', '=~', '!~', '"a"', '"x.y"',
  "'b'", '`c`', '"\\n\\x41\\u00e9\\U0001F600"', 'job', 'namespace', '__name__', '"my.metric"', '5m', '1h30m', '0s', '-5m', '1',
  '0x1f', '1e3', '.5', 'Inf', '-Inf', 'NaN', '+', '-', '*', '/', '%', '^', '==', '>', '<=', 'and', 'or', 'unless', 'atan2',
  'bool', 'on', 'ignoring', 'group_left', 'group_right', 'by', 'without', 'sum', 'avg', 'topk', 'quantile', 'count_values',
  'limitk', 'limit_ratio', 'rate', 'irate', 'histogram_quantile', 'label_replace', 'absent', 'absent_over_time', 'vector',
  'scalar', 'time', 'info', 'abs', 'round', 'clamp', 'some_new_function', 'offset', '@', 'start()', 'end()', 'step()',
  'range()', 'min_of', 'max_of', 'anchored', 'smoothed', 'fill', 'fill_left', 'fill_right', '#', '\n', ' ', '  ', '\t',
];
const ODD_CHARS = ['\u0000', '\u00e9', '\u2028', '\uFEFF', '\uD800', '\uDC00', '😀', '\\', '"', "'", '`', '$', '~', '!', ';', '?', '|', '&'];

/** A small fast deterministic generator (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

/** `count` inputs: token soup, random characters, generated expressions, and generated or corpus inputs with flips, inserts, deletes and splices. */
export function* fuzzInputs(seed: number, count: number, seeds: readonly string[]): Generator<string> {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)] as T;
  const piece = () => (next() < 0.7 ? pick(TOKENS) : next() < 0.5 ? pick(ODD_CHARS) : String.fromCharCode(int(128)));
  const mutate = (q: string): string => {
    const at = int(q.length + 1);
    switch (int(4)) {
      case 0: return q.slice(0, at) + String.fromCharCode(q.charCodeAt(at) ^ (1 << int(7))) + q.slice(at + 1);
      case 1: return q.slice(0, at) + piece() + q.slice(at);
      case 2: return q.slice(0, at) + q.slice(at + 1 + int(8));
      default: {
        const other = pick(seeds);
        return q.slice(0, at) + other.slice(int(other.length + 1));
      }
    }
  };
  for (let i = 0; i < count; i++) {
    const kind = next();
    if (kind < 0.15) {
      yield Array.from({ length: 1 + int(24) }, () => (next() < 0.3 ? ' ' : '') + pick(TOKENS)).join('');
    } else if (kind < 0.2) {
      yield Array.from({ length: int(40) }, piece).join('');
    } else if (kind < 0.5) {
      const q = expression(next, int(5));
      yield next() < 0.3 ? mutate(q) : q;
    } else {
      let q = pick(seeds);
      for (let n = 1 + int(4); n > 0; n--) q = mutate(q);
      yield q;
    }
  }
}

// A generator of mostly valid PromQL, so that the printer and the enforcer see deep and unusual trees, not only refusals.
const METRICS = ['foo', 'http_requests_total', 'up', 'a:b:c', 'on', 'sum', 'offset', 'inf'];
const LABELS = ['job', 'namespace', 'le', '"a.b"', '"ü"', 'bool', 'by'];
const VALUES = ['"x"', '""', '".*"', '".+"', '"a|b"', "'single'", '`raw\\d`', '"\\n\\"q\\" \\x41 é \\u2028"', '"$1"'];
const DURATIONS = ['5m', '1h30m', '90s', '1d', '0s', '1ms', '5m * 2', '(1m + 30s)', 'step()', '-1m', 'max_of(1m, step())'];
const MODIFIERS = ['', '', '', ' offset 5m', ' offset -1m', ' @ 100', ' @ start()', ' @ end() offset 1m', ' offset 1h @ -5'];
const RANGE_FUNCTIONS = ['rate', 'increase', 'max_over_time', 'avg_over_time', 'absent_over_time', 'changes', 'quantile_over_time'];
const AGGREGATIONS = ['sum', 'avg', 'max', 'count', 'group', 'stddev'];
const BINARY = ['+', '-', '*', '/', '%', '^', 'atan2', '==', '!=', '>', '<=', 'and', 'or', 'unless'];
const VECTOR_MATCHING = ['', '', ' on (job)', ' ignoring (le)', ' on () group_left', ' ignoring (job) group_right (le)', ' bool', ' fill (0)'];
const NUMBERS = ['1', '0.5', '-2', '1e3', '0x1f', 'Inf', '-Inf', 'NaN', '0755', '.5'];

function expression(next: Random, depth: number): string {
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)] as T;
  const sub = () => expression(next, depth - 1);
  const scalar = () => (depth > 0 && next() < 0.3 ? `scalar(${sub()})` : pick(NUMBERS));
  const selector = (withModifiers: boolean) => {
    const name = next() < 0.8 ? pick(METRICS) : next() < 0.5 ? '{"quoted.name"' : '';
    const matchers = Array.from({ length: int(3) }, () => `${pick(LABELS)}${pick(['=', '!=', '=~', '!~'])}${pick(VALUES)}`);
    const braces = name.startsWith('{') ? `${name}${matchers.map((m) => `, ${m}`).join('')}}` : matchers.length || !name ? `${name}{${matchers.join(', ')}}` : name;
    return withModifiers ? `${braces}${pick(MODIFIERS)}` : braces;
  };
  const range = () => (depth > 0 && next() < 0.3 ? `(${sub()})[${pick(DURATIONS)}:${next() < 0.5 ? '' : pick(DURATIONS)}]` : `${selector(false)}[${pick(DURATIONS)}]`) + pick(MODIFIERS);
  if (depth <= 0) return next() < 0.8 ? selector(true) : scalar();
  switch (int(12)) {
    case 0: return selector(true);
    case 1: return `${pick(RANGE_FUNCTIONS)}(${pick(RANGE_FUNCTIONS) === 'quantile_over_time' ? '0.9, ' : ''}${range()})`;
    case 2: return next() < 0.5 ? `${pick(AGGREGATIONS)} by (job) (${sub()})` : `${pick(AGGREGATIONS)}(${sub()}) without (le, "a.b")`;
    case 3: return `${pick(['topk', 'bottomk', 'quantile', 'limitk', 'limit_ratio'])}(${scalar()}, ${sub()})`;
    case 4: return `${sub()} ${pick(BINARY)}${pick(VECTOR_MATCHING)} ${sub()}`;
    case 5: return next() < 0.5 ? `${sub()} ${pick(BINARY)} ${scalar()}` : `${scalar()} ${pick(BINARY)} ${sub()}`;
    case 6: return `${pick(['-', '+'])}${sub()}`;
    case 7: return `(${sub()})`;
    case 8: return next() < 0.5 ? `absent(${selector(next() < 0.5)})` : `absent_over_time(${range()})`;
    case 9: return `label_replace(${sub()}, "dst", "$1", "src", "(.*)")`;
    case 10: return `some_future_function(${Array.from({ length: int(4) }, () => (next() < 0.5 ? sub() : next() < 0.5 ? range() : pick(VALUES))).join(', ')})`;
    default: return pick([`histogram_quantile(${scalar()}, ${sub()})`, `info(${sub()}, {k="v"})`, `info(${sub()}, {})`, `count_values("v", ${sub()})`, `vector(${scalar()})`, `${range().replace(/^/, 'sum_over_time(')})`]);
  }
}

export interface FuzzStats {
  accepted: number;
  rejected: number;
}

/** null when `query` behaves, else what went wrong. */
export function checkInput(query: string, stats: FuzzStats): string | null {
  try {
    const tree = attemptCall(() => parse(query));
    for (const tenant of TENANTS) {
      const enforced = attemptCall(() => enforce(query, tenant), refusedOnlyUnderEnforcement);
      if (enforced === REFUSED_BY_POLICY) continue;
      if ((tree === undefined) !== (enforced === undefined)) return `parse ${tree === undefined ? 'rejects' : 'accepts'} but enforce does not`;
      if (enforced !== undefined) {
        const problem = checkEnforced(tree, enforced as string, tenant);
        if (problem !== null) return problem;
      }
    }
    for (const tenant of [...TENANTS, []]) {
      const problem = checkSelector(query, tenant);
      if (problem !== null) return `enforceSelector(${JSON.stringify(query)}, ${JSON.stringify(tenant)}): ${problem}`;
    }
    if (tree === undefined) {
      stats.rejected++;
      return null;
    }
    stats.accepted++;
    const printed = format(query);
    if (!isDeepStrictEqual(parse(printed), tree)) return `format gives ${JSON.stringify(printed)}, which parses to another tree`;
    if (format(printed) !== printed) return `format is not idempotent on ${JSON.stringify(printed)}`;
    return null;
  } catch (error) {
    if (!(error instanceof PromQLError)) return `an exception: ${String(error)}`;
    if (error.cause !== undefined) return `a trap: ${String(error.cause)}`;
    return `an accepted query's printed form, or the output of enforce, is refused: ${error.message}`;
  }
}

/**
 * enforceSelector for both endpoints: /federate takes every selector the API endpoints take, the same way; the output
 * holds the tenant's matchers (enforcing it again changes nothing), and for the API endpoints it is a selector they
 * take as it is.
 */
function checkSelector(query: string, tenant: readonly Matcher[]): string | null {
  const api = attemptCall(() => enforceSelector(query, tenant, 'api'));
  const federate = attemptCall(() => enforceSelector(query, tenant, 'federate'));
  if (api !== undefined && federate !== api) return `for /federate gives ${JSON.stringify(federate)}, for the API ${JSON.stringify(api)}`;
  for (const [endpoint, selector] of [['api', api], ['federate', federate]] as const) {
    if (selector === undefined) continue;
    const again = attemptCall(() => enforceSelector(selector as string, tenant, endpoint));
    if (again !== selector) return `for ${endpoint} gives ${JSON.stringify(selector)}, which enforced again gives ${JSON.stringify(again)}`;
    // Where it is also a valid query (not when it names the metric twice or matches only empty values), the tree says so.
    const tree = attemptCall(() => parse(selector as string));
    if (tree !== undefined) {
      const [only, ...more] = vectorSelectors(tree);
      if (only === undefined || more.length > 0 || (tree as { type?: string }).type !== 'VectorSelector') return `gives ${JSON.stringify(selector)}, not a selector`;
      const missing = lacking(only, tenant);
      if (missing !== undefined) return `gives ${JSON.stringify(selector)}, which lacks ${JSON.stringify(missing)}`;
    }
  }
  if (api !== undefined && attemptCall(() => enforceSelector(api as string, [], 'api')) === undefined) {
    return `gives ${JSON.stringify(api)}, which the API endpoints refuse`;
  }
  return null;
}

interface SelectorNode {
  readonly matchers: readonly Matcher[];
}

/** Every vector selector of the enforced query holds every tenant matcher, none went missing, and the text is canonical. */
function checkEnforced(tree: unknown, enforced: string, tenant: readonly Matcher[]): string | null {
  if (format(enforced) !== enforced) return `enforce gives ${JSON.stringify(enforced)}, not canonical`;
  const before = vectorSelectors(tree);
  const after = vectorSelectors(parse(enforced));
  if (after.length !== before.length) return `enforce gives ${JSON.stringify(enforced)}: ${after.length} selectors, the query has ${before.length}`;
  for (const selector of after) {
    const missing = lacking(selector, tenant);
    if (missing !== undefined) return `enforce gives ${JSON.stringify(enforced)}: a selector lacks ${JSON.stringify(missing)}`;
  }
  return null;
}

/** A tenant matcher the selector does not hold. */
function lacking(selector: SelectorNode, tenant: readonly Matcher[]): Matcher | undefined {
  return tenant.find((m) => !selector.matchers.some((s) => s.name === m.name && s.type === m.type && s.value === m.value));
}

function vectorSelectors(node: unknown, out: SelectorNode[] = []): SelectorNode[] {
  if (Array.isArray(node)) {
    for (const child of node) vectorSelectors(child, out);
  } else if (typeof node === 'object' && node !== null) {
    if ((node as { type?: unknown }).type === 'VectorSelector') out.push(node as SelectorNode);
    for (const child of Object.values(node)) vectorSelectors(child, out);
  }
  return out;
}

const REFUSED_BY_POLICY = Symbol('refused by policy');

/** The call's value, or undefined on a PromQLError that is not a trap (REFUSED_BY_POLICY when `byPolicy` says so). */
function attemptCall(call: () => unknown, byPolicy: (e: PromQLError) => boolean = () => false): unknown {
  try {
    return call();
  } catch (error) {
    if (error instanceof PromQLError && error.cause === undefined) return byPolicy(error) ? REFUSED_BY_POLICY : undefined;
    throw error;
  }
}
