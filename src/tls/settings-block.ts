import { CLIENT_AUTH_TYPES, cipherList, curveList, TLS_VERSION_NAMES, tlsVersion, type ClientAuth } from './go-names.js';
import { checkServerTls, type ServerTlsSettings } from './server-settings.js';
import type { ClientTlsSettings } from './upstream.js';

/**
 * A mapping of TLS settings as the file that holds it reads it (Prometheus's web configuration, a gateway file):
 * values by key, files made absolute against the file's directory, and refusals worded with where they stand.
 * Its reader has already refused keys outside the list it was given.
 */
export interface SettingsBlock {
  /** Absent or null: undefined; anything but a string is refused. */
  string(key: string): string | undefined;
  strings(key: string): string[] | undefined;
  bool(key: string): boolean | undefined;
  /** A file named under `key`, relative to the file's directory. */
  path(key: string): string | undefined;
  /** How `key` is named in messages (`tls_server_config.client_ca_file`, `server.tls.client_ca_file`). */
  name(key: string): string;
  /** Refuses the block (`key` undefined) or one of its keys. */
  fail(key: string | undefined, message: string): never;
}

/** Prometheus's tls_server_config keys (exporter-toolkit), those promgate honours. */
export const SERVER_TLS_KEYS = [
  'cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'client_allowed_sans',
  'min_version', 'max_version', 'cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites',
] as const;

/** Prometheus's tls_config keys (a scrape or remote-write client's), those promgate honours. */
export const CLIENT_TLS_KEYS = ['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify'] as const;

/**
 * A listener's TLS, with Prometheus's defaults (TLS 1.2 to 1.3, NoClientCert, the server's cipher order); undefined
 * when the block sets none of the certificate, key, client CAs or client auth type, as Prometheus leaves TLS off then.
 */
export function readServerTls(block: SettingsBlock): ServerTlsSettings | undefined {
  const certFile = block.path('cert_file');
  const keyFile = block.path('key_file');
  const clientCaFile = block.path('client_ca_file');
  const clientAuthName = block.string('client_auth_type');
  if (certFile === undefined && keyFile === undefined && clientCaFile === undefined && clientAuthName === undefined) return undefined;
  if (certFile === undefined) block.fail('cert_file', 'is required');
  if (keyFile === undefined) block.fail('key_file', 'is required');
  // RequireClientCert: the older name exporter-toolkit still takes.
  const clientAuth = clientAuthName === 'RequireClientCert' ? 'RequireAnyClientCert' : (clientAuthName ?? 'NoClientCert');
  if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(clientAuth)) block.fail('client_auth_type', `must be one of ${CLIENT_AUTH_TYPES.join(', ')}`);
  const version = (key: string, fallback: string) => {
    const name = block.string(key) ?? fallback;
    // Prometheus's names only: Cortex's VersionTLS12 is for the flags.
    if (name.startsWith('Version')) block.fail(key, `must be one of ${TLS_VERSION_NAMES.join(', ')}`);
    const parsed = tlsVersion(name);
    if (!parsed.ok) block.fail(key, parsed.error);
    return parsed.version;
  };
  const suites = block.strings('cipher_suites');
  const ciphers = suites === undefined ? undefined : cipherList(suites);
  if (ciphers?.ok === false) block.fail('cipher_suites', `unknown or insecure cipher suite ${JSON.stringify(ciphers.unknown)}`);
  const curveNames = block.strings('curve_preferences');
  const curves = curveNames === undefined ? undefined : curveList(curveNames);
  if (curves?.ok === false) block.fail('curve_preferences', `unknown curve ${JSON.stringify(curves.unknown)}`);
  const allowedSans = block.strings('client_allowed_sans');

  const settings: ServerTlsSettings = {
    certFile,
    keyFile,
    clientAuth: clientAuth as ClientAuth,
    minVersion: version('min_version', 'TLS12'),
    maxVersion: version('max_version', 'TLS13'),
    honorCipherOrder: block.bool('prefer_server_cipher_suites') !== false,
    ...(clientCaFile !== undefined && { clientCaFile }),
    ...(ciphers?.ok === true && ciphers.ciphers !== undefined && { ciphers: ciphers.ciphers }),
    ...(curves?.ok === true && { curves: curves.curves }),
    ...(allowedSans !== undefined && { clientAllowedSans: allowedSans }),
  };
  const checked = checkServerTls(settings, {
    clientCa: block.name('client_ca_file'),
    clientAuth: block.name('client_auth_type'),
    allowedSans: block.name('client_allowed_sans'),
    versions: block.name('min_version'),
  });
  if (!checked.ok) block.fail(undefined, checked.error);
  return checked.value;
}

/** An upstream's TLS, Prometheus's tls_config: CA, client certificate and key, server name, insecure_skip_verify. */
export function readClientTls(block: SettingsBlock): ClientTlsSettings {
  const caFile = block.path('ca_file');
  const certFile = block.path('cert_file');
  const keyFile = block.path('key_file');
  const serverName = block.string('server_name');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [missing, given] = certFile === undefined ? ['cert_file', 'key_file'] : ['key_file', 'cert_file'];
    block.fail(missing, `is required with ${given}`);
  }
  return {
    insecureSkipVerify: block.bool('insecure_skip_verify') ?? false,
    ...(caFile !== undefined && { caFile }),
    ...(certFile !== undefined && { certFile }),
    ...(keyFile !== undefined && { keyFile }),
    ...(serverName !== undefined && { serverName }),
  };
}
