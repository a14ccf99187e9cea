import { LRUCache } from 'lru-cache';
import { enforce, enforceQuery, enforceSelector, PromQLError, type ComplexityLimits, type Matcher, type SelectorEndpoint } from 'promql-parser-wasm';
import { encodeParam, type Param } from '../http/form.js';
import { err, ok, type Result } from '../result.js';

/** Why a request's parameters cannot be sent: the caller's mistake (bad_data), or the parser's (internal). */
export interface ParamsError {
  readonly errorType: 'bad_data' | 'internal';
  readonly message: string;
  /** The query is over a complexity limit (answered 422, so that Grafana shows the message). */
  readonly tooComplex?: true;
}

/** Whom the parameters are rebuilt for: the matchers, and their canonical text as the cache's key. */
export interface Confinement {
  readonly matchers: readonly Matcher[];
  readonly key: string;
}

/** How an endpoint reads its parameters. */
export interface ParamRules {
  /** `query` is a PromQL expression that reads series (query endpoints), not text to pass on. */
  readonly query: boolean;
  /** How `match[]` selectors are checked: as the API endpoints or as /federate check them. */
  readonly selectors: SelectorEndpoint;
  /** Put before a `match[]` error (Prometheus names the parameter on /api/v1/series only). */
  readonly matchErrorPrefix: string;
  /** Parameters taken out of what is sent, for the endpoint to read itself. */
  readonly take?: ReadonlySet<string>;
}

export interface RebuiltParams {
  /** Canonical urlencoded parameters to send upstream (query string for GET, body for POST). */
  readonly encoded: string;
  readonly queries: number;
  readonly matches: number;
  /** What the parser measured the query (`query`) to look back, in ms; 0 without one. */
  readonly lookbackMs: number;
  /** The parameters named in `take`, in the order sent. */
  readonly taken: readonly Param[];
}

// Parameters Prometheus reads with FormValue (the first value only). A second value would be ignored there,
// which makes the request mean something other than what the caller may believe: refused.
const READ_ONCE = new Map(
  ['query', 'time', 'start', 'end', 'step', 'timeout', 'limit', 'lookback_delta', 'metric', 'limit_per_metric'].map(
    (name, bit) => [name, 1 << bit],
  ),
);

/**
 * Rebuilds a request's parameters so that they can read only the confinement's series: `query` (where it reads
 * series) and every `match[]` get its matchers; other parameters pass unchanged, in their order.
 *
 * With no matchers (a principal known by tenant id only, isolated by the upstream through X-Scope-OrgID),
 * expressions are still parsed, validated and sent in the parser's canonical form: what the upstream runs is
 * always what promgate understood.
 */
export function rebuildParams(
  params: readonly Param[],
  confinement: Confinement,
  rules: ParamRules,
  cache: EnforcedCache,
): Result<RebuiltParams, ParamsError> {
  let encoded = '';
  let seenOnce = 0;
  let matches = 0;
  let queries = 0;
  let lookbackMs = 0;
  const taken: Param[] = [];
  for (const param of params) {
    const [name, value] = param;
    const bit = READ_ONCE.get(name);
    if (bit !== undefined) {
      if ((seenOnce & bit) !== 0) return refuse(`parameter "${name}" given more than once`);
      seenOnce |= bit;
    }
    let piece: string;
    if (name === 'match[]') {
      matches++;
      const enforced = cache.param(value, confinement, rules.selectors);
      if (!enforced.ok) return prefixed(rules.matchErrorPrefix, enforced.error);
      piece = enforced.value.encoded;
    } else if (name === 'query' && rules.query) {
      queries++;
      const enforced = cache.param(value, confinement, 'query');
      if (!enforced.ok) return prefixed('invalid parameter "query": ', enforced.error);
      piece = enforced.value.encoded;
      lookbackMs = enforced.value.lookbackMs;
    } else if (rules.take?.has(name) === true) {
      taken.push(param);
      continue;
    } else {
      piece = encodeParam(name, value);
    }
    encoded = encoded.length === 0 ? piece : `${encoded}&${piece}`;
  }
  return ok({ encoded, queries, matches, lookbackMs, taken });
}

/** Why the empty expression is refused, as Prometheus reads a missing `query`: the parser says it. */
export function missingQuery(confinement: Confinement): ParamsError {
  const result = parsed(() => enforce('', confinement.matchers));
  return result.ok ? { errorType: 'internal', message: 'the parser accepted an empty query' } : withPrefix('invalid parameter "query": ', result.error);
}

