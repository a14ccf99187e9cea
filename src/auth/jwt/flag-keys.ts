import { createPublicKey } from 'node:crypto';
import { err, ok, type Result } from '../../result.js';
import { algorithmsForPublicKey, HMAC_ALGORITHMS } from './algorithms.js';
import type { VerificationKey } from './keys.js';

/** The --jwt-secret (cortex-gateway's shared secret): HMAC only, for tokens with or without a `kid`. */
export function secretKey(secret: string): Result<VerificationKey, string> {
  if (secret.length === 0) return err('--jwt-secret is empty: an empty HMAC secret lets anyone sign tokens');
  return ok({ anyKid: true, algorithms: HMAC_ALGORITHMS, key: new TextEncoder().encode(secret), origin: '--jwt-secret' });
}

/**
 * A PEM public key or certificate (--jwt-public-key, Opstrace's data-API tokens).
 * A private key is refused: it must never be handed to the gateway.
 */
export function parsePublicKeyPem(text: string, file: string): Result<readonly VerificationKey[], string> {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return err(`${file} holds a private key; give the gateway the public key only (openssl pkey -in KEY -pubout)`);
  }
  let key;
  try {
    key = createPublicKey(text);
  } catch (e) {
    return err(`${file}: not a PEM public key or certificate: ${(e as Error).message}`);
  }
  const algorithms = algorithmsForPublicKey(key);
  if (typeof algorithms === 'string') return err(`${file}: ${algorithms}`);
  return ok([{ anyKid: true, algorithms, key, origin: file }]);
}
