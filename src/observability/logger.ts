import pino, { type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON lines on stdout. Writes are asynchronous so that a log line per request does not block the event loop
 * on a slow terminal or pipe; `flush()` before exit so the last lines are not lost.
 */
export function createLogger(level: LogLevel): Logger & { flush(): void } {
  const destination = pino.destination({ dest: 1, sync: false });
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return Object.assign(logger, { flush: () => destination.flushSync() });
}
