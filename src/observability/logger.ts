import pino, { type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// A write per line costs more than the rest of the logging under load, so the lines of one turn of the event
// loop are gathered into one write, made when the turn ends (or at once beyond MAX_GATHERED_BYTES). Lines logged
// while a write is under way follow it within BACKSTOP_FLUSH_MS at the latest.
const MAX_GATHERED_BYTES = 8 * 1024;
const BACKSTOP_FLUSH_MS = 100;

/**
 * JSON lines on stdout. Writes are asynchronous so that a log line per request does not block the event loop
 * on a slow terminal or pipe, and gathered (see MAX_GATHERED_BYTES). pino flushes what is left when the
 * process exits; `flush()` too, before an explicit exit.
 */
export function createLogger(level: LogLevel): Logger & { flush(): void } {
  const destination = pino.destination({
    dest: 1,
    sync: false,
    minLength: MAX_GATHERED_BYTES,
    periodicFlush: BACKSTOP_FLUSH_MS,
  });
  let flushScheduled = false;
  const flushTurn = (): void => {
    flushScheduled = false;
    destination.flush();
  };
  const gathering = {
    write(line: string): void {
      destination.write(line);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushTurn);
      }
    },
  };
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: isoTimeByMillisecond(),
      formatters: { level: (label) => ({ level: label }) },
    },
    gathering,
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
