import type { ServerResponse } from 'node:http';
import { errors } from 'undici';
import { BodyTooLarge } from '../http/body.js';
import { sendError } from '../http/errors.js';
import type { UpstreamFailure } from '../observability/metrics.js';

/** A bound of promgate's own on an upstream exchange ran out (a component's whole-exchange or write timeout). */
export class UpstreamTimeout extends Error {}

/** What went wrong when the upstream gave no (complete) answer. */
export function upstreamFailure(error: unknown): UpstreamFailure {
  if (
    error instanceof UpstreamTimeout ||
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return 'timeout';
  }
  return 'unavailable';
}

/**
 * The one answer to an upstream call that failed before its answer began: 504 when the upstream was too slow,
 * 502 when it could not be reached or broke off, and 413 when the body streamed to it outgrew its limit (the
 * failure is then the caller's, and the metrics' kind says 'unavailable' only for the upstream's). Returns the
 * failure, for the metrics, and the bytes sent.
 */
export function answerUpstreamFailure(res: ServerResponse, error: unknown): { failure: UpstreamFailure | undefined; bytes: number } {
  if (error instanceof BodyTooLarge) {
    return { failure: undefined, bytes: sendError(res, 413, 'bad_data', error.message, { connection: 'close' }) };
  }
  const failure = upstreamFailure(error);
  const message = tlsFailure(error) ?? (error instanceof Error ? error.message : String(error));
  const bytes =
    failure === 'timeout'
      ? sendError(res, 504, 'timeout', 'the upstream did not answer in time')
      : sendError(res, 502, 'unavailable', `the upstream is unavailable: ${message}`);
  return { failure, bytes };
}

// Node's codes for a certificate it cannot verify, by what an operator has to fix.
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
]);
const TLS_REASONS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: "the upstream's certificate has expired",
  CERT_NOT_YET_VALID: "the upstream's certificate is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "the upstream's certificate does not name the host asked for",
  ERR_SSL_WRONG_VERSION_NUMBER: 'the upstream does not speak TLS',
};
// The alerts a server sends when it will not take the client certificate (or the lack of one): Go sends
// bad_certificate, OpenSSL certificate_required or unknown_ca.
const CLIENT_CERTIFICATE_ALERT = /^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|CERTIFICATE_|UNKNOWN_CA|UNSUPPORTED_CERTIFICATE)/;

function tlsReason(code: string): string | undefined {
  if (UNTRUSTED.has(code)) return "the upstream's certificate is not signed by a trusted CA";
  if (Object.hasOwn(TLS_REASONS, code)) return TLS_REASONS[code];
  if (CLIENT_CERTIFICATE_ALERT.test(code)) return "the upstream refused promgate's client certificate (or its lack of one)";
  return code.startsWith('ERR_SSL_') ? 'the TLS handshake with the upstream failed' : undefined;
}

/**
 * What failed in a TLS handshake with the upstream, in words an operator can act on (unknown CA, name mismatch,
 * expiry, promgate's client certificate refused), with Node's code and its words; undefined for any other error.
 */
export function tlsFailure(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const { code, reason } = e as NodeJS.ErrnoException & { reason?: string };
    const words = code === undefined ? undefined : tlsReason(code);
    if (words !== undefined) return `TLS: ${words} (${code}: ${reason ?? e.message.trim()})`;
  }
  return undefined;
}
