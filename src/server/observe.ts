import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Exchange } from './exchange.js';

const SAFE_ID = /^[\w.:-]{1,128}$/;
// Unique per process start and then a counter: cheaper than a random id per request, still unique across replicas.
const idPrefix = randomBytes(4).toString('hex');
let counter = 0;

/** The exchange of a new request: the caller's X-Request-Id when it is a plain token, else a fresh one. */
export function beginExchange(incoming: IncomingMessage, res: ServerResponse): Exchange {
  const given = incoming.headers['x-request-id'];
  const id = typeof given === 'string' && SAFE_ID.test(given) ? given : `${idPrefix}-${(++counter).toString(36)}`;
  res.setHeader('x-request-id', id);
  return { id, start: performance.now(), endpoint: 'other', upstreamMs: -1, bytes: 0 };
}

/** The one log line and the metrics of a finished request. */
export function endExchange(
  exchange: Exchange,
  incoming: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  metrics: GatewayMetrics,
): void {
  const ms = performance.now() - exchange.start;
  const status = res.statusCode;
  metrics.request(exchange.endpoint, status, exchange.principal?.metricsUser ?? '', ms / 1000);
  const line: Record<string, unknown> = {
    id: exchange.id,
    user: exchange.principal?.user ?? '',
    method: incoming.method,
    path: exchange.target?.path ?? incoming.url,
    status,
    ms: Math.round(ms * 1000) / 1000,
    upstreamMs: exchange.upstreamMs < 0 ? undefined : Math.round(exchange.upstreamMs * 1000) / 1000,
    bytes: exchange.bytes,
  };
  if (exchange.note !== undefined) line.note = exchange.note;
  // The queries as sent and as enforced may be long and may be sensitive: only when debugging.
  if (logger.isLevelEnabled('debug')) {
    line.params = exchange.params;
    line.enforced = exchange.enforced;
  }
  logger.info(line, 'request');
}
