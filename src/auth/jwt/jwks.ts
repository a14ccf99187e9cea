import { createPublicKey } from 'node:crypto';
import { err, ok, type Result } from '../../result.js';
import { algorithmsForPublicKey, HMAC_ALGORITHMS, restrictToDeclared } from './algorithms.js';
import type { VerificationKey } from './keys.js';

/** What parsing a JWKS gives: the usable keys, and why each other key was left out. */
export interface ParsedJwks {
  readonly keys: readonly VerificationKey[];
  readonly skipped: readonly string[];
}

// base64url, tolerating the `=` padding some generators (k8spin's example among them) leave on `k`.
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** The `keys` array of JWKS JSON text: invalid JSON, or no `keys` array, is an error. */
export function readJwksKeys(text: string, origin: string): Result<readonly unknown[], string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return err(`${origin}: not valid JSON: ${(e as Error).message}`);
  }
  return jwksKeys(doc, origin);
}

function jwksKeys(doc: unknown, origin: string): Result<readonly unknown[], string> {
  const keys = typeof doc === 'object' && doc !== null ? (doc as { keys?: unknown }).keys : undefined;
  return Array.isArray(keys) ? ok(keys) : err(`${origin}: not a JWKS (expected an object with a "keys" array)`);
}

/** Parses JWKS JSON text. Invalid JSON or a missing `keys` array is an error; a single bad key is skipped and named. */
export function parseJwksText(text: string, origin: string): Result<ParsedJwks, string> {
  const keys = readJwksKeys(text, origin);
  return keys.ok ? usableKeys(keys.value, origin) : keys;
}

export function parseJwks(doc: unknown, origin: string): Result<ParsedJwks, string> {
  const keys = jwksKeys(doc, origin);
  return keys.ok ? usableKeys(keys.value, origin) : keys;
}

function usableKeys(jwks: readonly unknown[], origin: string): Result<ParsedJwks, string> {
  const keys: VerificationKey[] = [];
  const skipped: string[] = [];
  jwks.forEach((jwk, index) => {
    const key = jwkToVerificationKey(jwk, origin);
    if (typeof key === 'string') skipped.push(`key #${index}${kidOf(jwk)}: ${key}`);
    else keys.push(key);
  });
  return ok({ keys, skipped });
}

function kidOf(jwk: unknown): string {
  const kid = typeof jwk === 'object' && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
  return typeof kid === 'string' ? ` (kid ${JSON.stringify(kid)})` : '';
}

/** One JWK to a verification key, using only its public members; a string says why it cannot be used. */
function jwkToVerificationKey(jwk: unknown, origin: string): VerificationKey | string {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'not an object';
  const j = jwk as Record<string, unknown>;
  if (j.kid !== undefined && typeof j.kid !== 'string') return '"kid" is not a string';
  if (j.use !== undefined && j.use !== 'sig') return `"use" is ${JSON.stringify(j.use)}, not "sig"`;
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes('verify'))) return '"key_ops" does not allow "verify"';
  const kid = j.kid as string | undefined;
  const where = `${origin}${kid === undefined ? '' : ` kid ${kid}`}`;

  if (j.kty === 'oct') {
    if (typeof j.k !== 'string' || !BASE64URL.test(j.k)) return '"k" is missing or not base64url';
    const secret = new Uint8Array(Buffer.from(j.k, 'base64url'));
    if (secret.length === 0) return '"k" is empty';
    const algorithms = restrictToDeclared(HMAC_ALGORITHMS, j.alg);
    if (typeof algorithms === 'string') return algorithms;
    return { kid, anyKid: false, algorithms, key: secret, origin: where };
  }

  const publicMembers = publicJwk(j);
  if (typeof publicMembers === 'string') return publicMembers;
  let key;
  try {
    key = createPublicKey({ key: publicMembers, format: 'jwk' });
  } catch (e) {
    return `not a valid ${String(j.kty)} key: ${(e as Error).message}`;
  }
  const family = algorithmsForPublicKey(key);
  if (typeof family === 'string') return family;
  const algorithms = restrictToDeclared(family, j.alg);
  if (typeof algorithms === 'string') return algorithms;
  return { kid, anyKid: false, algorithms, key, origin: where };
}

// Private members (d, p, q, ...) that a JWKS may carry, as k8spin's example does, never reach the verifier.
function publicJwk(j: Record<string, unknown>): { kty: string; [member: string]: string } | string {
  const pick = (kty: string, names: string[]): { kty: string; [member: string]: string } | string => {
    const out: { kty: string; [member: string]: string } = { kty };
    for (const name of names) {
      const value = j[name];
      if (typeof value !== 'string') return `"${name}" is missing or not a string`;
      out[name] = value;
    }
    return out;
  };
  switch (j.kty) {
    case 'RSA':
      return pick('RSA', ['n', 'e']);
    case 'EC':
      return pick('EC', ['crv', 'x', 'y']);
    case 'OKP':
      return pick('OKP', ['crv', 'x']);
    default:
      return `unsupported "kty" ${JSON.stringify(j.kty)}`;
  }
}
