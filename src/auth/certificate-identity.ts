import type { PeerCertificate } from 'node:tls';
import { subjectAltNames } from '../tls/subject-alt-names.js';

/** What of a client certificate names its user (`--mtls-identity`): the subject CN, or one kind of SAN. */
export const MTLS_IDENTITIES = ['cn', 'dns', 'uri', 'email'] as const;
export type MtlsIdentity = (typeof MTLS_IDENTITIES)[number];

const SAN_KINDS: Readonly<Record<Exclude<MtlsIdentity, 'cn'>, string>> = { dns: 'DNS', uri: 'URI', email: 'email' };

/**
 * Every name of the kind asked for that the certificate gives, as written (a subject may hold several CNs, a
 * certificate several SANs of a kind); undefined when its subjectAltName cannot be read. No name is normalised:
 * a user is named exactly, so that `Alice` or `alice.` never stands for `alice`.
 */
export function certificateNames(certificate: PeerCertificate, identity: MtlsIdentity): string[] | undefined {
  if (identity === 'cn') {
    // Node gives one CN as a string and several as an array, whatever its types say.
    const cn = (certificate.subject as { CN?: string | string[] } | undefined)?.CN;
    return cn === undefined ? [] : typeof cn === 'string' ? [cn] : [...cn];
  }
  const names = subjectAltNames(certificate.subjectaltname);
  return names?.filter((name) => name.kind === SAN_KINDS[identity]).map((name) => name.value);
}
