import type { GatewayFlags } from '../config/gateway-flags.js';
import type { RunOptions } from '../config/run-options.js';
import { runGateway } from '../gateway/serve.js';
import { createLogger } from '../observability/logger.js';
import { createRegistry } from '../observability/metrics.js';
import { startTracing } from '../tracing/tracing.js';
import { stopOnSignals } from './shutdown.js';

// As k8spin mode's: under Kubernetes' default 30 s termination grace period.
const SHUTDOWN_BOUND_MS = 25_000;

/** `promgate run --config FILE`: gateway mode, until SIGTERM or SIGINT. */
export async function serveGateway(file: string, options: RunOptions, flags: GatewayFlags): Promise<void> {
  const logger = createLogger(options.logLevel);
  const deps = { logger, registry: createRegistry() };
  const traced = await startTracing(process.env, deps);
  const tracing = traced.ok ? traced.value : undefined;
  const gateway = traced.ok ? await runGateway(file, options, flags, deps, tracing) : traced;
  if (!gateway.ok) {
    logger.fatal(gateway.error);
    logger.flush();
    process.exit(1);
  }
  // The start-up lines (warnings about the configuration among them) are out before the first request's.
  logger.flush();
  stopOnSignals(logger, async () => {
    await gateway.value.stop(SHUTDOWN_BOUND_MS);
    // The spans of the last requests go out before the process ends.
    await tracing?.close();
  });
}
