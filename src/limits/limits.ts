import type { ComplexityLimits } from 'promql-parser-wasm';
import { parseDuration } from '../duration.js';
import { err, ok, type Result } from '../result.js';

/**
 * What one tenant may ask of the upstream. 0 is "no limit" for every field. The defaults come from flags
 * (`--limits-*`); a users-file entry or a gateway-file tenant may override any of them in a `limits:` block.
 */
export interface TenantLimits {
  /** Upstream requests at once; more wait in the queue. */
  readonly concurrency: number;
  /** Requests that may wait for a place; beyond, 429 at once. */
  readonly queue: number;
  /** The longest wait in the queue (ms) before 429. */
  readonly queueTimeoutMs: number;
  /** Requests a second, as a token bucket refilled at this rate. */
  readonly rate: number;
  /** The bucket's size: requests that may come at once after a quiet time (0: one second of `rate`). */
  readonly burst: number;
  /** The longest `end - start` of a query (ms). */
  readonly maxRangeMs: number;
  /** The longest lookback of a query (ms): ranges and offsets of its selectors and subqueries, and `lookback_delta`. */
  readonly maxLookbackMs: number;
  /** Points per series of a range query, (end - start) / step. */
  readonly maxPoints: number;
}

export type LimitsOverrides = Partial<TenantLimits>;

/** The limits `promgate run` serves with: every query's complexity, each tenant's defaults, where counts are kept. */
export interface LimitOptions {
  readonly complexity: Required<ComplexityLimits>;
  readonly tenant: TenantLimits;
  /** Undefined: counts are kept per process. */
  readonly redis?: { readonly url: string; readonly timeoutMs: number; readonly failure: 'open' | 'closed' };
}

export const NO_LIMITS: TenantLimits = Object.freeze({
  concurrency: 0,
  queue: 0,
  queueTimeoutMs: 0,
  rate: 0,
  burst: 0,
  maxRangeMs: 0,
  maxLookbackMs: 0,
  maxPoints: 0,
});

/** The limits of a tenant with `overrides`, over `defaults`; the same object when there is nothing to override. */
export function withOverrides(defaults: TenantLimits, overrides: LimitsOverrides | undefined): TenantLimits {
  return overrides === undefined ? defaults : Object.freeze({ ...defaults, ...overrides });
}

/** Whether a tenant's requests need counting at all (a rate or a concurrency limit). */
export const counted = (limits: TenantLimits): boolean => limits.rate > 0 || limits.concurrency > 0;

/** The bucket size a rate limit has. */
export const burstOf = (limits: TenantLimits): number => (limits.burst > 0 ? limits.burst : Math.max(1, Math.ceil(limits.rate)));

type Reader = (text: string) => Result<number, string>;

const count: Reader = (text) =>
  /^\d+$/.test(text) && Number(text) <= 1_000_000_000 ? ok(Number(text)) : err('must be a whole number (0: no limit)');
const perSecond: Reader = (text) =>
  /^\d+(?:\.\d+)?$/.test(text) && Number(text) <= 1_000_000 ? ok(Number(text)) : err('must be a number of requests a second (0: no limit)');
const duration: Reader = (text) => {
  const ms = parseDuration(text);
  return ms.ok ? ms : err('must be a duration such as 30s, 12h or 32d (0: no limit)');
};

/** The `limits:` block's keys, as written in the files, with the field each sets and how its value reads. */
export const LIMIT_KEYS: ReadonlyMap<string, readonly [keyof TenantLimits, Reader]> = new Map([
  ['concurrency', ['concurrency', count]],
  ['queue', ['queue', count]],
  ['queue_timeout', ['queueTimeoutMs', duration]],
  ['rate', ['rate', perSecond]],
  ['burst', ['burst', count]],
  ['max_range', ['maxRangeMs', duration]],
  ['max_lookback', ['maxLookbackMs', duration]],
  ['max_points', ['maxPoints', count]],
]);

/**
 * A `limits:` block read from a file: key → the scalar's text as written. Errors name the key; the caller adds
 * where it stands.
 */
export function readLimits(block: ReadonlyMap<string, string>): Result<LimitsOverrides, { key: string; message: string }> {
  const overrides: Partial<Record<keyof TenantLimits, number>> = {};
  for (const [key, text] of block) {
    const known = LIMIT_KEYS.get(key);
    if (known === undefined) return err({ key, message: `unknown limit; one of ${[...LIMIT_KEYS.keys()].join(', ')}` });
    const [field, read] = known;
    const value = read(text.trim());
    if (!value.ok) return err({ key, message: value.error });
    overrides[field] = value.value;
  }
  return ok(Object.freeze(overrides));
}
