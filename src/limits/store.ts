import { LRUCache } from 'lru-cache';

/**
 * Where a tenant's counts are kept: in this process, or in Redis, shared by every replica. A Redis store's
 * calls reject when Redis cannot answer in time; the limiter decides what that means (fail open or closed).
 */
export interface CountStore {
  /** Takes a token from the tenant's bucket: 0 when one was taken, else the milliseconds until one is there. */
  take(tenant: string, rate: number, burst: number): number | Promise<number>;
  /** Takes one of the tenant's `limit` places under `lease`: false when all are taken. */
  enter(tenant: string, limit: number, lease: string): boolean | Promise<boolean>;
  /** Gives back a place taken under `lease`. */
  leave(tenant: string, lease: string): void;
  close(): Promise<void>;
}

// Tenants' counts kept at once. A bucket that fell out refills at once: one more burst, no more.
const MAX_TENANTS = 100_000;

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

/** The counts of this process alone. */
export class LocalStore implements CountStore {
  private readonly buckets = new LRUCache<string, Bucket>({ max: MAX_TENANTS });
  // A tenant's count is kept while it is 0 (no map churn on every request) until there are many tenants.
  private readonly active = new Map<string, { held: number }>();

  take(tenant: string, rate: number, burst: number): number {
    const now = performance.now();
    let bucket = this.buckets.get(tenant);
    if (bucket === undefined) {
      bucket = { tokens: burst, at: now };
      this.buckets.set(tenant, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / rate);
  }

  enter(tenant: string, limit: number): boolean {
    let count = this.active.get(tenant);
    if (count === undefined) {
      count = { held: 0 };
      this.active.set(tenant, count);
    }
    if (count.held >= limit) return false;
    count.held++;
    return true;
  }

  leave(tenant: string): void {
    const count = this.active.get(tenant);
    if (count === undefined) return;
    count.held--;
    if (count.held <= 0 && this.active.size > MAX_TENANTS) this.active.delete(tenant);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
