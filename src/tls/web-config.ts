import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { err, ok, type Result } from '../result.js';
import { CLIENT_AUTH_TYPES, cipherList, curveList, TLS_VERSION_NAMES, tlsVersion, type ClientAuth } from './go-names.js';
import { checkServerTls, type ServerTlsSettings } from './server-settings.js';

export interface WebConfig {
  /** Undefined when the file configures no TLS: the listener then serves plain HTTP, as Prometheus's does. */
  readonly tls: ServerTlsSettings | undefined;
  /** Settings that loaded but mean nothing to promgate; for the log. */
  readonly warnings: readonly string[];
}

const TLS_KEYS = new Set([
  'cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'client_allowed_sans',
  'min_version', 'max_version', 'cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites',
]);

/** Keys of Prometheus's file that promgate does not take, and why; any other unknown key is an error too, as in Prometheus. */
const REFUSED: Readonly<Record<string, string>> = {
  basic_auth_users: "promgate's users come from --auth-config",
  rate_limit: 'promgate does not rate-limit',
  'tls_server_config.cert': 'give the certificate as cert_file',
  'tls_server_config.key': 'give the key as key_file',
  'tls_server_config.client_ca': 'give the client CAs as client_ca_file',
  'http_server_config.headers': 'promgate does not add response headers',
};

const NAMES = {
  clientCa: 'tls_server_config.client_ca_file',
  clientAuth: 'tls_server_config.client_auth_type',
  allowedSans: 'tls_server_config.client_allowed_sans',
  versions: 'tls_server_config.min_version',
};

class WebConfigError extends Error {}

