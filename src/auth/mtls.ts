import { certificateNames, type MtlsIdentity } from './certificate-identity.js';
import { entryPrincipal } from './entry-principal.js';
import type { AuthOutcome, Authenticator, Principal, RequestView } from './types.js';
import type { UserEntry } from './users-file.js';

export interface MtlsOptions {
  readonly identity: MtlsIdentity;
  readonly namespaceLabel: string;
}

/** What a certificate naming a user gets: undefined for a user granted nothing (403). */
type CertificateUsers = ReadonlyMap<string, { readonly principal: Principal | undefined }>;

/**
 * Client-certificate authentication. The TLS handshake has verified the certificate against the listener's
 * client CAs (an expired or foreign one never gets here); the name it gives, its subject CN or one kind of SAN
 * (`--mtls-identity`), is a user of the users file, who gets their entry's namespaces, labels and tenant. Of a
 * name's entries, the first without a password (certificate-only) decides, else the first. No certificate: absent,
 * so that the next authenticator of a chain decides. A certificate that names no user, or several, gets 401.
 *
 * `entries()` is read at each request's start and must give the same array until the users change.
 */
export function createMtlsAuthenticator(entries: () => readonly UserEntry[], options: MtlsOptions): Authenticator {
  let last: { entries: readonly UserEntry[]; users: CertificateUsers } | undefined;
  const current = (): CertificateUsers => {
    const now = entries();
    if (last?.entries !== now) last = { entries: now, users: indexUsers(now, options.namespaceLabel) };
    return last.users;
  };

  const authenticate = (request: RequestView): AuthOutcome => {
    const certificate = request.peerCertificate;
    if (certificate === undefined) return { ok: false, status: 401, absent: true, reason: 'no client certificate' };
    // Only a listener that verifies certificates may name users by them; this is checked at start-up too.
    if (!request.peerCertificateVerified) return refuse(401, 'client certificate not verified by the handshake');
    const names = certificateNames(certificate, options.identity);
    if (names === undefined) return refuse(401, 'client certificate subjectAltName unreadable');
    const users = current();
    const named = [...new Set(names.filter((name) => users.has(name)))];
    if (named.length === 0) return refuse(401, `client certificate names no user (${options.identity}: ${JSON.stringify(names.slice(0, 4))})`);
    if (named.length > 1) return refuse(401, `client certificate names several users (${JSON.stringify(named)})`);
    const principal = users.get(named[0]!)!.principal;
    if (principal === undefined) return refuse(403, `${JSON.stringify(named[0])} has no namespace, no labels and no tenant`);
    return { ok: true, principal };
  };

  return { authenticate, close: () => Promise.resolve() };
}

function indexUsers(entries: readonly UserEntry[], namespaceLabel: string): CertificateUsers {
  const users = new Map<string, { principal: Principal | undefined }>();
  const certificateOnly = new Set<string>();
  for (const entry of entries) {
    const onlyCertificate = entry.password === undefined;
    if (users.has(entry.username) && (certificateOnly.has(entry.username) || !onlyCertificate)) continue;
    users.set(entry.username, { principal: entryPrincipal(entry, namespaceLabel) });
    if (onlyCertificate) certificateOnly.add(entry.username);
  }
  return users;
}

function refuse(status: 401 | 403, reason: string): AuthOutcome {
  return { ok: false, status, reason };
}
