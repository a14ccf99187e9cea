/**
 * The only Prometheus API paths promgate serves. Anything else is 404: an endpoint is added here only once
 * promgate knows how to keep every tenant inside its own series on it.
 */
export type EndpointKind =
  /** `query` is a PromQL expression: every selector in it gets the tenant's matchers. */
  | 'query'
  /** `match[]` selectors are required and each is enforced. */
  | 'series'
  /** `match[]` selectors are enforced; with none, the tenant's own selector is added. */
  | 'labels'
  /** `match[]` selectors are enforced; with none, Prometheus answers nothing. */
  | 'federate'
  /** The answer is filtered to the metric names the tenant has. */
  | 'metadata'
  /** Reads no series: forwarded with its parameters rebuilt. */
  | 'forward';

export interface Endpoint {
  /** The path as configured and as reported in logs and metrics. */
  readonly name: string;
  readonly methods: readonly string[];
  readonly kind: EndpointKind;
}

export const LABEL_VALUES = '/api/v1/label/<name>/values';
const LABEL_VALUES_PREFIX = '/api/v1/label/';
const LABEL_VALUES_SUFFIX = '/values';

const GET = ['GET'] as const;
const GET_POST = ['GET', 'POST'] as const;

// Methods are those Prometheus registers for each path, so that promgate's 405 matches its behaviour.
export const ENDPOINTS: readonly Endpoint[] = [
  { name: '/api/v1/query', methods: GET_POST, kind: 'query' },
  { name: '/api/v1/query_range', methods: GET_POST, kind: 'query' },
  { name: '/api/v1/query_exemplars', methods: GET_POST, kind: 'query' },
  { name: '/api/v1/series', methods: GET_POST, kind: 'series' },
  { name: '/api/v1/labels', methods: GET_POST, kind: 'labels' },
  { name: LABEL_VALUES, methods: GET, kind: 'labels' },
  { name: '/federate', methods: GET, kind: 'federate' },
  { name: '/api/v1/metadata', methods: GET, kind: 'metadata' },
  { name: '/api/v1/status/buildinfo', methods: GET, kind: 'forward' },
  { name: '/api/v1/format_query', methods: GET_POST, kind: 'forward' },
  { name: '/api/v1/parse_query', methods: GET_POST, kind: 'forward' },
];

const byName = new Map(ENDPOINTS.map((e) => [e.name, e]));

/** The endpoint a configured path names: its table name, or `:name` / `*` in place of `<name>`. */
export function endpointByName(name: string): Endpoint | undefined {
  if (name === '/api/v1/label/:name/values' || name === '/api/v1/label/*/values') return byName.get(LABEL_VALUES);
  return byName.get(name);
}

export interface Route {
  readonly endpoint: Endpoint;
  /** The raw, still percent-encoded `<name>` segment of the label-values path. */
  readonly labelSegment?: string;
}

/** Exact match of a canonical path (see path.ts) against the allowed endpoints. */
export function findRoute(path: string, allowed: ReadonlyMap<string, Endpoint>): Route | undefined {
  const endpoint = allowed.get(path);
  if (endpoint !== undefined) return { endpoint };
  if (path.startsWith(LABEL_VALUES_PREFIX) && path.endsWith(LABEL_VALUES_SUFFIX)) {
    const segment = path.slice(LABEL_VALUES_PREFIX.length, path.length - LABEL_VALUES_SUFFIX.length);
    const labelValues = allowed.get(LABEL_VALUES);
    if (labelValues !== undefined && segment.length > 0 && !segment.includes('/')) {
      return { endpoint: labelValues, labelSegment: segment };
    }
  }
  return undefined;
}

/**
 * The endpoints `--protected-endpoints` allows: it can only narrow the table. Names promgate cannot enforce
 * are returned as `ignored`, never allowed.
 */
export function allowList(names?: readonly string[]): { allowed: Map<string, Endpoint>; ignored: string[] } {
  if (names === undefined) return { allowed: new Map(byName), ignored: [] };
  const allowed = new Map<string, Endpoint>();
  const ignored: string[] = [];
  for (const name of names) {
    const endpoint = endpointByName(name);
    if (endpoint === undefined) ignored.push(name);
    else allowed.set(endpoint.name, endpoint);
  }
  return { allowed, ignored };
}
