import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

interface Entry<V> {
  readonly value: V;
  readonly generation: object;
  readonly expiresAtMs: number;
}

/**
 * Remembers what verifying a token gave, so a token seen before is not verified again until it expires.
 * Keyed by a hash of the token (the memory never holds a usable credential), bounded in entries and in bytes (least
 * recently used goes first; what a token grants can be large), and tied to a generation (the key set): when keys
 * rotate, nothing verified under the old set is served.
 */
export class VerificationCache<V> {
  private readonly entries: LRUCache<string, Entry<V>>;

  /** `sizeOf` estimates a value's bytes; `maxBytes` bounds their sum. */
  constructor(capacity: number, maxBytes = Number.MAX_SAFE_INTEGER, sizeOf: (value: V) => number = () => 1) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
    this.entries = new LRUCache({ max: capacity, maxSize: maxBytes, sizeCalculation: (entry, key) => Math.max(1, key.length + sizeOf(entry.value)) });
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string, generation: object, nowMs: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.generation === generation && nowMs < entry.expiresAtMs) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Stores a value until `expiresAtMs`; one that has already expired is not stored. */
  set(key: string, generation: object, value: V, expiresAtMs: number, nowMs: number): void {
    if (expiresAtMs > nowMs) this.entries.set(key, { value, generation, expiresAtMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
