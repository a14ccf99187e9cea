import type { SecureVersion } from 'node:tls';
import { err, ok, type Result } from '../result.js';
import { VERIFYING_CLIENT_AUTH, versionRank, type ClientAuth } from './go-names.js';

/** A TLS listener's settings, from the `--tls-*` flags or a Prometheus web configuration file. */
export interface ServerTlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CAs client certificates are verified against. */
  readonly clientCaFile?: string;
  readonly clientAuth: ClientAuth;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** OpenSSL's list of TLS 1.2 suites; undefined: Node's defaults. */
  readonly ciphers?: string;
  /** OpenSSL's list of key-exchange groups; undefined: Node's defaults. */
  readonly curves?: string;
  /** The server's order of suites before the client's (Go's prefer_server_cipher_suites). */
  readonly honorCipherOrder: boolean;
  /** A client certificate must carry one of these SANs (DNS, email, IP or URI), or its connection is closed. */
  readonly clientAllowedSans?: readonly string[];
}

/** How the settings are spelled where they were written (flags or web configuration keys), for messages. */
export interface SettingNames {
  readonly clientCa: string;
  readonly clientAuth: string;
  readonly allowedSans: string;
  readonly versions: string;
}

/** The modes client_allowed_sans works in: those where every connection has a certificate to match. */
const ALWAYS_A_CERTIFICATE: ReadonlySet<ClientAuth> = new Set(['RequireAnyClientCert', 'RequireAndVerifyClientCert']);

/** What single settings cannot say wrong on their own. */
export function checkServerTls(settings: ServerTlsSettings, names: SettingNames): Result<ServerTlsSettings, string> {
  const { clientAuth, clientCaFile } = settings;
  if (clientCaFile !== undefined && clientAuth === 'NoClientCert') {
    return err(`${names.clientCa} is given but ${names.clientAuth} is NoClientCert: client certificates would never be asked for`);
  }
  // Go verifies against the system's public CAs when no client CA is given: anyone with a public certificate for a
  // user's name would then be that user.
  if (clientCaFile === undefined && VERIFYING_CLIENT_AUTH.has(clientAuth)) {
    return err(`${names.clientAuth} ${clientAuth} needs ${names.clientCa}: promgate never verifies client certificates against public CAs`);
  }
  if (settings.clientAllowedSans !== undefined && !ALWAYS_A_CERTIFICATE.has(clientAuth)) {
    return err(`${names.allowedSans} needs ${names.clientAuth} RequireAnyClientCert or RequireAndVerifyClientCert`);
  }
  if (versionRank(settings.minVersion) > versionRank(settings.maxVersion)) {
    return err(`${names.versions}: the minimum TLS version ${settings.minVersion} is above the maximum ${settings.maxVersion}`);
  }
  return ok(settings);
}
