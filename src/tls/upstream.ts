import type { Deps } from '../observability/deps.js';
import { err, ok, type Result } from '../result.js';
import { swappable } from '../upstream/swappable.js';
import { createUpstream, type Upstream, type UpstreamConfig, type UpstreamTls } from '../upstream/upstream.js';
import { watchTlsFiles, type TlsMaterial } from './files.js';

/** TLS to an upstream, as Prometheus's `tls_config` names it: files, a server name, insecure_skip_verify. */
export interface ClientTlsSettings {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
}

export interface ClientTlsOptions {
  /** For logs: "upstream prometheus", "component distributor". */
  readonly what: string;
  readonly intervalMinutes: number;
}

/** An upstream's TLS settings with their files' contents, kept current as the files change. */
export interface ClientTls {
  current(): UpstreamTls;
  /** Called with the settings of each new set of files as it comes into use. */
  onChange(listener: (tls: UpstreamTls) => void): void;
  close(): Promise<void>;
}

/**
 * Loads an upstream's CA, certificate and key files (they must load to start) and watches them: a set that does
 * not load keeps the last good one. Insecure skip verify is logged as the warning it is.
 */
export async function watchClientTls(settings: ClientTlsSettings, options: ClientTlsOptions, deps: Deps): Promise<Result<ClientTls, string>> {
  if ((settings.certFile === undefined) !== (settings.keyFile === undefined)) {
    return err(`${options.what}: a client certificate needs both its certificate file and its key file`);
  }
  const logger = deps.logger.child({ upstream: options.what });
  if (settings.insecureSkipVerify) {
    logger.warn(`${options.what}: its TLS certificate is not verified (insecure skip verify): anyone in between can read and change the traffic`);
  }
  const of = (material: TlsMaterial | undefined): UpstreamTls => ({
    ...(material?.ca !== undefined && { ca: material.ca }),
    ...(material?.cert !== undefined && { cert: material.cert }),
    ...(material?.key !== undefined && { key: material.key }),
    ...(settings.serverName !== undefined && { serverName: settings.serverName }),
    insecureSkipVerify: settings.insecureSkipVerify,
  });
  const files = {
    ...(settings.caFile !== undefined && { ca: settings.caFile }),
    ...(settings.certFile !== undefined && { cert: settings.certFile }),
    ...(settings.keyFile !== undefined && { key: settings.keyFile }),
  };
  if (Object.keys(files).length === 0) return ok({ current: () => of(undefined), onChange: () => undefined, close: () => Promise.resolve() });
  const watched = await watchTlsFiles(files, { what: options.what, intervalMinutes: options.intervalMinutes }, deps);
  if (!watched.ok) return watched;
  return ok({
    current: () => of(watched.value.current()),
    onChange: (listener) =>
      watched.value.onChange((material) => {
        listener(of(material));
        logger.info(`${options.what}: new TLS files in use for new connections`);
      }),
    close: () => watched.value.close(),
  });
}

/**
 * An upstream over TLS whose CA, certificate and key files are watched: a new set makes a new connection pool
 * for the requests from then on, while the old pool finishes the requests it has (answers streaming included)
 * and closes. A set that does not load keeps the pool in use.
 */
export async function createTlsUpstream(config: UpstreamConfig, settings: ClientTlsSettings, options: ClientTlsOptions, deps: Deps): Promise<Result<Upstream, string>> {
  if (config.url.protocol !== 'https:') return err(`${options.what}: TLS settings need an https URL, not ${config.url.protocol}//`);
  const tls = await watchClientTls(settings, options, deps);
  if (!tls.ok) return tls;
  const upstream = swappable(createUpstream({ ...config, tls: tls.value.current() }));
  tls.value.onChange((next) => upstream.replace(createUpstream({ ...config, tls: next })));
  return ok({
    request: upstream.request,
    dispatch: upstream.dispatch,
    close: () => Promise.all([tls.value.close(), upstream.close()]).then(() => undefined),
  });
}
