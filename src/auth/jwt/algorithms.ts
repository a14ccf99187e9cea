import type { KeyObject } from 'node:crypto';

// Which JWS algorithms a key may verify is decided by the key's own type, never by the token:
// that is what stops HS/RS confusion (an RSA public key used as an HMAC secret) and `alg: none`.
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
const EC_ALGORITHMS: Readonly<Record<string, string>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
// Node names curves by their OpenSSL names in asymmetricKeyDetails.
const NODE_CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const ED25519_ALGORITHMS = ['EdDSA', 'Ed25519'] as const;

/** The algorithms an asymmetric key can verify, or a reason it cannot be used. */
export function algorithmsForPublicKey(key: KeyObject): readonly string[] | string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      // jose refuses shorter RSA keys at verification; better to say so when the key is loaded.
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) return `RSA key of ${bits} bits: 2048 or more are required`;
      return key.asymmetricKeyType === 'rsa' ? RSA_ALGORITHMS : ['PS256', 'PS384', 'PS512'];
    }
    case 'ec': {
      const curve = NODE_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
      const alg = curve === undefined ? undefined : EC_ALGORITHMS[curve];
      return alg === undefined ? `unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve ?? '(unknown)'}` : [alg];
    }
    case 'ed25519':
      return ED25519_ALGORITHMS;
    default:
      return `unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}`;
  }
}

/**
 * Narrows a key's algorithms to the one its JWK `alg` names, when it names one.
 * An `alg` outside the key's own family (say RS256 on an `oct` key) makes the key unusable rather than widening it.
 */
export function restrictToDeclared(family: readonly string[], declared: unknown): readonly string[] | string {
  if (declared === undefined) return family;
  if (typeof declared !== 'string') return '"alg" is not a string';
  return family.includes(declared) ? [declared] : `"alg" ${declared} does not fit a key of this type`;
}
