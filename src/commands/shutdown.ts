import type { Logger } from 'pino';

/**
 * On the first SIGTERM or SIGINT: logs it, runs `stop` (which finishes the requests in flight and closes what the
 * command opened), then logs, writes out the log and exits 0. A second signal while stopping changes nothing.
 */
export function stopOnSignals(logger: Logger & { flush(): void }, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    await stop();
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
