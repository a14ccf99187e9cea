import { InvalidArgumentError, Option, type Command } from 'commander';
import { err, ok, type Result } from '../result.js';
import type { SecureVersion } from 'node:tls';
import { CLIENT_AUTH_TYPES, tlsVersion, type ClientAuth } from '../tls/go-names.js';
import { checkServerTls, type ServerTlsSettings } from '../tls/server-settings.js';
import type { ClientTlsSettings } from '../tls/upstream.js';
import { bool, env, oneOf } from './flag-values.js';

/** Where the main listener's TLS comes from: the `--tls-*` flags, or a Prometheus web configuration file. */
export type ListenerTlsSource =
  | { readonly from: 'flags'; readonly settings: ServerTlsSettings }
  | { readonly from: 'web-config'; readonly file: string };

export interface TlsRunOptions {
  /** Undefined: the main listener serves plain HTTP. */
  listenerTls?: ListenerTlsSource;
  /** Undefined: the upstream is reached with the system's CAs (https) or in plain HTTP. */
  prometheusTls?: ClientTlsSettings;
}

function tlsVersionFlag(value: string): SecureVersion {
  const version = tlsVersion(value);
  if (!version.ok) throw new InvalidArgumentError(`${version.error} (Cortex's VersionTLS12 and VersionTLS13 are taken too).`);
  return version.version;
}

/** The flags of TLS: the main listener's (Cortex's names and Prometheus's web configuration file), and the upstream's. */
export const tlsOptions = (): Option[] => [
  new Option('--tls-cert-file <file>', 'serve HTTPS with this PEM certificate (chain)').env(env('TLS_CERT_FILE')),
  new Option('--tls-key-file <file>', 'the PEM key of --tls-cert-file').env(env('TLS_KEY_FILE')),
  new Option('--tls-client-ca-file <file>', 'PEM CAs client certificates are verified against').env(env('TLS_CLIENT_CA_FILE')),
  new Option('--tls-min-version <version>', 'lowest TLS version accepted').env(env('TLS_MIN_VERSION')).default('TLSv1.2', 'TLS12').argParser(tlsVersionFlag),
  new Option('--tls-client-auth <type>', "client certificates: Go's client auth type")
    .env(env('TLS_CLIENT_AUTH'))
    .default('NoClientCert')
    .argParser(oneOf(CLIENT_AUTH_TYPES)),
  new Option('--web.config.file <file>', "Prometheus's web configuration file: its tls_server_config (instead of the --tls-* flags)").env(
    env('WEB_CONFIG_FILE'),
  ),
  new Option('--prometheus-ca-file <file>', "PEM CAs the upstream's certificate is verified against (instead of the system's)").env(
    env('PROMETHEUS_CA_FILE'),
  ),
  new Option('--prometheus-cert-file <file>', 'PEM client certificate promgate shows the upstream (mTLS)').env(env('PROMETHEUS_CERT_FILE')),
  new Option('--prometheus-key-file <file>', 'the PEM key of --prometheus-cert-file').env(env('PROMETHEUS_KEY_FILE')),
  new Option('--prometheus-server-name <name>', "the name the upstream's certificate must carry (default: the endpoint's host)").env(
    env('PROMETHEUS_SERVER_NAME'),
  ),
  new Option('--prometheus-insecure-skip-verify [bool]', "take any certificate from the upstream (tests only)")
    .env(env('PROMETHEUS_INSECURE_SKIP_VERIFY'))
    .preset(true)
    .default(false)
    .argParser(bool),
];

interface RawTlsOptions {
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsClientCaFile?: string;
  tlsMinVersion: SecureVersion;
  tlsClientAuth: ClientAuth;
  'web.config.file'?: string;
  prometheusCaFile?: string;
  prometheusCertFile?: string;
  prometheusKeyFile?: string;
  prometheusServerName?: string;
  prometheusInsecureSkipVerify: boolean;
}

const FLAG_NAMES = {
  clientCa: '--tls-client-ca-file',
  clientAuth: '--tls-client-auth',
  allowedSans: 'client_allowed_sans',
  versions: '--tls-min-version',
};

/** Checks the TLS flags together, and shapes them. */
export function toTlsRunOptions(command: Command, endpoint: URL): Result<TlsRunOptions, string> {
  const raw = command.opts<RawTlsOptions>();
  const given = (attribute: keyof RawTlsOptions) => {
    const source = command.getOptionValueSource(attribute);
    return source !== undefined && source !== 'default';
  };
  const listenerFlags = (['tlsCertFile', 'tlsKeyFile', 'tlsClientCaFile', 'tlsMinVersion', 'tlsClientAuth'] as const).filter(given);
  const options: TlsRunOptions = {};

  const webConfig = raw['web.config.file'];
  if (webConfig !== undefined) {
    if (listenerFlags.length > 0) return err('--web.config.file and the --tls-* flags cannot be given together');
    options.listenerTls = { from: 'web-config', file: webConfig };
  } else if (listenerFlags.length > 0) {
    if (raw.tlsCertFile === undefined || raw.tlsKeyFile === undefined) return err('TLS needs both --tls-cert-file and --tls-key-file');
    const settings = checkServerTls(
      {
        certFile: raw.tlsCertFile,
        keyFile: raw.tlsKeyFile,
        clientAuth: raw.tlsClientAuth,
        minVersion: raw.tlsMinVersion,
        maxVersion: 'TLSv1.3',
        honorCipherOrder: true,
        ...(raw.tlsClientCaFile !== undefined && { clientCaFile: raw.tlsClientCaFile }),
      },
      FLAG_NAMES,
    );
    if (!settings.ok) return settings;
    options.listenerTls = { from: 'flags', settings: settings.value };
  }

  const upstreamFlags = (['prometheusCaFile', 'prometheusCertFile', 'prometheusKeyFile', 'prometheusServerName', 'prometheusInsecureSkipVerify'] as const).filter(given);
  if (upstreamFlags.length > 0) {
    if (endpoint.protocol !== 'https:') return err('the --prometheus-*-file, --prometheus-server-name and --prometheus-insecure-skip-verify flags need an https --prometheus-endpoint');
    if ((raw.prometheusCertFile === undefined) !== (raw.prometheusKeyFile === undefined)) {
      return err('a client certificate needs both --prometheus-cert-file and --prometheus-key-file');
    }
    options.prometheusTls = {
      insecureSkipVerify: raw.prometheusInsecureSkipVerify,
      ...(raw.prometheusCaFile !== undefined && { caFile: raw.prometheusCaFile }),
      ...(raw.prometheusCertFile !== undefined && { certFile: raw.prometheusCertFile }),
      ...(raw.prometheusKeyFile !== undefined && { keyFile: raw.prometheusKeyFile }),
      ...(raw.prometheusServerName !== undefined && { serverName: raw.prometheusServerName }),
    };
  }
  return ok(options);
}
