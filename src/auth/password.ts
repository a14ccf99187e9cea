import { hash as hashOnce, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { err, ok, type Result } from '../result.js';
import { BcryptGate, type BcryptGateOptions } from './bcrypt.js';

/** A password as the users file stores it: a bcrypt hash, or plain text (k8spin's format). */
export type StoredPassword = { readonly kind: 'bcrypt'; readonly hash: string } | { readonly kind: 'plain'; readonly text: string };

const BCRYPT_PREFIX = /^\$2[abxy]?\$/;
// $2<minor>$<cost>$<22 characters of salt><31 characters of hash>, in bcrypt's own base64 alphabet.
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

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
  /** How many refused credentials to remember (apart from the verified ones, so refusals cannot evict them). */
  readonly refusedCacheSize?: number;
  /** How bcrypt runs: how many at once, how many may wait, and (for tests) the comparison itself. */
  readonly bcrypt?: BcryptGateOptions;
}

/** The decoy hashes of one users file (see `PasswordVerifier.decoysFor`). */
export interface Decoys {
  /** How many different bcrypt costs the file has: more than one, and refusal times tell costlier users apart. */
  readonly costs: number;
  /** The decoy a refusal for `user` checks. */
  for(user: string): StoredPassword;
}

/** A check's answer: 'busy' when bcrypt had to run but too many runs were waiting, so nothing was checked. */
export type Verdict = boolean | 'busy';

/**
 * Checks passwords against stored ones. bcrypt is slow on purpose, and Grafana sends the same credential with
 * every panel, so answers are remembered in two bounded LRUs: verified credentials, and refused ones (a bcrypt
 * answer never changes for the same password and hash, so a refusal stays true for as long as it is remembered;
 * without it, repeating one wrong password would cost bcrypt every time). The cache keys are keyed digests (see
 * `digest`) over user, password and stored hash: the caches never hold a password, and an entry stops matching as
 * soon as the stored hash changes. bcrypt runs through a `BcryptGate`, off the event loop and a bounded number at
 * a time; a remembered answer never waits for it.
 */
export class PasswordVerifier {
  private readonly key = randomBytes(32).toString('hex');
  /** The digests of stored plain passwords, worked out once per users-file entry rather than per request. */
  private readonly plainDigests = new WeakMap<StoredPassword, Buffer>();
  /** Keys of credentials known good, and known bad; a lookup counts as a use (`get`, not `has`). */
  private readonly verified: LRUCache<string, true>;
  private readonly refused: LRUCache<string, true>;
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly gate: BcryptGate;
  /** Decoy hashes by cost, made once so that a reload does not change them (see `decoyFor`). */
  private readonly decoys = new Map<string, StoredPassword>();

  constructor(options: PasswordVerifierOptions = {}) {
    this.verified = new LRUCache({ max: options.cacheSize ?? 10_000 });
    this.refused = new LRUCache({ max: options.refusedCacheSize ?? 10_000 });
    this.gate = new BcryptGate(options.bcrypt);
  }

  /**
   * The answer when it is cheap: true or false for a plain password or a remembered bcrypt answer,
   * undefined when bcrypt has to run (then call `verify`).
   */
  check(user: string, password: string, stored: StoredPassword): boolean | undefined {
    if (stored.kind === 'plain') return this.equalInConstantTime(password, stored);
    return this.remembered(this.cacheKey(user, password, stored.hash));
  }

  /**
   * The full check. Concurrent requests with the same new credential share one bcrypt run; 'busy' when the run
   * could not even wait its turn.
   */
  async verify(user: string, password: string, stored: StoredPassword): Promise<Verdict> {
    if (stored.kind === 'plain') return this.equalInConstantTime(password, stored);
    const key = this.cacheKey(user, password, stored.hash);
    const known = this.remembered(key);
    if (known !== undefined) return known;
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      const run = this.gate.compare(password, stored.hash);
      if (run === undefined) return 'busy';
      pending = this.remember(key, run);
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /**
   * The decoys of a users file: bcrypt hashes no password is known to match, one for each cost among `stored`'s
   * hashes; undefined when none is a bcrypt hash. A refusal that checked no real hash (an unknown username, a wrong
   * plain password) checks `decoys.for(user)` instead, so that it costs what a real check costs. Which cost a name
   * gets is drawn from the file's own distribution of costs by a keyed hash of the name: across names, refusal times
   * follow the distribution of known users' times, and the same name always takes the same time, so that asking
   * again tells nothing new. The same cost always gives the same decoy, so that refusals remembered for it survive a
   * reload as those of real users do.
   */
  decoysFor(stored: readonly StoredPassword[]): Decoys | undefined {
    const costs: string[] = [];
    for (const password of stored) if (password.kind === 'bcrypt') costs.push(password.hash.slice(4, 6));
    if (costs.length === 0) return undefined;
    // One slot per bcrypt entry, in a fixed order, so that a reload of the same file picks the same way.
    costs.sort();
    const byCost = new Map(costs.map((cost) => [cost, this.decoyOfCost(cost)]));
    return {
      costs: byCost.size,
      for: (user) => byCost.get(costs[this.digest(['decoy', user]).readUInt32BE(0) % costs.length]!)!,
    };
  }

  private decoyOfCost(cost: string): StoredPassword {
    let decoy = this.decoys.get(cost);
    if (decoy === undefined) {
      // 53 random characters of bcrypt's alphabet: a salt and a hash that nothing was ever hashed to.
      const tail = Array.from(randomBytes(53), (byte) => BCRYPT_ALPHABET[byte % 64]).join('');
      decoy = Object.freeze({ kind: 'bcrypt', hash: `$2b$${cost}$${tail}` });
      this.decoys.set(cost, decoy);
    }
    return decoy;
  }

  /** Stops bcrypt's worker threads. */
  close(): Promise<void> {
    return this.gate.close();
  }

  private remembered(key: string): boolean | undefined {
    if (this.verified.get(key) === true) return true;
    return this.refused.get(key) === true ? false : undefined;
  }

  private async remember(key: string, run: Promise<boolean>): Promise<boolean> {
    try {
      const matches = await run;
      (matches ? this.verified : this.refused).set(key, true);
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
