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
  | 'bad_request';

/** unavailable: 502; timeout: 504 or a stalled answer; interrupted: the answer broke off mid-stream. */
export type UpstreamFailure = 'unavailable' | 'timeout' | 'interrupted';

export interface GatewayMetrics {
  request(endpoint: string, code: number, user: string, seconds: number): void;
  refusal(reason: Refusal): void;
  upstreamError(kind: UpstreamFailure): void;
}

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const requests = new Counter({
    name: 'promgate_http_requests_total',
    help: 'Requests answered, by endpoint, status code and user.',
    labelNames: ['endpoint', 'code', 'user'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'promgate_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its answer, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'promgate_enforcement_refusals_total',
    help: 'Requests promgate refused without asking the upstream, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'promgate_upstream_errors_total',
    help: 'Upstream requests that failed: unavailable (502), timeout (504 or stalled) or interrupted mid-answer.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });

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
