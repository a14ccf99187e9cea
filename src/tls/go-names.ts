import type { SecureVersion } from 'node:tls';

/**
 * The names Go's crypto/tls (and so Prometheus, Cortex and their web configuration files) gives its settings,
 * and what they are in Node's (OpenSSL's) terms.
 */

/** Go's tls.ClientAuthType names, weakest first. */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuth = (typeof CLIENT_AUTH_TYPES)[number];

/** The modes in which a certificate that reaches a request was verified against the client CAs. */
export const VERIFYING_CLIENT_AUTH: ReadonlySet<ClientAuth> = new Set(['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert']);

/**
 * Prometheus's `TLS12` and Cortex's `VersionTLS12` both name TLS 1.2. Go also takes TLS 1.0 and 1.1, which Node's
 * OpenSSL 3 refuses at its default security level whatever the minimum says: naming them is an error rather than
 * a setting that silently does nothing.
 */
const VERSIONS: Readonly<Record<string, SecureVersion>> = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
export const TLS_VERSION_NAMES = Object.keys(VERSIONS);
const RETIRED_VERSIONS = new Set(['TLS10', 'TLS11']);

/** The version a Go name gives, or why it gives none. */
export function tlsVersion(name: string): { ok: true; version: SecureVersion } | { ok: false; error: string } {
  const short = name.replace(/^Version/, '');
  if (Object.hasOwn(VERSIONS, short)) return { ok: true, version: VERSIONS[short]! };
  if (RETIRED_VERSIONS.has(short)) return { ok: false, error: 'TLS 1.0 and 1.1 are not served: OpenSSL 3 refuses them' };
  return { ok: false, error: `must be one of ${TLS_VERSION_NAMES.join(', ')}` };
}

/** Versions in order, to compare a minimum with a maximum. */
export const versionRank = (version: SecureVersion): number => ['TLSv1.2', 'TLSv1.3'].indexOf(version);

/**
 * Go's tls.CipherSuites() (its secure suites) for TLS 1.2 and below, as OpenSSL names them. Go's insecure ones
 * (RSA key exchange, 3DES, RC4, CBC with SHA-256) are not here: naming one is an error, as in Prometheus's current
 * exporter-toolkit.
 */
const TLS12_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

/** TLS 1.3's suites: Go takes their names and ignores them (TLS 1.3 suites are not configurable there), so does promgate. */
const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/** The OpenSSL cipher list for Go suite names, or the first name that is not one. */
export function cipherList(names: readonly string[]): { ok: true; ciphers: string | undefined } | { ok: false; unknown: string } {
  const openssl: string[] = [];
  for (const name of names) {
    if (TLS13_SUITES.has(name)) continue;
    if (!Object.hasOwn(TLS12_SUITES, name)) return { ok: false, unknown: name };
    openssl.push(TLS12_SUITES[name]!);
  }
  // Only TLS 1.3 names: TLS 1.2 keeps its defaults, as Go's would.
  return { ok: true, ciphers: openssl.length === 0 ? undefined : openssl.join(':') };
}

const CURVES: Readonly<Record<string, string>> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

/** Node's `ecdhCurve` for Go curve names, or the first name that is not one. */
export function curveList(names: readonly string[]): { ok: true; curves: string } | { ok: false; unknown: string } {
  const unknown = names.find((name) => !Object.hasOwn(CURVES, name));
  return unknown === undefined ? { ok: true, curves: names.map((name) => CURVES[name]!).join(':') } : { ok: false, unknown };
}
