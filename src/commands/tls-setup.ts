import { mtlsListenerProblem } from '../config/auth-flags.js';
import type { RunOptions } from '../config/run-options.js';
import type { Deps } from '../observability/deps.js';
import { err, ok, type Result } from '../result.js';
import { serveTls, type ServedTls } from '../tls/serve.js';
import { createTlsUpstream } from '../tls/upstream.js';
import { readWebConfig } from '../tls/web-config.js';
import { createUpstream, type Upstream, type UpstreamConfig } from '../upstream/upstream.js';

/** The main listener's TLS in k8spin mode (the --tls-* flags or --web.config.file); undefined: plain HTTP. */
export async function mainListenerTls(options: RunOptions, deps: Deps): Promise<Result<ServedTls | undefined, string>> {
  const source = options.listenerTls;
  if (source === undefined) return ok(undefined);
  let settings = source.from === 'flags' ? source.settings : undefined;
  if (source.from === 'web-config') {
    const read = await readWebConfig(source.file);
    if (!read.ok) return read;
    for (const warning of read.value.warnings) deps.logger.warn(warning);
    settings = read.value.tls;
    // The flags' combination was checked with the flags; the file's can be only now.
    const problem = options.authTypes.includes('mtls') ? mtlsListenerProblem(settings) : undefined;
    if (problem !== undefined) return err(`${source.file}: ${problem}`);
    if (settings === undefined) deps.logger.info({ file: source.file }, 'the web configuration file configures no TLS: serving plain HTTP');
  }
  return settings === undefined ? ok(undefined) : serveTls(settings, options.reloadIntervalMinutes, deps);
}

/** The upstream Prometheus: over TLS with its watched files when --prometheus-*-file flags say so. */
export function prometheusUpstream(config: UpstreamConfig, options: RunOptions, deps: Deps): Promise<Result<Upstream, string>> {
  if (options.prometheusTls === undefined) return Promise.resolve(ok(createUpstream(config)));
  return createTlsUpstream(config, options.prometheusTls, { what: 'upstream prometheus', intervalMinutes: options.reloadIntervalMinutes }, deps);
}
