import { hash as hashOnce, randomBytes, timingSafeEqual } from 'node:crypto';
import { compare as bcryptCompare } from 'bcryptjs';
import { err, ok, type Result } from '../result.js';
import { LruSet } from './lru.js';

/** A password as the users file stores it: a bcrypt hash, or plain text (k8spin's format). */
export type StoredPassword = { readonly kind: 'bcrypt'; readonly hash: string } | { readonly kind: 'plain'; readonly text: string };

const BCRYPT_PREFIX = /^\$2[abxy]?\$/;
// $2<minor>$<cost>$<22 characters of salt><31 characters of hash>, in bcrypt's own base64 alphabet.
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/**
 * Reads a stored password. Anything that starts like a bcrypt hash must be a well-formed one: taking a
 * mistyped hash as a plain password would let whoever knows the hash text log in with it.
 */
export function parseStoredPassword(value: string): Result<StoredPassword, string> {
  if (!BCRYPT_PREFIX.test(value)) return ok({ kind: 'plain', text: value });
  if (BCRYPT_HASH.test(value)) return ok({ kind: 'bcrypt', hash: value });
  return err('looks like a bcrypt hash but is not a valid $2a$/$2b$/$2y$ hash (60 characters, cost 04 to 31)');
}

export interface PasswordVerifierOptions {
  /** How many verified credentials to remember. */
  readonly cacheSize?: number;
  /** The bcrypt comparison; tests pass a counting one. */
  readonly bcryptCompare?: (password: string, hash: string) => Promise<boolean>;
}

/**
 * Checks passwords against stored ones. bcrypt is slow on purpose, and Grafana sends the same credential with
 * every panel, so a verified credential is remembered in a bounded LRU. The cache keys are keyed digests (see
 * `digest`) over user, password and stored hash: the cache never holds a password, and an entry stops matching
 * as soon as the stored hash changes. Only successes are cached.
 */
export class PasswordVerifier {
  private readonly key = randomBytes(32).toString('hex');
  /** The digests of stored plain passwords, worked out once per users-file entry rather than per request. */
  private readonly plainDigests = new WeakMap<StoredPassword, Buffer>();
  private readonly verified: LruSet;
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly bcryptCompare: (password: string, hash: string) => Promise<boolean>;

  constructor(options: PasswordVerifierOptions = {}) {
    this.verified = new LruSet(options.cacheSize ?? 10_000);
    this.bcryptCompare = options.bcryptCompare ?? bcryptCompare;
  }

  /**
   * The answer when it is cheap: true or false for a plain password or a cached bcrypt credential,
   * undefined when bcrypt has to run (then call `verify`).
   */
  check(user: string, password: string, stored: StoredPassword): boolean | undefined {
    if (stored.kind === 'plain') return this.equalInConstantTime(password, stored);
    return this.verified.has(this.cacheKey(user, password, stored.hash)) ? true : undefined;
  }

  /** The full check. Concurrent requests with the same new credential share one bcrypt run. */
  async verify(user: string, password: string, stored: StoredPassword): Promise<boolean> {
    const quick = this.check(user, password, stored);
    if (quick !== undefined || stored.kind === 'plain') return quick ?? false;
    const key = this.cacheKey(user, password, stored.hash);
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.runBcrypt(key, password, stored.hash);
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async runBcrypt(key: string, password: string, hash: string): Promise<boolean> {
    try {
      const matches = await this.bcryptCompare(password, hash);
      if (matches) this.verified.add(key);
      return matches;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private equalInConstantTime(given: string, stored: StoredPassword & { kind: 'plain' }): boolean {
    let storedDigest = this.plainDigests.get(stored);
    if (storedDigest === undefined) {
      storedDigest = this.digest([stored.text]);
      this.plainDigests.set(stored, storedDigest);
    }
    // Digests have equal lengths whatever the inputs, so the comparison time says nothing about them.
    return timingSafeEqual(this.digest([given]), storedDigest);
  }

  private cacheKey(user: string, password: string, hash: string): string {
    return this.digest([user, password, hash]).toString('base64');
  }

  /**
   * SHA-256 over the process's secret key and the length-prefixed parts (so that ("ab", "c") and ("a", "bc")
   * stay apart). One crypto.hash() call instead of an HMAC object per request, at a third of the cost. The
   * digests never leave the process, so the length extension that HMAC guards against gives nothing to anyone.
   */
  private digest(parts: readonly string[]): Buffer {
    let text = this.key;
    for (const part of parts) text += `${part.length}:${part}`;
    return hashOnce('sha256', text, 'buffer');
  }
}
