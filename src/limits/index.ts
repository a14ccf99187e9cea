import type { Deps } from '../observability/deps.js';
import type { LimitOptions } from './limits.js';
import { Limiter } from './limiter.js';
import { createLimitMetrics } from './metrics.js';
import { RedisStore } from './redis-store.js';

// How long start-up waits for Redis before serving anyway (failing open or closed until it is there).
const REDIS_START_WAIT_MS = 2000;

/** The limiter `promgate run` serves with: counts in this process, or in the Redis of `--limits-redis`. */
export async function createLimiter(options: LimitOptions, deps: Deps): Promise<Limiter> {
  const metrics = createLimitMetrics(deps.registry);
  const logger = deps.logger.child({ limits: true });
  const redis = options.redis;
  if (redis === undefined) return new Limiter({ defaults: options.tenant, failure: 'open', metrics, logger });
  const store = new RedisStore({
    url: redis.url,
    timeoutMs: redis.timeoutMs,
    onHealth(up, reason) {
      metrics.storeUp(up);
      if (up) logger.info('limits store (Redis) reachable: rate and concurrency are counted across replicas');
      else if (redis.failure === 'open') logger.warn({ reason }, 'limits store (Redis) unreachable: failing open, counting in this process only');
      else logger.error({ reason }, 'limits store (Redis) unreachable: failing closed, tenant requests get 503');
    },
  });
  await store.ready(REDIS_START_WAIT_MS);
  return new Limiter({ defaults: options.tenant, store, failure: redis.failure, metrics, logger });
}
