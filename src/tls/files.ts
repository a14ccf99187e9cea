import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { Gauge } from 'prom-client';
import type { Deps } from '../observability/deps.js';
import { registered } from '../observability/metrics.js';
import { watchFiles, type WatchedFile } from '../reload/watched-file.js';
import { err, ok, type Result } from '../result.js';

/** The files of one side of a TLS link: a certificate and its key, and the CAs the other side is verified against. */
export interface TlsFiles {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

/** The files' PEM texts, checked to make a secure context together. */
export interface TlsMaterial {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  /** Each certificate or CA file's earliest expiry (notAfter), in Unix seconds. */
  readonly expiries: ReadonlyMap<string, number>;
}

export interface WatchTlsOptions {
  /** For logs: "TLS listener", "upstream TLS". */
  readonly what: string;
  readonly intervalMinutes: number;
  /** The rest of the secure context the files go into (versions, ciphers), so that a new pair is checked as it will serve. */
  readonly context?: SecureContextOptions;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
type Role = keyof TlsFiles;
const ROLES: readonly Role[] = ['cert', 'key', 'ca'];

/**
 * Certificate, key and CA files kept current together (a Kubernetes Secret's `..data` swap included): a change to
 * any re-reads them all, and a set that does not make a secure context (a key of another certificate, a file
 * half written) is rejected, the last good one staying in use, promgate_tls_config_last_reload_successful 0.
 * promgate_tls_certificate_expiry_timestamp_seconds{file} follows the material in use.
 */
export async function watchTlsFiles(files: TlsFiles, options: WatchTlsOptions, deps: Deps): Promise<Result<WatchedFile<TlsMaterial>, string>> {
  const roles = ROLES.filter((role) => files[role] !== undefined);
  const watched = await watchFiles<TlsMaterial>(
    {
      files: roles.map((role) => files[role]!),
      intervalMinutes: options.intervalMinutes,
      what: `${options.what} certificate files`,
      metrics: 'tls',
      parse: (texts) => checkMaterial(Object.fromEntries(roles.map((role, i) => [role, { file: files[role]!, text: texts[i]! }])), options.context),
    },
    deps,
  );
  if (!watched.ok) return err(`${options.what}: ${watched.error}`);
  const expiry = registered(deps.registry, 'promgate_tls_certificate_expiry_timestamp_seconds', (registers) => new Gauge({
    name: 'promgate_tls_certificate_expiry_timestamp_seconds',
    help: 'When the earliest-expiring certificate of each certificate or CA file in use expires (notAfter), in Unix seconds.',
    labelNames: ['file'],
    registers,
  }));
  const logger = deps.logger.child({ what: options.what });
  const record = (material: TlsMaterial): void => {
    for (const [file, seconds] of material.expiries) {
      expiry.set({ file }, seconds);
      if (seconds * 1000 < Date.now()) logger.warn({ file }, `${options.what}: a certificate in ${file} has expired`);
    }
  };
  record(watched.value.current());
  watched.value.onChange(record);
  return watched;
}

type Texts = Partial<Record<Role, { readonly file: string; readonly text: string }>>;

function checkMaterial(texts: Texts, context: SecureContextOptions | undefined): Result<TlsMaterial, string> {
  const expiries = new Map<string, number>();
  let leaf: X509Certificate | undefined;
  for (const role of ['cert', 'ca'] as const) {
    const entry = texts[role];
    if (entry === undefined) continue;
    const certificates = certificatesIn(entry.text, entry.file);
    if (!certificates.ok) return certificates;
    if (role === 'cert') leaf = certificates.value[0];
    expiries.set(entry.file, Math.min(...certificates.value.map((c) => Date.parse(c.validTo) / 1000)));
  }
  let key: KeyObject | undefined;
  if (texts.key !== undefined) {
    try {
      key = createPrivateKey(texts.key.text);
    } catch (error) {
      return err(`${texts.key.file}: not a private key in PEM (an encrypted key is not supported): ${message(error)}`);
    }
  }
  if (leaf !== undefined && key !== undefined && !leaf.checkPrivateKey(key)) {
    return err(`${texts.key!.file} is not the key of the certificate in ${texts.cert!.file}`);
  }
  const material: TlsMaterial = {
    ...(texts.cert !== undefined && { cert: texts.cert.text }),
    ...(texts.key !== undefined && { key: texts.key.text }),
    ...(texts.ca !== undefined && { ca: texts.ca.text }),
    expiries,
  };
  try {
    // What OpenSSL itself makes of them, with the rest of the settings they will serve with.
    createSecureContext({ ...context, ...contextFiles(material) });
  } catch (error) {
    return err(`${Object.values(texts).map((t) => t.file).join(', ')}: ${message(error)}`);
  }
  return ok(material);
}

/** The material's part of a secure context. */
export function contextFiles(material: TlsMaterial): SecureContextOptions {
  return {
    ...(material.cert !== undefined && { cert: material.cert }),
    ...(material.key !== undefined && { key: material.key }),
    ...(material.ca !== undefined && { ca: material.ca }),
  };
}

function certificatesIn(text: string, file: string): Result<X509Certificate[], string> {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return err(`${file}: no PEM certificate in it`);
  const certificates: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      certificates.push(new X509Certificate(block));
    } catch (error) {
      return err(`${file}: certificate ${index + 1} does not parse: ${message(error)}`);
    }
  }
  return ok(certificates);
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
