import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';

export interface UpstreamRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the upstream's path prefix, with its query string. */
  readonly path: string;
  readonly headers: Record<string, string>;
  /** A rebuilt body, or the client's own bytes streamed through untouched. */
  readonly body?: string | Readable;
}

/** The request as it leaves promgate: what a request signer signs. */
export interface FinalRequest {
  readonly method: UpstreamRequest['method'];
  /** The full path, the upstream's prefix included, with its query string. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Readable | null;
}

/** Signs a final request (AWS SigV4, say), giving the headers to send with it. */
export type RequestSigner = (request: FinalRequest, origin: string) => Record<string, string>;

/** An upstream, built once from validated options. */
export interface UpstreamConfig {
  /** Its origin and path prefix; credentials in it authenticate promgate to the upstream. */
  readonly url: URL;
  /** How long to wait for the answer's headers, and for each pause between its chunks. */
  readonly timeoutMs: number;
  readonly sign?: RequestSigner;
}

export interface Upstream {
  /** The answer as a stream, for answers promgate reads itself. */
  request(req: UpstreamRequest): Promise<Dispatcher.ResponseData>;
  /** The answer handed piece by piece to `handler`, for answers promgate passes on untouched. */
  dispatch(req: UpstreamRequest, handler: Dispatcher.DispatchHandler): void;
  close(): Promise<void>;
}

/**
 * A keep-alive connection pool to one upstream. Every request to it is finished by `finalRequest`, the one place
 * where the prefix, promgate's own credentials and a signature are added.
 */
export function createUpstream(config: UpstreamConfig): Upstream {
  const { url, timeoutMs, sign } = config;
  const pool = new Pool(url.origin, {
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: Math.min(timeoutMs, 10_000) },
  });
  // http://mimir/prometheus → every path goes below /prometheus.
  const prefix = url.pathname.replace(/\/+$/, '');
  // Credentials in the endpoint URL authenticate promgate to the upstream; callers' credentials never go there.
  const authorization =
    url.username !== '' || url.password !== ''
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;

  const finalRequest = (req: UpstreamRequest): Dispatcher.DispatchOptions => {
    const request: FinalRequest = {
      method: req.method,
      path: prefix + req.path,
      headers: authorization === undefined ? req.headers : { ...req.headers, authorization },
      body: req.body ?? null,
    };
    const headers = sign === undefined ? request.headers : sign(request, url.origin);
    return { method: request.method, path: request.path, headers, body: request.body };
  };

  return {
    request: (req) => pool.request(finalRequest(req)),
    dispatch: (req, handler) => void pool.dispatch(finalRequest(req), handler),
    close: () => pool.close(),
  };
}
