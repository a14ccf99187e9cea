import pino, { type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// A write per line costs more than the rest of the logging under load, so lines are gathered and written in
// batches: as soon as MIN_WRITE_BYTES have gathered, else at the next tick of a FLUSH_EVERY_MS timer. Writing
// whenever the event loop came round instead cost a write every few lines, more so on a busy machine.
const MIN_WRITE_BYTES = 8 * 1024;
const FLUSH_EVERY_MS = 100;

/**
 * JSON lines on stdout. Writes are asynchronous so that a log line per request does not block the event loop
 * on a slow terminal or pipe, and batched (see MIN_WRITE_BYTES). pino writes what is left when the process
 * exits; `flush()` writes it at once (before an explicit exit, after start-up).
 */
export function createLogger(level: LogLevel): Logger & { flush(): void } {
  const destination = pino.destination({ dest: 1, sync: false, minLength: MIN_WRITE_BYTES, periodicFlush: FLUSH_EVERY_MS });
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: isoTimeByMillisecond(),
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return Object.assign(logger, { flush: () => destination.flushSync() });
}

/**
 * pino's isoTime, worked out once per millisecond rather than once per line: under load many lines share a
 * millisecond, and formatting the date was a good part of a line's cost.
 */
function isoTimeByMillisecond(): () => string {
  let lastMs = -1;
  let last = '';
  return () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      last = `,"time":"${new Date(now).toISOString()}"`;
    }
    return last;
  };
}
