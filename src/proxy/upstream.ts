import type { EventEmitter } from 'node:events';
import { Pool, errors, type Dispatcher } from 'undici';
import type { UpstreamFailure } from '../observability/metrics.js';

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST' | 'HEAD';
  /** Path below the upstream's path prefix, with its query string. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Emits 'abort' to abandon the request (undici takes an EventEmitter as well as an AbortSignal). */
  readonly signal?: AbortSignal | EventEmitter;
}

export interface Upstream {
  request(req: UpstreamRequest): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

/**
 * A keep-alive connection pool to the one upstream. `timeoutMs` bounds the wait for the answer's headers and
 * each pause between its chunks, so that a long answer that keeps coming is never cut.
 */
export function createUpstream(endpoint: URL, timeoutMs: number): Upstream {
  const pool = new Pool(endpoint.origin, {
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: Math.min(timeoutMs, 10_000) },
  });
  // http://mimir/prometheus → every path goes below /prometheus.
  const prefix = endpoint.pathname.replace(/\/+$/, '');
  // Credentials in the endpoint URL authenticate promgate to the upstream; callers' credentials never go there.
  const authorization =
    endpoint.username !== '' || endpoint.password !== ''
      ? `Basic ${Buffer.from(`${decodeURIComponent(endpoint.username)}:${decodeURIComponent(endpoint.password)}`).toString('base64')}`
      : undefined;
  return {
    request(req) {
      const headers = authorization === undefined ? req.headers : { ...req.headers, authorization };
      return pool.request({
        method: req.method,
        path: prefix + req.path,
        headers,
        body: req.body ?? null,
        signal: req.signal ?? null,
      });
    },
    close: () => pool.close(),
  };
}

/** What went wrong when the upstream gave no (complete) answer. */
export function upstreamFailure(error: unknown): UpstreamFailure {
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return 'timeout';
  }
  return 'unavailable';
}
