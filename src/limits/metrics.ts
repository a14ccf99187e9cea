import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registered } from '../observability/metrics.js';

/** Why a tenant's request was refused by a limit. */
export type LimitReason =
  | 'rate'
  | 'queue_full'
  | 'queue_timeout'
  | 'store_unreachable'
  | 'range'
  | 'lookback'
  | 'points'
  | 'too_complex';

export interface LimitMetrics {
  refused(tenant: string, reason: LimitReason): void;
  queued(tenant: string, delta: 1 | -1): void;
  waited(seconds: number): void;
  storeError(): void;
  storeUp(up: boolean): void;
}

/**
 * The limits' metrics. `tenant` is the principal's metrics user (a users-file name, a tenant id, or a fixed word;
 * see Principal.metricsUser): a bounded set, never a value straight from a token.
 */
export function createLimitMetrics(registry: Registry): LimitMetrics {
  const refusals = registered(registry, 'promgate_limit_refusals_total', (registers) => new Counter({
    name: 'promgate_limit_refusals_total',
    help: 'Requests refused by a tenant limit, by tenant and reason (rate, queue_full, queue_timeout, store_unreachable, range, lookback, points, too_complex).',
    labelNames: ['tenant', 'reason'] as const,
    registers,
  }));
  const queue = registered(registry, 'promgate_limit_queue_length', (registers) => new Gauge({
    name: 'promgate_limit_queue_length',
    help: 'Requests waiting for one of their tenant\'s concurrent upstream places, by tenant.',
    labelNames: ['tenant'] as const,
    registers,
  }));
  const wait = registered(registry, 'promgate_limit_queue_wait_seconds', (registers) => new Histogram({
    name: 'promgate_limit_queue_wait_seconds',
    help: 'Time requests waited in their tenant\'s queue, given a place or not.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  }));
  const storeErrors = registered(registry, 'promgate_limit_store_errors_total', (registers) => new Counter({
    name: 'promgate_limit_store_errors_total',
    help: 'Redis calls of the shared limits that failed or timed out (then --limits-redis-fail decides).',
    registers,
  }));
  const storeUp = registered(registry, 'promgate_limit_store_up', (registers) => new Gauge({
    name: 'promgate_limit_store_up',
    help: 'Whether the Redis of the shared limits is reachable (1) or not (0).',
    registers,
  }));
  return {
    refused: (tenant, reason) => refusals.inc({ tenant, reason }),
    queued: (tenant, delta) => queue.inc({ tenant }, delta),
    waited: (seconds) => wait.observe(seconds),
    storeError: () => storeErrors.inc(),
    storeUp: (up) => storeUp.set(up ? 1 : 0),
  };
}
