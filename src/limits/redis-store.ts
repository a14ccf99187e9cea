import { Redis } from 'ioredis';
import type { CountStore } from './store.js';

export interface RedisStoreOptions {
  readonly url: string;
  /** How long a command may take before it counts as failed. */
  readonly timeoutMs: number;
  /** Told when Redis becomes unreachable (with why) and reachable again. */
  readonly onHealth: (up: boolean, reason?: string) => void;
}

// A place is held in Redis under a lease that expires unless renewed, so that a replica that dies does not keep its
// places for ever; a live one renews its leases a few times a lease.
const LEASE_MS = 30_000;
const RENEW_EVERY_MS = LEASE_MS / 3;
const PREFIX = 'promgate:';

// Both scripts read Redis's own clock, so replicas with skewed clocks count alike, and set an expiry on every key
// they write: a bucket's once it would be full again, a tenant's places once its last lease would have expired.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]), tonumber(b[2])
if tokens == nil or at == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait`;

const ENTER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV do redis.call('ZADD', KEYS[i], 'XX', now + ${LEASE_MS}, ARGV[i]) redis.call('PEXPIRE', KEYS[i], ${LEASE_MS}) end
return 0`;

interface Scripts {
  take(key: string, rate: number, burst: number): Promise<number>;
  enter(key: string, limit: number, lease: string, leaseMs: number): Promise<number>;
  renew(...keysThenLeases: string[]): Promise<number>;
}

/**
 * Rate and concurrency counts shared by every replica through Redis, each a single atomic script. Commands are
 * never queued while Redis is unreachable and each has `timeoutMs` to answer, so a request waits that long at most
 * before the limiter's fail-open or fail-closed applies.
 */
export class RedisStore implements CountStore {
  private readonly redis: Redis;
  private readonly scripts: Scripts;
  /** Leases held by this process, renewed until given back: lease → its tenant's key. */
  private readonly held = new Map<string, string>();
  private readonly renewer: NodeJS.Timeout;
  private up: boolean | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    this.redis = new Redis(options.url, {
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect for ever, at most a second apart.
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    this.redis.defineCommand('promgateTake', { numberOfKeys: 1, lua: TAKE });
    this.redis.defineCommand('promgateEnter', { numberOfKeys: 1, lua: ENTER });
    this.redis.defineCommand('promgateRenew', { lua: RENEW });
    const r = this.redis as unknown as Record<string, (...args: unknown[]) => Promise<number>>;
    this.scripts = {
      take: (key, rate, burst) => r.promgateTake!.call(this.redis, key, rate, burst),
      enter: (key, limit, lease, leaseMs) => r.promgateEnter!.call(this.redis, key, limit, lease, leaseMs),
      renew: (...args) => r.promgateRenew!.call(this.redis, args.length / 2, ...args),
    };
    this.redis.on('ready', () => this.health(true));
    this.redis.on('error', (error: Error) => this.health(false, error.message));
    this.redis.on('end', () => this.health(false, 'connection closed'));
    this.renewer = setInterval(() => this.renew(), RENEW_EVERY_MS).unref();
  }

  /** Resolves once connected, or after `ms` (the store works either way: until then it fails). */
  ready(ms: number): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.redis.once('ready', done);
    });
  }

  take(tenant: string, rate: number, burst: number): Promise<number> {
    return this.scripts.take(`${PREFIX}rate:${tenant}`, rate, burst).then(Number);
  }

  async enter(tenant: string, limit: number, lease: string): Promise<boolean> {
    const key = `${PREFIX}conc:${tenant}`;
    const entered = (await this.scripts.enter(key, limit, lease, LEASE_MS)) === 1;
    if (entered) this.held.set(lease, key);
    return entered;
  }

  leave(tenant: string, lease: string): void {
    this.held.delete(lease);
    // Not awaited: a place that cannot be given back now expires with its lease.
    this.redis.zrem(`${PREFIX}conc:${tenant}`, lease).catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.renewer);
    this.redis.disconnect();
  }

  private renew(): void {
    if (this.held.size === 0) return;
    this.scripts.renew(...this.held.values(), ...this.held.keys()).catch(() => undefined);
  }

  private health(up: boolean, reason?: string): void {
    if (up === this.up) return;
    this.up = up;
    this.options.onHealth(up, reason);
  }
}
