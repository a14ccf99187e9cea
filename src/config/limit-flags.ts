import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../duration.js';
import type { LimitOptions, TenantLimits } from '../limits/limits.js';
import { err, ok, type Result } from '../result.js';
import { env, oneOf } from './flag-values.js';

// Why each default is what it is: README, "Limits".
export const DEFAULT_MAX_QUERY_NODES = 10_000;
export const DEFAULT_MAX_QUERY_COST = 100_000;

function count(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 1e12) throw new InvalidArgumentError('must be a whole number (0: no limit).');
  return Number(value.trim());
}

function perSecond(value: string): number {
  if (!/^\d+(?:\.\d+)?$/.test(value.trim())) throw new InvalidArgumentError('must be a number of requests a second (0: no limit).');
  return Number(value.trim());
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (!ms.ok) throw new InvalidArgumentError('must be a duration such as 30s, 12h or 32d (0: no limit).');
  return ms.value;
}

/** The flags of the limits (README, "Limits"). */
export const limitOptions = (): Option[] => [
  new Option('--max-query-nodes <n>', 'most nodes in a query\'s syntax tree (0: no limit)')
    .env(env('MAX_QUERY_NODES'))
    .default(DEFAULT_MAX_QUERY_NODES)
    .argParser(count),
  new Option('--max-query-cost <n>', "most type-check work a query may cost the upstream's parser (0: no limit)")
    .env(env('MAX_QUERY_COST'))
    .default(DEFAULT_MAX_QUERY_COST)
    .argParser(count),
  new Option('--limits-concurrency <n>', "each tenant's upstream requests at once (0: no limit)").env(env('LIMITS_CONCURRENCY')).default(8).argParser(count),
  new Option('--limits-queue <n>', "each tenant's requests waiting for a place (0: none wait)").env(env('LIMITS_QUEUE')).default(64).argParser(count),
  new Option('--limits-queue-timeout <duration>', 'longest wait for a place before 429 (0: until one is free)')
    .env(env('LIMITS_QUEUE_TIMEOUT'))
    .default(30_000, '30s')
    .argParser(duration),
  new Option('--limits-rate <per-second>', "each tenant's requests a second (0: no limit)").env(env('LIMITS_RATE')).default(0).argParser(perSecond),
  new Option('--limits-burst <n>', 'requests a tenant may send at once within its rate (0: one second of it)')
    .env(env('LIMITS_BURST'))
    .default(0)
    .argParser(count),
  new Option('--limits-max-range <duration>', 'longest end - start of a range query (0: no limit)')
    .env(env('LIMITS_MAX_RANGE'))
    .default(32 * 86_400_000, '32d')
    .argParser(duration),
  new Option('--limits-max-lookback <duration>', 'longest lookback of a query: ranges and offsets of its selectors and subqueries (0: no limit)')
    .env(env('LIMITS_MAX_LOOKBACK'))
    .default(32 * 86_400_000, '32d')
    .argParser(duration),
  new Option('--limits-max-points <n>', 'most points per series of a range query (0: no limit)')
    .env(env('LIMITS_MAX_POINTS'))
    .default(11_000)
    .argParser(count),
  new Option('--limits-redis <url>', 'share rate and concurrency counts with every replica through this Redis (redis://host:6379)').env(env('LIMITS_REDIS')),
  new Option('--limits-redis-fail <how>', 'when Redis cannot answer: open (count in this process) or closed (503)')
    .env(env('LIMITS_REDIS_FAIL'))
    .default('open')
    .argParser(oneOf(['open', 'closed'] as const)),
  new Option('--limits-redis-timeout <duration>', 'longest wait for an answer from Redis')
    .env(env('LIMITS_REDIS_TIMEOUT'))
    .default(100, '100ms')
    .argParser(duration),
];

interface RawLimitOptions {
  maxQueryNodes: number;
  maxQueryCost: number;
  limitsConcurrency: number;
  limitsQueue: number;
  limitsQueueTimeout: number;
  limitsRate: number;
  limitsBurst: number;
  limitsMaxRange: number;
  limitsMaxLookback: number;
  limitsMaxPoints: number;
  limitsRedis?: string;
  limitsRedisFail: 'open' | 'closed';
  limitsRedisTimeout: number;
}

export function toLimitOptions(command: Command): Result<LimitOptions, string> {
  const raw = command.opts<RawLimitOptions>();
  const tenant: TenantLimits = Object.freeze({
    concurrency: raw.limitsConcurrency,
    queue: raw.limitsQueue,
    queueTimeoutMs: raw.limitsQueueTimeout,
    rate: raw.limitsRate,
    burst: raw.limitsBurst,
    maxRangeMs: raw.limitsMaxRange,
    maxLookbackMs: raw.limitsMaxLookback,
    maxPoints: raw.limitsMaxPoints,
  });
  const complexity = { maxNodes: raw.maxQueryNodes, maxCost: raw.maxQueryCost };
  if (raw.limitsRedis === undefined) return ok({ complexity, tenant });
  let url: URL;
  try {
    url = new URL(raw.limitsRedis);
  } catch {
    return err(`--limits-redis ${JSON.stringify(raw.limitsRedis)} is not a URL`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return err('--limits-redis must be a redis:// or rediss:// URL');
  if (raw.limitsRedisTimeout < 1) return err('--limits-redis-timeout must be at least 1ms');
  return ok({ complexity, tenant, redis: { url: url.href, timeoutMs: raw.limitsRedisTimeout, failure: raw.limitsRedisFail } });
}
