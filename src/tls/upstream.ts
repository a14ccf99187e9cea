import type { Deps } from '../observability/deps.js';
import { err, ok, type Result } from '../result.js';
import { swappable } from '../upstream/swappable.js';
import { createUpstream, type Upstream, type UpstreamConfig } from '../upstream/upstream.js';
import { watchTlsFiles, type TlsMaterial } from './files.js';

/** TLS to an upstream, as Prometheus's `tls_config` names it: files, a server name, insecure_skip_verify. */
export interface ClientTlsSettings {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
}

export interface TlsUpstreamOptions {
  /** For logs: "upstream prometheus". */
  readonly what: string;
  readonly intervalMinutes: number;
}

/**
 * An upstream over TLS whose CA, certificate and key files are watched: a new set makes a new connection pool
 * for the requests from then on, while the old pool finishes the requests it has (answers streaming included)
 * and closes. A set that does not load keeps the pool in use.
 */
export async function createTlsUpstream(
  config: UpstreamConfig,
  settings: ClientTlsSettings,
  options: TlsUpstreamOptions,
  deps: Deps,
): Promise<Result<Upstream, string>> {
  if (config.url.protocol !== 'https:') return err(`${options.what}: TLS settings need an https URL, not ${config.url.protocol}//`);
  if ((settings.certFile === undefined) !== (settings.keyFile === undefined)) {
    return err(`${options.what}: a client certificate needs both its certificate file and its key file`);
  }
  const make = (material: TlsMaterial | undefined): Upstream =>
    createUpstream({
      ...config,
      tls: {
        ...(material?.ca !== undefined && { ca: material.ca }),
        ...(material?.cert !== undefined && { cert: material.cert }),
        ...(material?.key !== undefined && { key: material.key }),
        ...(settings.serverName !== undefined && { serverName: settings.serverName }),
        insecureSkipVerify: settings.insecureSkipVerify,
      },
    });
  const logger = deps.logger.child({ upstream: options.what });
  if (settings.insecureSkipVerify) {
    logger.warn(`${options.what}: its TLS certificate is not verified (insecure skip verify): anyone in between can read and change the traffic`);
  }
  const files = { ca: settings.caFile, cert: settings.certFile, key: settings.keyFile };
  if (Object.values(files).every((file) => file === undefined)) return ok(make(undefined));

  const watched = await watchTlsFiles(
    {
      ...(files.ca !== undefined && { ca: files.ca }),
      ...(files.cert !== undefined && { cert: files.cert }),
      ...(files.key !== undefined && { key: files.key }),
    },
    { what: options.what, intervalMinutes: options.intervalMinutes },
    deps,
  );
  if (!watched.ok) return watched;
  const upstream = swappable(make(watched.value.current()));
  watched.value.onChange((material) => {
    upstream.replace(make(material));
    logger.info(`${options.what}: new TLS files in use for new connections`);
  });
  return ok({
    request: upstream.request,
    dispatch: upstream.dispatch,
    close: () => Promise.all([watched.value.close(), upstream.close()]).then(() => undefined),
  });
}
