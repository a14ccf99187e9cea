import type { Command } from 'commander';
import { createAuthenticator } from '../auth/index.js';
import { startAwsSigner } from '../aws/index.js';
import { addGatewayOptions, toGatewayFlags } from '../config/gateway-flags.js';
import { addRunOptions, toRunOptions, type RunOptions } from '../config/run-options.js';
import { describeEnforcement } from '../enforce/isolation.js';
import { EnforcedCache } from '../enforce/params.js';
import { createLimiter } from '../limits/index.js';
import { createLogger } from '../observability/logger.js';
import { createGatewayMetrics, createRegistry } from '../observability/metrics.js';
import { ALERTMANAGER, ALERTMANAGER_ROUTES, PROMETHEUS, PROMETHEUS_ROUTES, RouteTable } from '../routes/table.js';
import { createApp } from '../server/app.js';
import { createInternalApp } from '../server/internal.js';
import { drain, listen, portOf } from '../server/listen.js';
import { startTracing } from '../tracing/tracing.js';
import { createUpstream } from '../upstream/upstream.js';
import { serveGateway } from './run-gateway.js';
import { stopOnSignals } from './shutdown.js';
import { mainListenerTls, prometheusUpstream } from './tls-setup.js';

// Under Kubernetes' default 30 s termination grace period, so that promgate ends its requests before SIGKILL.
const SHUTDOWN_BOUND_MS = 25_000;
// Remote-write batches are a few MiB at most; no route streams bodies yet (push comes with gateway mode).
const MAX_RAW_BODY_BYTES = 32 * 1024 ** 2;
// Texts longer than this are enforced anew each time: a dashboard's queries are far shorter.
const CACHEABLE_PARAM_LENGTH = 4096;

/** `promgate run`: k8spin's prometheus-multi-tenant-proxy command, flag for flag. */
export function register(program: Command): void {
  const command = program
    .command('run')
    .description('serve the gateway: authenticate, enforce each tenant on every query, stream the answers back');
  addGatewayOptions(addRunOptions(command)).action(async () => {
    const options = toRunOptions(command);
    if (!options.ok) return command.error(`error: ${options.error}`, { exitCode: 2 });
    const gateway = toGatewayFlags(command);
    if (gateway.configFile !== undefined) return serveGateway(gateway.configFile, options.value, gateway);
    await run(options.value, gateway.enableProfiling);
  });
}

async function run(options: RunOptions, profiling: boolean): Promise<void> {
  const logger = createLogger(options.logLevel);
  const registry = createRegistry();
  const deps = { logger, registry };
  const fail = (message: string, error?: unknown): never => {
    logger.fatal({ err: error }, message);
    logger.flush();
    process.exit(1);
  };

  const traced = await startTracing(process.env, deps);
  if (!traced.ok) return fail(traced.error);
  const tracing = traced.value;
  const authenticator = await createAuthenticator(options, deps);
  if (!authenticator.ok) return fail(authenticator.error);
  // --aws: every upstream request signed with SigV4; no credentials at start-up stops it here.
  const aws = options.aws === undefined ? undefined : await startAwsSigner(options.aws, '--aws', deps);
  if (aws?.ok === false) return fail(`--aws: ${aws.error}`);
  const sign = aws?.value.sign;
  const prometheus = await prometheusUpstream({ url: options.prometheusEndpoint, timeoutMs: options.upstreamTimeoutMs, ...(sign !== undefined && { sign }) }, options, deps);
  if (!prometheus.ok) return fail(prometheus.error);
  const upstream = prometheus.value;
  const tls = await mainListenerTls(options, deps);
  if (!tls.ok) return fail(tls.error);
  const upstreams = new Map([[PROMETHEUS, upstream]]);
  // Alertmanager's API is served only when there is one to send it to.
  const alertmanager = options.alertmanagerEndpoint;
  if (alertmanager !== undefined) upstreams.set(ALERTMANAGER, createUpstream({ url: alertmanager, timeoutMs: options.upstreamTimeoutMs, ...(sign !== undefined && { sign }) }));
  const served = alertmanager === undefined ? PROMETHEUS_ROUTES : [...PROMETHEUS_ROUTES, ...ALERTMANAGER_ROUTES];

  const { table: routes, ignored } = new RouteTable(served).narrowed(options.protectedEndpoints);
  for (const path of ignored) logger.warn({ path }, 'protected endpoint ignored: promgate cannot enforce it, so it stays refused');
  for (const path of options.unprotectedEndpoints) logger.info({ path }, 'unauthenticated endpoint (GET and HEAD, proxied without credentials)');

  const limiter = await createLimiter(options.limits, deps);
  const app = createApp(
    {
      routes,
      upstreams,
      authenticator: authenticator.value,
      unprotected: new Set(options.unprotectedEndpoints),
      unprotectedUpstream: PROMETHEUS,
      maxBodySize: options.maxBodySize,
      maxRawBodySize: MAX_RAW_BODY_BYTES,
      cache: new EnforcedCache({ maxBytes: options.enforceCacheSize, maxParamLength: CACHEABLE_PARAM_LENGTH, complexity: options.limits.complexity }),
      enforcement: options.enforce,
      metrics: createGatewayMetrics(registry),
      limiter,
      ...(tracing !== undefined && { tracing }),
    },
    deps,
  );

  let ready = false;
  const main = await listen(app, options.port, tls.value).catch((e: unknown) => fail(`cannot listen on port ${options.port}`, e));
  const internal =
    options.internalPort === 0
      ? undefined
      : await listen(createInternalApp(registry, { ready: () => ready }, profiling), options.internalPort).catch((e: unknown) =>
          fail(`cannot listen on internal port ${options.internalPort}`, e),
        );
  ready = true;
  logger.info(
    {
      port: portOf(main),
      internalPort: internal === undefined ? 0 : portOf(internal),
      upstream: withoutPassword(options.prometheusEndpoint),
      ...(alertmanager !== undefined && { alertmanager: withoutPassword(alertmanager) }),
      authType: options.authTypes.join(','),
      tls: tls.value !== undefined,
      ...(options.aws !== undefined && { sigv4: { region: options.aws.region, service: options.aws.service } }),
      enforce: options.enforce,
      endpoints: routes.routes.map((r) => r.path),
    },
    'promgate listening',
  );
  logger.info({ enforce: options.enforce }, `enforcement: ${describeEnforcement(options.enforce)}`);
  // The start-up lines (warnings about the configuration among them) are out before the first request's.
  logger.flush();

  stopOnSignals(logger, async () => {
    ready = false;
    await drain(main, SHUTDOWN_BOUND_MS, logger);
    await Promise.allSettled([authenticator.value.close(), ...[...upstreams.values()].map((u) => u.close()), tls.value?.close(), limiter.close()]);
    if (internal !== undefined) await drain(internal, 1000, logger);
    await tracing?.close();
  });
}

/** An endpoint for the log: its password, if it has one, hidden. */
function withoutPassword(url: URL): string {
  const shown = new URL(url);
  if (shown.password !== '') shown.password = 'xxxxx';
  return shown.href;
}
