import { amAlertsHandler, amStatusHandler, silenceHandler, silencesHandler } from './alertmanager/index.js';
import { federateHandler } from './federate/index.js';
import { metadataHandler } from './metadata/index.js';
import { queryHandler } from './query/index.js';
import type { BodyPolicy, Handler, Method, Route } from './route.js';
import { alertsHandler, rulesHandler } from './rules/index.js';
import { labelsHandler, seriesHandler } from './series-labels/index.js';
import { passThroughHandler } from './status/index.js';

const GET = ['GET'] as const;
const GET_POST = ['GET', 'POST'] as const;

/** The upstream that Prometheus's own API goes to in `promgate run --prometheus-endpoint`. */
export const PROMETHEUS = 'prometheus';

const route = (path: string, methods: readonly Method[], body: BodyPolicy, readsSeries: boolean, handler: Handler): Route => ({
  path,
  methods,
  body,
  upstream: PROMETHEUS,
  readsSeries,
  handler,
});

/**
 * Every endpoint promgate serves, one line each, in the spirit of prom-label-proxy's routes. Anything else is
 * 404: an endpoint is added here only once promgate knows how to keep every tenant inside its own series on it.
 * Methods are those Prometheus registers for each path.
 */
export const PROMETHEUS_ROUTES: readonly Route[] = [
  route('/api/v1/query', GET_POST, 'form', true, queryHandler('/api/v1/query')),
  route('/api/v1/query_range', GET_POST, 'form', true, queryHandler('/api/v1/query_range')),
  route('/api/v1/query_exemplars', GET_POST, 'form', true, queryHandler('/api/v1/query_exemplars')),
  route('/api/v1/series', GET_POST, 'form', true, seriesHandler),
  route('/api/v1/labels', GET_POST, 'form', true, labelsHandler('/api/v1/labels')),
  route('/api/v1/label/<name>/values', GET, 'none', true, labelsHandler('/api/v1/label/<name>/values')),
  route('/federate', GET, 'none', true, federateHandler),
  route('/api/v1/metadata', GET, 'none', true, metadataHandler),
  route('/api/v1/status/buildinfo', GET, 'none', false, passThroughHandler('/api/v1/status/buildinfo')),
  route('/api/v1/format_query', GET_POST, 'form', false, passThroughHandler('/api/v1/format_query')),
  route('/api/v1/parse_query', GET_POST, 'form', false, passThroughHandler('/api/v1/parse_query')),
  route('/api/v1/rules', GET_POST, 'form', true, rulesHandler),
  route('/api/v1/alerts', GET_POST, 'form', true, alertsHandler),
];

/** The upstream that Alertmanager's API goes to (`--alertmanager-endpoint`). */
export const ALERTMANAGER = 'alertmanager';

const amRoute = (path: string, methods: readonly Method[], body: BodyPolicy, handler: Handler): Route => ({
  ...route(path, methods, body, true, handler),
  upstream: ALERTMANAGER,
});

/**
 * Alertmanager's v2 API, as far as a tenant may use it (routes/alertmanager/): its alerts, its own silences, and
 * the status Grafana's health check needs. Everything else (receivers, reload, the v1 API) stays 404.
 */
export const ALERTMANAGER_ROUTES: readonly Route[] = [
  amRoute('/api/v2/alerts', GET_POST, 'none', amAlertsHandler('/api/v2/alerts')),
  amRoute('/api/v2/alerts/groups', GET, 'none', amAlertsHandler('/api/v2/alerts/groups')),
  amRoute('/api/v2/silences', GET_POST, 'json', silencesHandler),
  amRoute('/api/v2/silence/<id>', ['GET', 'DELETE'], 'none', silenceHandler),
  amRoute('/api/v2/status', GET, 'none', amStatusHandler),
];

/** A route found for a path, with the raw (still percent-encoded) segments its `<name>` parts matched. */
export interface RouteMatch {
  readonly route: Route;
  readonly segments: readonly string[];
}

const PARAMETER = /^<[a-z]+>$/;

/**
 * Finds routes by exact path, `<name>` parts matching one non-empty segment each, then by prefix (gateway mode's
 * routes), the longest first: a whole path, or a pattern of one, is always the longest match.
 */
export class RouteTable {
  // Matches of exact paths are made once: the hot path allocates nothing to find its route.
  private readonly exact = new Map<string, RouteMatch>();
  private readonly patterns: { readonly parts: readonly string[]; readonly route: Route }[] = [];
  /** Longest first; `below` is the prefix with one trailing slash, which a path below it starts with. */
  private readonly prefixes: { readonly below: string; readonly match: RouteMatch }[] = [];

  constructor(readonly routes: readonly Route[]) {
    for (const r of routes) {
      const parts = r.path.split('/');
      if (r.prefix === true) this.prefixes.push({ below: r.path.endsWith('/') ? r.path : `${r.path}/`, match: { route: r, segments: [] } });
      else if (parts.some((part) => PARAMETER.test(part))) this.patterns.push({ parts, route: r });
      else this.exact.set(r.path, { route: r, segments: [] });
    }
    this.prefixes.sort((a, b) => b.below.length - a.below.length);
  }

  /** The route of a canonical path (see http/target.ts). */
  find(path: string): RouteMatch | undefined {
    const exact = this.exact.get(path);
    if (exact !== undefined) return exact;
    return this.byPattern(path) ?? this.byPrefix(path);
  }

  /** A prefix `/p` matches `/p` and what is below `/p/`; `/p/`, as Go's ServeMux has it, only what is below. */
  private byPrefix(path: string): RouteMatch | undefined {
    for (const { below, match } of this.prefixes) {
      if (path.startsWith(below) || path === match.route.path) return match;
    }
    return undefined;
  }

  private byPattern(path: string): RouteMatch | undefined {
    if (this.patterns.length === 0) return undefined;
    const parts = path.split('/');
    for (const pattern of this.patterns) {
      if (pattern.parts.length !== parts.length) continue;
      const segments: string[] = [];
      const matched = pattern.parts.every((part, i) => {
        if (!PARAMETER.test(part)) return part === parts[i];
        if (parts[i] === '') return false;
        segments.push(parts[i]!);
        return true;
      });
      if (matched) return { route: pattern.route, segments };
    }
    return undefined;
  }

  /** The route a configured name means: its path, or `:name` or `*` in place of a `<name>` part. */
  byName(name: string): Route | undefined {
    const parts = name.split('/');
    const means = (part: string, i: number): boolean =>
      PARAMETER.test(part) ? parts[i] === part || parts[i] === '*' || /^:[a-z]+$/.test(parts[i]!) : parts[i] === part;
    return this.routes.find((r) => {
      const own = r.path.split('/');
      return own.length === parts.length && own.every(means);
    });
  }

  /**
   * The table `--protected-endpoints` leaves: it can only narrow the table. Names promgate cannot enforce are
   * returned as `ignored`, never allowed.
   */
  narrowed(names?: readonly string[]): { table: RouteTable; ignored: string[] } {
    if (names === undefined) return { table: this, ignored: [] };
    const kept = new Set<Route>();
    const ignored: string[] = [];
    for (const name of names) {
      const found = this.byName(name);
      if (found === undefined) ignored.push(name);
      else kept.add(found);
    }
    return { table: new RouteTable(this.routes.filter((r) => kept.has(r))), ignored };
  }
}
