import type { RequestView } from '../../src/auth/types.js';

/** A request as authentication sees it, with these headers (lower-case names) and no TLS peer. */
export function viewOf(headers: Readonly<Record<string, string | undefined>>): RequestView {
  return { header: (name) => headers[name], peerCertificate: undefined, peerCertificateVerified: false, remoteAddress: '127.0.0.1' };
}
