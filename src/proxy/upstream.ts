import { Pool, errors, type Dispatcher } from 'undici';
import type { UpstreamFailure } from '../observability/metrics.js';

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST' | 'HEAD';
  /** Path below the upstream's path prefix, with its query string. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface Upstream {
  /** The answer as a stream, for answers promgate reads itself. */
  request(req: UpstreamRequest): Promise<Dispatcher.ResponseData>;
  /** The answer handed piece by piece to `handler`, for answers promgate passes on untouched. */
  dispatch(req: UpstreamRequest, handler: Dispatcher.DispatchHandler): void;
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
  const withAuthorization = (headers: Record<string, string>) =>
    authorization === undefined ? headers : { ...headers, authorization };
  return {
    request(req) {
      return pool.request({
        method: req.method,
        path: prefix + req.path,
        headers: withAuthorization(req.headers),
        body: req.body ?? null,
      });
    },
    dispatch(req, handler) {
      pool.dispatch({ method: req.method, path: prefix + req.path, headers: withAuthorization(req.headers), body: req.body ?? null }, handler);
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
