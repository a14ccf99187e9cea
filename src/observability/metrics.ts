import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Why promgate refused a request itself, without asking the upstream. */
export type Refusal =
  | 'bad_path'
  | 'not_found'
  | 'method_not_allowed'
  | 'unauthenticated'
  | 'auth_busy'
  | 'forbidden'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'bad_request'
  /** Over a tenant limit: a query's complexity or window (422), its rate or concurrency (429, 503); see promgate_limit_refusals_total. */
  | 'limited'
  /** The parser failed on the query (a trap): the query is refused with 500. */
  | 'internal';

/** unavailable: 502; timeout: 504 or a stalled answer; interrupted: the answer broke off mid-stream. */
export type UpstreamFailure = 'unavailable' | 'timeout' | 'interrupted';

export interface GatewayMetrics {
  request(endpoint: string, code: number, user: string, seconds: number): void;
  refusal(reason: Refusal): void;
  upstreamError(kind: UpstreamFailure): void;
}

/**
 * The metric `name` of `registry`, made by `make` the first time it is asked for: every module registers its
 * metrics this way, so that several of its instances (tests, an in-process restart) share one registry.
 */
export function registered<T>(registry: Registry, name: string, make: (registers: Registry[]) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make([registry]);
}

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Latency buckets in seconds, from a cached answer (1 ms) to Prometheus's longest queries (2 min). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const requests = registered(registry, 'promgate_http_requests_total', (registers) => new Counter({
    name: 'promgate_http_requests_total',
    help: 'Requests answered, by endpoint, status code and user (a users-file name, a tenant id, or "jwt").',
    labelNames: ['endpoint', 'code', 'user'] as const,
    registers,
  }));
  const duration = registered(registry, 'promgate_http_request_duration_seconds', (registers) => new Histogram({
    name: 'promgate_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its answer, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }));
  const refusals = registered(registry, 'promgate_enforcement_refusals_total', (registers) => new Counter({
    name: 'promgate_enforcement_refusals_total',
    help: 'Requests promgate refused without asking the upstream, by reason.',
    labelNames: ['reason'] as const,
    registers,
  }));
  const upstreamErrors = registered(registry, 'promgate_upstream_errors_total', (registers) => new Counter({
    name: 'promgate_upstream_errors_total',
    help: 'Upstream requests that failed: unavailable (502), timeout (504 or stalled) or interrupted mid-answer.',
    labelNames: ['kind'] as const,
    registers,
  }));

  // prom-client hashes the label object on every call; the label children are cached once per combination instead.
  const requestChildren = new Map<string, Counter.Internal>();
  const durationChildren = new Map<string, Histogram.Internal<'endpoint'>>();

  return {
    request(endpoint, code, user, seconds) {
      const key = `${endpoint}\u0000${code}\u0000${user}`;
      let counter = requestChildren.get(key);
      if (counter === undefined) {
        counter = requests.labels({ endpoint, code: String(code), user });
        requestChildren.set(key, counter);
      }
      counter.inc();
      let histogram = durationChildren.get(endpoint);
      if (histogram === undefined) {
        histogram = duration.labels({ endpoint });
        durationChildren.set(endpoint, histogram);
      }
      histogram.observe(seconds);
    },
    refusal(reason) {
      refusals.inc({ reason });
    },
    upstreamError(kind) {
      upstreamErrors.inc({ kind });
    },
  };
}
