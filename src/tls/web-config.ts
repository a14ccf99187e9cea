import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { err, ok, type Result } from '../result.js';
import type { ServerTlsSettings } from './server-settings.js';
import { readServerTls, SERVER_TLS_KEYS, type SettingsBlock } from './settings-block.js';

export interface WebConfig {
  /** Undefined when the file configures no TLS: the listener then serves plain HTTP, as Prometheus's does. */
  readonly tls: ServerTlsSettings | undefined;
  /** Settings that loaded but mean nothing to promgate; for the log. */
  readonly warnings: readonly string[];
}

/** Keys of Prometheus's file that promgate does not take, and why; any other unknown key is an error too, as in Prometheus. */
const REFUSED: Readonly<Record<string, string>> = {
  basic_auth_users: "promgate's users come from --auth-config",
  rate_limit: 'promgate does not rate-limit',
  'tls_server_config.cert': 'give the certificate as cert_file',
  'tls_server_config.key': 'give the key as key_file',
  'tls_server_config.client_ca': 'give the client CAs as client_ca_file',
  'http_server_config.headers': 'promgate does not add response headers',
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
    this.known(root, '', ['tls_server_config', 'http_server_config']);
    const http = root.http_server_config === undefined || root.http_server_config === null ? {} : this.mapping(root.http_server_config, 'http_server_config');
    this.known(http, 'http_server_config', ['http2']);
    if (http.http2 !== undefined && http.http2 !== null) {
      if (typeof http.http2 !== 'boolean') this.fail('http_server_config.http2', 'must be true or false');
      if (http.http2) this.warnings.push(`${this.file}: http_server_config.http2 ignored: promgate serves HTTP/1.1`);
    }
    const tls = root.tls_server_config;
    if (tls === undefined || tls === null) return { tls: undefined, warnings: this.warnings };
    const config = this.mapping(tls, 'tls_server_config');
    this.known(config, 'tls_server_config', SERVER_TLS_KEYS);
    return { tls: readServerTls(this.block(config, 'tls_server_config')), warnings: this.warnings };
  }

  /** The settings of a mapping of the file, as readServerTls reads them. */
  private block(config: Record<string, unknown>, at: string): SettingsBlock {
    const name = (key: string) => `${at}.${key}`;
    const given = (key: string) => config[key] !== undefined && config[key] !== null;
    const string = (key: string): string | undefined => {
      const value = config[key];
      if (!given(key) || value === '') return undefined;
      if (typeof value !== 'string') this.fail(name(key), 'must be a string');
      return value;
    };
    return {
      name,
      string,
      strings: (key) => {
        const value = config[key];
        if (!given(key)) return undefined;
        if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string' && item !== '')) this.fail(name(key), 'must be a list of strings');
        return value;
      },
      bool: (key) => {
        const value = config[key];
        if (!given(key)) return undefined;
        if (typeof value !== 'boolean') this.fail(name(key), 'must be true or false');
        return value;
      },
      path: (key) => {
        const file = string(key);
        return file === undefined || isAbsolute(file) ? file : join(dirname(this.file), file);
      },
      fail: (key, message) => this.fail(key === undefined ? '' : name(key), message),
    };
  }

  private known(map: Record<string, unknown>, at: string, keys: readonly string[]): void {
    for (const key of Object.keys(map)) {
      const path = at === '' ? key : `${at}.${key}`;
      const refused = REFUSED[path];
      if (refused !== undefined) this.fail(path, `not supported: ${refused}`);
      if (!keys.includes(key)) this.fail(path, 'unknown field');
    }
  }

  private mapping(value: unknown, at: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(at, 'must be a mapping');
    return value as Record<string, unknown>;
  }

  private fail(at: string, message: string): never {
    throw new WebConfigError(`${this.file}: ${at === '' ? '' : `${at}: `}${message}`);
  }
}
