import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { burstOf, withOverrides, type LimitsOverrides, type TenantLimits } from './limits.js';
import type { LimitMetrics, LimitReason } from './metrics.js';
import { LocalStore, type CountStore } from './store.js';

/** A request refused by a tenant's rate or concurrency limit: 429 (or 503 when a shared store fails closed). */
export interface LimitRefusal {
  readonly status: 429 | 503;
  readonly reason: LimitReason;
  readonly message: string;
  readonly retryAfterSeconds: number;
}

/** One of a tenant's concurrent upstream places, held until the answer has ended. */
export interface Lease {
  release(): void;
}

/** Who is counted: the tenant's key, and its label in the metrics (a bounded set); a Principal is one. */
export interface Counted {
  readonly tenant: string;
  readonly metricsUser: string;
}

/** What a queued request listens on to learn that its client went away (a ServerResponse). */
export interface Departure {
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export interface LimiterOptions {
  readonly defaults: TenantLimits;
  /** Where the counts are kept; a LocalStore when not given. */
  readonly store?: CountStore;
  /**
   * When a shared store cannot answer: `open` counts the request in this process instead (each replica then
   * limits on its own), `closed` refuses it with 503.
   */
  readonly failure: 'open' | 'closed';
  readonly metrics: LimitMetrics;
  readonly logger: Logger;
}

const NO_LEASE: Lease = Object.freeze({ release: () => undefined });
// How often a queued request asks a shared store again (a place may be freed by another replica).
const POLL_MS = 50;
const GONE: LimitRefusal = Object.freeze({ status: 429, reason: 'queue_timeout', message: 'the client went away', retryAfterSeconds: 1 });

interface Waiter {
  /** Tries to take a place for the waiter; ends its wait when one is taken. */
  retry(): void;
}

/**
 * Per-tenant rate (a token bucket) and concurrency (places, with a bounded queue) limits. With the counts in this
 * process, a check is a few map operations and never waits for a promise; a freed place goes to the tenant's
 * longest-waiting request at once. With a shared store (Redis), a check is one script call, and a queued
 * request asks again whenever a place is freed here, and every 50 ms for places freed elsewhere.
 */
export class Limiter {
  private readonly store: CountStore;
  private readonly shared: boolean;
  /** Counts this process keeps when a shared store cannot answer and the limiter fails open. */
  private readonly fallback = new LocalStore();
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly resolved = new WeakMap<LimitsOverrides, TenantLimits>();
  private readonly leasePrefix = randomBytes(6).toString('hex');
  private leases = 0;

  constructor(private readonly options: LimiterOptions) {
    this.store = options.store ?? new LocalStore();
    this.shared = options.store !== undefined && !(options.store instanceof LocalStore);
  }

  /** A tenant's limits: the defaults, with the overrides its credential carries. */
  limitsOf(overrides: LimitsOverrides | undefined): TenantLimits {
    if (overrides === undefined) return this.options.defaults;
    let limits = this.resolved.get(overrides);
    if (limits === undefined) {
      limits = withOverrides(this.options.defaults, overrides);
      this.resolved.set(overrides, limits);
    }
    return limits;
  }

  /** Takes a token from the tenant's bucket: undefined when the request may go on. */
  admit(who: Counted, limits: TenantLimits): LimitRefusal | undefined | Promise<LimitRefusal | undefined> {
    if (limits.rate <= 0) return undefined;
    const burst = burstOf(limits);
    if (!this.shared) {
      const wait = (this.store as LocalStore).take(who.tenant, limits.rate, burst);
      return wait === 0 ? undefined : this.afterTake(who, limits, wait);
    }
    const taken = this.guarded(
      () => this.store.take(who.tenant, limits.rate, burst),
      () => this.fallback.take(who.tenant, limits.rate, burst),
    );
    return typeof taken === 'number' || isRefusal(taken) ? this.afterTake(who, limits, taken) : taken.then((t) => this.afterTake(who, limits, t));
  }

  /**
   * The refusal `acquire` would give now because the tenant's places are taken and its queue is full (counts in this
   * process only): checked before the request's body is read and its query parsed, so that a flood costs little.
   */
  saturated(who: Counted, limits: TenantLimits): LimitRefusal | undefined {
    if (limits.concurrency <= 0 || this.shared || this.waiting.size === 0) return undefined;
    const queue = this.waiting.get(who.tenant);
    if (queue === undefined || queue.length < limits.queue) return undefined;
    return this.queueFull(who, limits, queue.length);
  }