const refuse = (message: string): Result<never, ParamsError> => err({ errorType: 'bad_data', message });
// A complexity refusal reads as it is: `query too complex: …`.
const withPrefix = (prefix: string, error: ParamsError): ParamsError =>
  error.errorType === 'bad_data' && error.tooComplex !== true ? { errorType: 'bad_data', message: prefix + error.message } : error;
const prefixed = (prefix: string, error: ParamsError): Result<never, ParamsError> => err(withPrefix(prefix, error));

/** The parser's answer, its refusals as values: a syntax error is the caller's, a trap in the parser is not. */
function parsed<T>(run: () => T): Result<T, ParamsError> {
  try {
    return ok(run());
  } catch (e) {
    if (!(e instanceof PromQLError)) throw e;
    if (e.code === 'too_complex') return err({ errorType: 'bad_data', message: e.message, tooComplex: true });
    return err({ errorType: e.code === 'internal' ? 'internal' : 'bad_data', message: e.message });
  }
}

/** How a parameter is read: as a query, or as a `match[]` selector of the API or of /federate. */
type ParsedAs = 'query' | SelectorEndpoint;

/** A parameter enforced and encoded as sent, with the lookback of a query. */
export interface EnforcedParam {
  readonly encoded: string;
  readonly lookbackMs: number;
}

function enforceParam(text: string, matchers: readonly Matcher[], as: ParsedAs, limits: ComplexityLimits): Result<EnforcedParam, ParamsError> {
  if (as === 'query') {
    const result = parsed(() => enforceQuery(text, matchers, limits));
    return result.ok ? ok({ encoded: encodeParam('query', result.value.text), lookbackMs: result.value.lookbackMs }) : result;
  }
  const result = parsed(() => enforceSelector(text, matchers, as));
  return result.ok ? ok({ encoded: encodeParam('match[]', result.value), lookbackMs: 0 }) : result;
}

/**
 * Refuses `text` when it is over `limits` (or the parser fails on it), for endpoints that send a query to the
 * upstream's parser without running it (format_query, parse_query): the upstream pays its type-check cost all the
 * same. A query the parser refuses otherwise goes on, for the upstream to say why.
 */
export function checkQuery(text: string, limits: ComplexityLimits): ParamsError | undefined {
  const result = parsed(() => enforceQuery(text, [], limits));
  return result.ok || (result.error.errorType === 'bad_data' && result.error.tooComplex !== true) ? undefined : result.error;
}

export interface EnforcedCacheOptions {
  /** The most bytes of text the cache may hold, keys and values together, for every principal at once. */
  readonly maxBytes: number;
  /** Longer parameters are enforced every time, never kept. */
  readonly maxParamLength: number;
  /** The complexity limits of every query (nodes, type-check cost); none when not given. */
  readonly complexity?: ComplexityLimits;
}

/**
 * Dashboards send the same expressions again and again (only the time parameters change), so what enforcement
 * gave is kept, encoded as sent, by the confinement's canonical text and the expression: every credential with
 * the same grant shares its entries, and one budget in bytes bounds them all, whatever the number of
 * principals. Least recently used goes first; refusals and long texts are not kept.
 */
export class EnforcedCache {
  private readonly entries: LRUCache<string, EnforcedParam>;
  private readonly complexity: ComplexityLimits;

  constructor(private readonly options: EnforcedCacheOptions) {
    this.complexity = options.complexity ?? {};
    this.entries = new LRUCache<string, EnforcedParam>({
      maxSize: options.maxBytes,
      // UTF-16: two bytes a code unit, as the strings are held, and the entry object.
      sizeCalculation: (value, key) => 2 * (value.encoded.length + key.length) + 32,
    });
  }

  /**
   * `match[]=<selector enforced>` or `query=<expression enforced>`, urlencoded as sent upstream. A query over the
   * complexity limits is refused (and not kept).
   */
  param(text: string, confinement: Confinement, as: ParsedAs): Result<EnforcedParam, ParamsError> {
    if (text.length > this.options.maxParamLength) return enforceParam(text, confinement.matchers, as, this.complexity);
    // NUL appears in neither a canonical selector text nor the first letter of `as` (q, a, f).
    const key = `${as[0]}${confinement.key}\u0000${text}`;
    const known = this.entries.get(key);
    if (known !== undefined) return ok(known);
    const result = enforceParam(text, confinement.matchers, as, this.complexity);
    if (result.ok) this.entries.set(key, result.value);
    return result;
  }

  /** The complexity limits every query is held to. */
  get complexityLimits(): ComplexityLimits {
    return this.complexity;
  }

  /** Bytes held now (for tests and the gauge). */
  get bytes(): number {
    return this.entries.calculatedSize;
  }
}