/** Reads a Prometheus web configuration file (`--web.config.file`): its `tls_server_config`. */
export async function readWebConfig(file: string): Promise<Result<WebConfig, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return err(`cannot read the web configuration file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseWebConfig(text, file);
}

/**
 * Prometheus's format (exporter-toolkit), read as strictly as Prometheus reads it: an unknown key is an error, and
 * so is a key promgate cannot honour. Files are relative to the configuration file's directory. Defaults as in
 * Prometheus: TLS 1.2 to 1.3, NoClientCert, the server's cipher order.
 */
export function parseWebConfig(text: string, file: string): Result<WebConfig, string> {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    return err(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return ok(new Reader(file).read(doc));
  } catch (error) {
    if (error instanceof WebConfigError) return err(error.message);
    throw error;
  }
}

class Reader {
  private readonly warnings: string[] = [];

  constructor(private readonly file: string) {}

  read(doc: unknown): WebConfig {
    if (doc === null || doc === undefined) return { tls: undefined, warnings: [] };
    const root = this.mapping(doc, '');
    this.known(root, '', new Set(['tls_server_config', 'http_server_config']));
    const http = root.http_server_config === undefined || root.http_server_config === null ? {} : this.mapping(root.http_server_config, 'http_server_config');
    this.known(http, 'http_server_config', new Set(['http2']));
    if (http.http2 !== undefined && http.http2 !== null) {
      if (typeof http.http2 !== 'boolean') this.fail('http_server_config.http2', 'must be true or false');
      if (http.http2) this.warnings.push(`${this.file}: http_server_config.http2 ignored: promgate serves HTTP/1.1`);
    }
    const tls = root.tls_server_config;
    if (tls === undefined || tls === null) return { tls: undefined, warnings: this.warnings };
    return { tls: this.tls(this.mapping(tls, 'tls_server_config')), warnings: this.warnings };
  }

  private tls(config: Record<string, unknown>): ServerTlsSettings | undefined {
    this.known(config, 'tls_server_config', TLS_KEYS);
    const at = (key: string) => `tls_server_config.${key}`;
    const certFile = this.path(config.cert_file, at('cert_file'));
    const keyFile = this.path(config.key_file, at('key_file'));
    const clientCaFile = this.path(config.client_ca_file, at('client_ca_file'));
    const clientAuthName = this.string(config.client_auth_type, at('client_auth_type'));
    // Prometheus's TLS is on when any of these is set (exporter-toolkit's IsEnabled).
    if (certFile === undefined && keyFile === undefined && clientCaFile === undefined && clientAuthName === undefined) return undefined;
    if (certFile === undefined) this.fail(at('cert_file'), 'is required');
    if (keyFile === undefined) this.fail(at('key_file'), 'is required');
    // RequireClientCert: the older name exporter-toolkit still takes.
    const clientAuth = clientAuthName === 'RequireClientCert' ? 'RequireAnyClientCert' : (clientAuthName ?? 'NoClientCert');
    if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(clientAuth)) {
      this.fail(at('client_auth_type'), `must be one of ${CLIENT_AUTH_TYPES.join(', ')}`);
    }
    const version = (key: string, fallback: string) => {
      const name = this.string(config[key], at(key)) ?? fallback;
      const parsed = tlsVersion(name);
      if (parsed === undefined || name.startsWith('Version')) this.fail(at(key), `must be one of ${TLS_VERSION_NAMES.join(', ')}`);
      return parsed!;
    };
    const suites = this.strings(config.cipher_suites, at('cipher_suites'));
    const ciphers = suites === undefined ? undefined : cipherList(suites);
    if (ciphers !== undefined && !ciphers.ok) this.fail(at('cipher_suites'), `unknown or insecure cipher suite ${JSON.stringify(ciphers.unknown)}`);
    const curveNames = this.strings(config.curve_preferences, at('curve_preferences'));
    const curves = curveNames === undefined ? undefined : curveList(curveNames);
    if (curves !== undefined && !curves.ok) this.fail(at('curve_preferences'), `unknown curve ${JSON.stringify(curves.unknown)}`);
    const prefer = config.prefer_server_cipher_suites;
    if (prefer !== undefined && prefer !== null && typeof prefer !== 'boolean') this.fail(at('prefer_server_cipher_suites'), 'must be true or false');
    const allowedSans = this.strings(config.client_allowed_sans, at('client_allowed_sans'));

    const settings: ServerTlsSettings = {
      certFile: certFile!,
      keyFile: keyFile!,
      clientAuth: clientAuth as ClientAuth,
      minVersion: version('min_version', 'TLS12'),
      maxVersion: version('max_version', 'TLS13'),
      honorCipherOrder: prefer !== false,
      ...(clientCaFile !== undefined && { clientCaFile }),
      ...(ciphers?.ok === true && ciphers.ciphers !== undefined && { ciphers: ciphers.ciphers }),
      ...(curves?.ok === true && { curves: curves.curves }),
      ...(allowedSans !== undefined && { clientAllowedSans: allowedSans }),
    };
    const checked = checkServerTls(settings, NAMES);
    if (!checked.ok) throw new WebConfigError(`${this.file}: ${checked.error}`);
    return checked.value;
  }

  private known(map: Record<string, unknown>, at: string, keys: ReadonlySet<string>): void {
    for (const key of Object.keys(map)) {
      const path = at === '' ? key : `${at}.${key}`;
      const refused = REFUSED[path];
      if (refused !== undefined) this.fail(path, `not supported: ${refused}`);
      if (!keys.has(key)) this.fail(path, 'unknown field');
    }
  }

  private mapping(value: unknown, at: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(at, 'must be a mapping');
    return value as Record<string, unknown>;
  }

  private string(value: unknown, at: string): string | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') this.fail(at, 'must be a string');
    return value as string;
  }

  private strings(value: unknown, at: string): string[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string' && item !== '')) {
      this.fail(at, 'must be a list of strings');
    }
    return value as string[];
  }

  /** A file named in the configuration, relative to the configuration's own directory. */
  private path(value: unknown, at: string): string | undefined {
    const name = this.string(value, at);
    if (name === undefined) return undefined;
    return isAbsolute(name) ? name : join(dirname(this.file), name);
  }

  private fail(at: string, message: string): never {
    throw new WebConfigError(`${this.file}: ${at === '' ? '' : `${at}: `}${message}`);
  }
}
