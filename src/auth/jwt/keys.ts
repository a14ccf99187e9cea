import type { KeyObject } from 'node:crypto';

/** One key the gateway trusts, with the only algorithms it may verify. */
export interface VerificationKey {
  /** The JWK's `kid`; undefined when it has none. */
  readonly kid?: string;
  /**
   * Keys given by flag (--jwt-secret, --jwt-public-key) verify a token whatever `kid` it names.
   * JWKS keys verify only tokens that name their `kid` (k8spin's rule), or, for a key without one, tokens without one.
   */
  readonly anyKid: boolean;
  readonly algorithms: readonly string[];
  /** A public KeyObject for asymmetric algorithms, the raw secret for HMAC. */
  readonly key: KeyObject | Uint8Array;
  /** Where the key came from, for logs. */
  readonly origin: string;
}

/** A set of keys that may change over time; `keys()` returns a new array whenever the set changes. */
export interface KeySource {
  keys(): readonly VerificationKey[];
  /**
   * Asks a remote source to look again because a token named a `kid` it does not know.
   * Resolves once the refresh is done, or at once when one ran too recently.
   */
  refreshForUnknownKid?(): Promise<void>;
  close(): Promise<void>;
}

/** A source whose keys never change (flags read once at start-up). */
export function fixedKeySource(keys: readonly VerificationKey[]): KeySource {
  return { keys: () => keys, close: async () => {} };
}
