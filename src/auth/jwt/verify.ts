import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { err, ok, type Result } from '../../result.js';
import type { KeyRing } from './keyring.js';
import type { VerificationKey } from './keys.js';
import type { AuthResult } from './metrics.js';

export interface VerifyOptions {
  readonly issuer?: string;
  readonly audience?: string;
  readonly requireExp: boolean;
  readonly leewaySeconds: number;
}

export interface Verified {
  readonly payload: JWTPayload;
  /** The key set the token was verified against (a cached result is only good for this set). */
  readonly keys: readonly VerificationKey[];
}

export interface VerifyFailure {
  readonly result: AuthResult;
  readonly reason: string;
}

// Three base64url parts and a signature: rules out JWE, `alg: none` style empty signatures and junk before any parsing.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const fail = (result: AuthResult, reason: string): Result<never, VerifyFailure> => err({ result, reason });

/** Verifies the signature with a key the token may use, then the standard claims. */
export async function verifyToken(token: string, ring: KeyRing, options: VerifyOptions): Promise<Result<Verified, VerifyFailure>> {
  if (!COMPACT_JWS.test(token)) return fail('malformed', 'not a signed compact JWT');
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch (e) {
    return fail('malformed', `bad JWT header: ${(e as Error).message}`);
  }
  const { alg, kid } = header as { alg?: unknown; kid?: unknown };
  if (typeof alg !== 'string') return fail('malformed', 'JWT header has no "alg"');
  if (kid !== undefined && typeof kid !== 'string') return fail('malformed', 'JWT header "kid" is not a string');

  let keys = ring.snapshot();
  if (kid !== undefined && !knowsKid(keys, kid) && ring.refreshable) {
    await ring.refreshForUnknownKid();
    keys = ring.snapshot();
  }
  const matching = keys.filter((k) => k.anyKid || k.kid === kid);
  if (matching.length === 0) {
    return fail('unknown_kid', kid === undefined ? 'token has no "kid" and no key accepts tokens without one' : `no key with kid ${JSON.stringify(kid)}`);
  }
  const usable = matching.filter((k) => k.algorithms.includes(alg));
  if (usable.length === 0) {
    return fail('bad_signature', `algorithm ${JSON.stringify(alg)} is not allowed for the key(s) this token may use`);
  }

  const verifyOptions = {
    clockTolerance: options.leewaySeconds,
    requiredClaims: options.requireExp ? ['exp'] : [],
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
  };
  const failures: string[] = [];
  for (const key of usable) {
    try {
      const { payload } = await jwtVerify(token, key.key, { ...verifyOptions, algorithms: [...key.algorithms] });
      return ok({ payload, keys });
    } catch (e) {
      // A bad signature (or a key jose refuses, e.g. RSA under 2048 bits) means: try the next key.
      // Anything else was found after the signature verified, so it is the answer.
      if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof TypeError) {
        failures.push(`${key.origin}: ${(e as Error).message}`);
        continue;
      }
      return fail(...classify(e));
    }
  }
  return fail('bad_signature', `signature verification failed (${failures.join('; ')})`);
}

function knowsKid(keys: readonly VerificationKey[], kid: string): boolean {
  return keys.some((k) => !k.anyKid && k.kid === kid);
}

function classify(e: unknown): [AuthResult, string] {
  if (e instanceof errors.JWTExpired) return ['expired', `token expired: ${e.message}`];
  if (e instanceof errors.JWTClaimValidationFailed) {
    return e.claim === 'nbf' ? ['not_yet_valid', `token not yet valid: ${e.message}`] : ['bad_claims', `claim "${e.claim}": ${e.message}`];
  }
  if (e instanceof errors.JOSEError) return ['malformed', `${e.code}: ${e.message}`];
  return ['malformed', (e as Error).message ?? String(e)];
}
