import { enforce, enforceSelector, PromQLError, type Matcher, type SelectorEndpoint } from 'promql-parser-wasm';
import { err, ok, type Result } from '../result.js';
import type { EndpointKind } from './endpoints.js';
import { encodeParam, type Param } from './form.js';
import type { MetadataQuery } from './metadata.js';

export interface ParamsRefusal {
  readonly status: 400;
  readonly errorType: 'bad_data';
  readonly message: string;
}

export interface EnforcedParams {
  /** Canonical urlencoded parameters to send upstream (query string for GET, body for POST). */
  readonly encoded: string;
  /**
   * /api/v1/metadata for a tenant with matchers only: what the caller asked for, which promgate answers
   * itself from the upstream's per-target metadata (see `tenantMetadata`).
   */
  readonly metadata?: MetadataQuery;
}

// Parameters Prometheus reads with FormValue (the first value only). A second value would be ignored there,
// which makes the request mean something other than what the caller may believe: refused.
const READ_ONCE = new Map(
  ['query', 'time', 'start', 'end', 'step', 'timeout', 'limit', 'lookback_delta', 'metric', 'limit_per_metric'].map(
    (name, bit) => [name, 1 << bit],
  ),
);

// What /api/v1/metadata reads, when promgate answers it itself.
const METADATA_PARAMS = new Set(['metric', 'limit', 'limit_per_metric']);

const refuse = (message: string): Result<never, ParamsRefusal> => err({ status: 400, errorType: 'bad_data', message });

function parserMessage(e: unknown): string {
  if (e instanceof PromQLError) return e.message;
  throw e;
}

/**
 * Rebuilds the parameters of a request to `kind` so that they can read only the tenant's series:
 * `query` (query endpoints) and every `match[]` (everywhere) get the tenant's matchers; label endpoints without
 * `match[]` get the tenant's own selector. Other parameters pass unchanged.
 *
 * With no matchers (a principal known by tenant id only, isolated by the upstream through X-Scope-OrgID),
 * expressions are still parsed, validated and sent in the parser's canonical form: what the upstream runs is
 * always what promgate understood.
 */
export function enforceParams(
  kind: EndpointKind,
  params: readonly Param[],
  matchers: readonly Matcher[],
): Result<EnforcedParams, ParamsRefusal> {
  const filterMetadata = kind === 'metadata' && matchers.length > 0;
  let encoded = '';
  let seenOnce = 0;
  let matches = 0;
  let queries = 0;
  const metadata = { metric: '', limit: -1, limitPerMetric: -1 };

  for (const [name, value] of params) {
    const bit = READ_ONCE.get(name);
    if (bit !== undefined) {
      if ((seenOnce & bit) !== 0) return refuse(`parameter "${name}" given more than once`);
      seenOnce |= bit;
    }
    let param: string;
    if (name === 'match[]') {
      matches++;
      try {
        param = enforcedParam(value, matchers, kind === 'federate' ? 'federate' : 'api');
      } catch (e) {
        // Prometheus's words: only /api/v1/series names the parameter.
        return refuse(kind === 'series' ? `invalid parameter "match[]": ${parserMessage(e)}` : parserMessage(e));
      }
    } else if (name === 'query' && kind === 'query') {
      queries++;
      try {
        param = enforcedParam(value, matchers, 'query');
      } catch (e) {
        return refuse(`invalid parameter "query": ${parserMessage(e)}`);
      }
    } else if (filterMetadata && METADATA_PARAMS.has(name)) {
      if (name === 'metric') {
        metadata.metric = value;
      } else {
        // Go's strconv.Atoi, as Prometheus parses it.
        if (!/^[+-]?\d{1,15}$/.test(value)) return refuse(`${name} must be a number`);
        if (name === 'limit') metadata.limit = Number(value);
        else metadata.limitPerMetric = Number(value);
      }
      continue;
    } else {
      param = encodeParam(name, value);
    }
    encoded = encoded.length === 0 ? param : `${encoded}&${param}`;
  }

  if (kind === 'query' && queries === 0) {
    // Prometheus reads a missing query as the empty expression; the parser says why that is an error.
    try {
      enforce('', matchers);
    } catch (e) {
      return refuse(`invalid parameter "query": ${parserMessage(e)}`);
    }
  }
  if (kind === 'series' && matches === 0) return refuse('no match[] parameter provided');
  if (kind === 'labels' && matches === 0 && matchers.length > 0) {
    const own = encodeParam('match[]', tenantSelector(matchers));
    encoded = encoded.length === 0 ? own : `${encoded}&${own}`;
  }
  return ok(filterMetadata ? { encoded, metadata } : { encoded });
}

// Dashboards send the same expressions again and again (only the time parameters change), so the parser's
// answer is kept per grant, encoded as sent: a bounded map, oldest entry out first. Errors are not kept; long
// texts are not kept.
const CACHE_ENTRIES = 1024;
const CACHEABLE_LENGTH = 4096;
const enforced = new WeakMap<readonly Matcher[], Map<string, string>>();

/** How a parameter is read: as a query, or as a `match[]` selector of the API or of /federate. */
type ParsedAs = 'query' | SelectorEndpoint;

/** `match[]=<selector enforced>` or `query=<expression enforced>`, urlencoded as sent upstream. */
function enforcedParam(text: string, matchers: readonly Matcher[], as: ParsedAs): string {
  if (text.length > CACHEABLE_LENGTH) return enforceParam(text, matchers, as);
  let cache = enforced.get(matchers);
  if (cache === undefined) {
    cache = new Map();
    enforced.set(matchers, cache);
  }
  // One map for all three: the first letter (q, a, f) keeps their keys apart.
  const key = `${as[0]}${text}`;
  let result = cache.get(key);
  if (result === undefined) {
    result = enforceParam(text, matchers, as);
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, result);
  }
  return result;
}

function enforceParam(text: string, matchers: readonly Matcher[], as: ParsedAs): string {
  return as === 'query' ? encodeParam('query', enforce(text, matchers)) : encodeParam('match[]', enforceSelector(text, matchers, as));
}

const selectors = new WeakMap<readonly Matcher[], string>();
const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `{namespace="a",team=~"x|y"}`: the series selector of everything the tenant may see. Cached per grant. */
export function tenantSelector(matchers: readonly Matcher[]): string {
  let selector = selectors.get(matchers);
  if (selector === undefined) {
    // JSON string syntax is a subset of PromQL's double-quoted strings.
    const parts = matchers.map(
      (m) => `${LEGACY_NAME.test(m.name) ? m.name : JSON.stringify(m.name)}${m.type}${JSON.stringify(m.value)}`,
    );
    selector = `{${parts.join(',')}}`;
    selectors.set(matchers, selector);
  }
  return selector;
}