  /** One of the tenant's concurrent places, waiting in its queue when all are taken. */
  acquire(who: Counted, limits: TenantLimits, departure: Departure): Lease | LimitRefusal | Promise<Lease | LimitRefusal> {
    if (limits.concurrency <= 0) return NO_LEASE;
    const entered = this.enter(who, limits);
    if (entered instanceof Promise) return entered.then((e) => e ?? this.wait(who, limits, departure));
    return entered ?? this.wait(who, limits, departure);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** A place of `tenant` was given back: the longest-waiting request of the tenant may take it. */
  left(tenant: string): void {
    if (this.waiting.size > 0) this.waiting.get(tenant)?.[0]?.retry();
  }

  /** Gives back a place taken in this process. */
  leaveLocal(tenant: string): void {
    (this.store as LocalStore).leave(tenant);
    this.left(tenant);
  }

  private afterTake(who: Counted, limits: TenantLimits, taken: number | LimitRefusal): LimitRefusal | undefined {
    if (typeof taken !== 'number') return this.refuse(who, taken);
    if (taken === 0) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(taken / 1000));
    return this.refuse(who, {
      status: 429,
      reason: 'rate',
      message: `too many requests: over this tenant's rate of ${limits.rate} a second (bursts of ${burstOf(limits)}); retry in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    });
  }

  /** A place if one is free now; undefined when all are taken; a refusal when a shared store fails closed. */
  private enter(who: Counted, limits: TenantLimits): Lease | LimitRefusal | undefined | Promise<Lease | LimitRefusal | undefined> {
    // In this process: no lease id, no store call that may fail.
    if (!this.shared) return (this.store as LocalStore).enter(who.tenant, limits.concurrency) ? new LocalLease(this, who.tenant) : undefined;
    const lease = `${this.leasePrefix}-${(++this.leases).toString(36)}`;
    let usedFallback = false;
    const entered = this.guarded(
      () => this.store.enter(who.tenant, limits.concurrency, lease),
      () => {
        usedFallback = true;
        return this.fallback.enter(who.tenant, limits.concurrency);
      },
    );
    const settle = (e: boolean | LimitRefusal): Lease | LimitRefusal | undefined => {
      if (isRefusal(e)) return this.refuse(who, e);
      if (!e) return undefined;
      const store = usedFallback ? this.fallback : this.store;
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          store.leave(who.tenant, lease);
          this.left(who.tenant);
        },
      };
    };
    return typeof entered === 'boolean' || isRefusal(entered) ? settle(entered) : entered.then(settle);
  }

  private wait(who: Counted, limits: TenantLimits, departure: Departure): LimitRefusal | Promise<Lease | LimitRefusal> {
    const queue = this.waiting.get(who.tenant) ?? [];
    if (queue.length >= limits.queue) return this.queueFull(who, limits, queue.length);
    const { metrics } = this.options;
    const started = performance.now();
    return new Promise((resolve) => {
      let trying = false;
      let done = false;
      const finish = (outcome: Lease | LimitRefusal): void => {
        if (done) {
          if (!isRefusal(outcome)) outcome.release();
          return;
        }
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        departure.off('close', gone);
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0 && this.waiting.get(who.tenant) === queue) this.waiting.delete(who.tenant);
        metrics.queued(who.metricsUser, -1);
        metrics.waited((performance.now() - started) / 1000);
        resolve(outcome);
        // A place this waiter did not take may be another's.
        if (isRefusal(outcome)) queue[0]?.retry();
      };
      const waiter: Waiter = {
        retry: () => {
          if (done || trying) return;
          const entered = this.enter(who, limits);
          if (!(entered instanceof Promise)) {
            if (entered !== undefined) finish(entered);
            return;
          }
          trying = true;
          void entered.then((e) => {
            trying = false;
            if (e !== undefined) finish(e);
          });
        },
      };
      const gone = (): void => finish(GONE);
      const timer =
        limits.queueTimeoutMs > 0
          ? setTimeout(() => {
              finish(this.refuse(who, {
                status: 429,
                reason: 'queue_timeout',
                message: `too many requests at once: waited ${limits.queueTimeoutMs / 1000} s for one of this tenant's ${limits.concurrency} upstream places; retry shortly`,
                retryAfterSeconds: 1,
              }));
            }, limits.queueTimeoutMs)
          : undefined;
      const poll = this.shared ? setInterval(waiter.retry, POLL_MS) : undefined;
      queue.push(waiter);
      this.waiting.set(who.tenant, queue);
      metrics.queued(who.metricsUser, 1);
      departure.once('close', gone);
    });
  }

  /**
   * Runs a call of the store; when a shared store fails (unreachable, too slow), counts the error and either runs
   * `local` (fail open) or gives a 503 refusal (fail closed).
   */
  private guarded<T extends number | boolean>(call: () => T | Promise<T>, local: () => T): T | LimitRefusal | Promise<T | LimitRefusal> {
    if (!this.shared) return call();
    const onError = (error: unknown): T | LimitRefusal => {
      this.options.metrics.storeError();
      this.options.logger.debug({ err: error }, 'limits store call failed');
      if (this.options.failure === 'open') return local();
      return { status: 503, reason: 'store_unreachable', message: 'the shared limits store (Redis) is unreachable, and promgate fails closed; retry shortly', retryAfterSeconds: 1 };
    };
    try {
      const result = call();
      return result instanceof Promise ? result.catch(onError) : result;
    } catch (error) {
      return onError(error);
    }
  }

  /** Counts a refusal of `who`'s request over one of its limits (the limiter's own, or a query's). */
  count(who: Counted, reason: LimitReason): void {
    this.options.metrics.refused(who.metricsUser, reason);
  }

  private queueFull(who: Counted, limits: TenantLimits, waiting: number): LimitRefusal {
    return this.refuse(who, {
      status: 429,
      reason: 'queue_full',
      message: `too many requests at once: this tenant's ${limits.concurrency} upstream places are taken and ${waiting} requests wait; retry shortly`,
      retryAfterSeconds: 1,
    });
  }

  private refuse(who: Counted, refusal: LimitRefusal): LimitRefusal {
    this.count(who, refusal.reason);
    return refusal;
  }
}

/** A place taken in this process's counts. */
class LocalLease implements Lease {
  private released = false;

  constructor(
    private readonly limiter: Limiter,
    private readonly tenant: string,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.limiter.leaveLocal(this.tenant);
  }
}

const isRefusal = (value: unknown): value is LimitRefusal => typeof value === 'object' && value !== null && 'reason' in value;
