import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { parseDuration } from '../../duration.js';
import { err, ok, type Result } from '../../result.js';
import { algorithmsForPublicKey, HMAC_ALGORITHMS, restrictToDeclared } from './algorithms.js';
import { readJwksKeys } from './jwks.js';

/** A key to sign with and the algorithm it signs with (checked against the key's type). */
export interface SigningKey {
  readonly key: KeyObject | Uint8Array;
  readonly alg: string;
  readonly kid?: string;
}

/** The claims `promgate token` puts in a token: k8spin's, cortex-gateway's and the registered ones. */
export interface TokenClaims {
  readonly namespaces: readonly string[];
  readonly labels: Readonly<Record<string, readonly string[]>>;
  readonly tenantId?: string;
  readonly audience?: string;
  readonly issuer?: string;
  readonly subject?: string;
  readonly version?: number;
  /** Seconds from now; undefined for a token that never expires. */
  readonly expiresInSeconds?: number;
}

function pickAlgorithm(allowed: readonly string[], requested: string | undefined, what: string): Result<string, string> {
  if (requested === undefined) return ok(allowed[0]!);
  return allowed.includes(requested) ? ok(requested) : err(`--algorithm ${requested} cannot sign with ${what} (use one of ${allowed.join(', ')})`);
}

function withKid(key: KeyObject | Uint8Array, alg: Result<string, string>, kid: string | undefined): Result<SigningKey, string> {
  if (!alg.ok) return alg;
  return ok({ key, alg: alg.value, ...(kid !== undefined && { kid }) });
}

export function signingKeyFromSecret(secret: string, algorithm?: string, kid?: string): Result<SigningKey, string> {
  if (secret === '') return err('--secret must not be empty');
  return withKid(new TextEncoder().encode(secret), pickAlgorithm(HMAC_ALGORITHMS, algorithm, 'an HMAC secret'), kid);
}

export function signingKeyFromPem(text: string, file: string, algorithm?: string, kid?: string): Result<SigningKey, string> {
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (e) {
    return err(`${file}: not a PEM private key: ${(e as Error).message}`);
  }
  const family = algorithmsForPublicKey(createPublicKey(key));
  if (typeof family === 'string') return err(`${file}: ${family}`);
  return withKid(key, pickAlgorithm(family, algorithm, `a ${key.asymmetricKeyType} key`), kid);
}

/** The key named `kid` in a JWKS that holds private parts (k8spin's example JWKS does). */
export function signingKeyFromJwks(text: string, file: string, kid: string, algorithm?: string): Result<SigningKey, string> {
  const keys = readJwksKeys(text, file);
  if (!keys.ok) return keys;
  const jwk = keys.value.find((k): k is Record<string, unknown> => typeof k === 'object' && k !== null && (k as { kid?: unknown }).kid === kid);
  if (jwk === undefined) return err(`${file}: no key with kid ${JSON.stringify(kid)}`);

  if (jwk.kty === 'oct') {
    if (typeof jwk.k !== 'string' || jwk.k === '') return err(`${file}: key ${kid} has no "k"`);
    const family = restrictToDeclared(HMAC_ALGORITHMS, jwk.alg);
    if (typeof family === 'string') return err(`${file}: key ${kid}: ${family}`);
    return withKid(new Uint8Array(Buffer.from(jwk.k, 'base64url')), pickAlgorithm(family, algorithm, `key ${kid}`), kid);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (e) {
    return err(`${file}: key ${kid} is not a private key (a JWKS for signing needs the private parts): ${(e as Error).message}`);
  }
  const family = algorithmsForPublicKey(createPublicKey(key));
  if (typeof family === 'string') return err(`${file}: key ${kid}: ${family}`);
  const allowed = restrictToDeclared(family, jwk.alg);
  if (typeof allowed === 'string') return err(`${file}: key ${kid}: ${allowed}`);
  return withKid(key, pickAlgorithm(allowed, algorithm, `key ${kid}`), kid);
}

/** Signs the claims; labels are always lists, the shape k8spin's proxy reads. */
export async function mintToken(claims: TokenClaims, signer: SigningKey, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  const payload: Record<string, unknown> = {};
  if (claims.namespaces.length > 0) payload.namespaces = [...claims.namespaces];
  if (Object.keys(claims.labels).length > 0) payload.labels = claims.labels;
  if (claims.tenantId !== undefined) payload.tenant_id = claims.tenantId;
  if (claims.version !== undefined) payload.version = claims.version;
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: signer.alg, typ: 'JWT', ...(signer.kid !== undefined && { kid: signer.kid }) })
    .setIssuedAt(nowSeconds);
  if (claims.issuer !== undefined) jwt.setIssuer(claims.issuer);
  if (claims.audience !== undefined) jwt.setAudience(claims.audience);
  if (claims.subject !== undefined) jwt.setSubject(claims.subject);
  if (claims.expiresInSeconds !== undefined) jwt.setExpirationTime(nowSeconds + claims.expiresInSeconds);
  return jwt.sign(signer.key);
}

/** `30d`, `12h`, `1h30m`, `2w`, a plain number of seconds, or `none` (undefined: the token never expires). */
export function parseExpiresIn(text: string): Result<number | undefined, string> {
  const value = text.trim().toLowerCase();
  if (value === 'none' || value === 'never') return ok(undefined);
  const ms = parseDuration(value);
  if (!ms.ok) return err(`--expires-in: ${ms.error}, or none`);
  const seconds = ms.value / 1000;
  return seconds >= 1 && Number.isSafeInteger(seconds)
    ? ok(seconds)
    : err(`--expires-in ${JSON.stringify(text)} must be a whole number of seconds, at least 1`);
}
