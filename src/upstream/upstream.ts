import type { Readable } from 'node:stream';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { buildConnector, Pool, type Dispatcher } from 'undici';

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
  readonly body: string | Uint8Array | Readable | null;
}

/**
 * Signs a final request (AWS SigV4, say): the request to send, its signature in its headers. A signer may spell
 * the query string anew (the same parameters, encoded as the signature covers them) and read a streamed body whole
 * (to hash it); the request is sent as it returns it. It may wait (for credentials); a rejection fails the request
 * before anything is sent (502).
 */
export type RequestSigner = (request: FinalRequest, origin: string) => Promise<FinalRequest>;

/** An upstream, built once from validated options. */
export interface UpstreamConfig {
  /** Its origin and path prefix; credentials in it authenticate promgate to the upstream. */
  readonly url: URL;
  /** How long to wait for the answer's headers, and for each pause between its chunks. */
  readonly timeoutMs: number;
  readonly sign?: RequestSigner;
  /** Gateway mode's finer timeouts: connecting (a TLS handshake included), and waiting for the answer's headers. */
  readonly connectTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  /** How long an idle pooled connection is kept; unset: undici's default. */
  readonly keepAliveTimeoutMs?: number;
  /** The Host header, where `url` names one address of the host rather than the host (DNS round-robin). */
  readonly host?: string;
  /** TLS settings for an https URL (the default: the system's CAs, no client certificate). */
  readonly tls?: UpstreamTls;
}

/** How promgate speaks TLS to an upstream: Prometheus's tls_config, with the files' contents. */
export interface UpstreamTls {
  /** PEM CAs the upstream's certificate is verified against, instead of the system's. */
  readonly ca?: string;
  /** PEM client certificate and key promgate presents (mTLS). */
  readonly cert?: string;
  readonly key?: string;
  /** The name the upstream's certificate must carry, and the SNI sent; default: the URL's host. */
  readonly serverName?: string;
  /** Takes any certificate the upstream shows: for tests only, as anyone in between could read the traffic. */
  readonly insecureSkipVerify?: boolean;
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
  const { url, timeoutMs, sign, host } = config;
  const pool = new Pool(url.origin, {
    headersTimeout: config.headersTimeoutMs ?? timeoutMs,
    bodyTimeout: timeoutMs,
    ...(config.keepAliveTimeoutMs !== undefined && { keepAliveTimeout: config.keepAliveTimeoutMs }),
    connect: connector(url, { timeout: config.connectTimeoutMs ?? Math.min(timeoutMs, 10_000), ...(config.tls !== undefined && connectTls(config.tls)) }),
  });
  // http://mimir/prometheus → every path goes below /prometheus.
  const prefix = url.pathname.replace(/\/+$/, '');
  // Credentials in the endpoint URL authenticate promgate to the upstream; callers' credentials never go there.
  const authorization =
    url.username !== '' || url.password !== ''
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;

  const own = { ...(authorization !== undefined && { authorization }), ...(host !== undefined && { host }) };
  const finalRequest = (req: UpstreamRequest): FinalRequest => ({
    method: req.method,
    path: prefix + req.path,
    headers: authorization === undefined && host === undefined ? req.headers : { ...req.headers, ...own },
    body: req.body ?? null,
  });

  if (sign === undefined) {
    return {
      request: (req) => pool.request(finalRequest(req)),
      dispatch: (req, handler) => void pool.dispatch(finalRequest(req), handler),
      close: () => pool.close(),
    };
  }
  // A signed request leaves once its signature is made; one that cannot be signed fails as an unreachable upstream would.
  const signed = (req: UpstreamRequest): Promise<FinalRequest> => sign(finalRequest(req), url.origin);
  return {
    request: async (req) => pool.request(await signed(req)),
    dispatch: (req, handler) =>
      void signed(req).then(
        (request) => pool.dispatch(request, handler),
        (error: unknown) => failBeforeSending(handler, error),
      ),
    close: () => pool.close(),
  };
}

/** Tells a request's handler it failed before anything was sent (no address to send to, no signature). */
export function failBeforeSending(handler: Dispatcher.DispatchHandler, error: unknown): void {
  const reason = error instanceof Error ? error : new Error(String(error));
  const controller = { abort() {}, pause() {}, resume() {}, aborted: true, paused: false, reason } as unknown as Dispatcher.DispatchController;
  handler.onResponseError?.(controller, reason);
}

/**
 * undici's connector, keeping the TLS alert an https upstream sends after the handshake (a TLS 1.3 server refuses
 * a client certificate only then): undici would report the end of the connection that follows it ("other side
 * closed") rather than the alert that says why. Ending the socket at the alert leaves the alert as its error.
 */
function connector(url: URL, options: buildConnector.BuildOptions): buildConnector.BuildOptions | buildConnector.connector {
  if (url.protocol !== 'https:') return options;
  const connect = buildConnector(options);
  return (target, callback) =>
    connect(target, (error, socket) => {
      if (error !== null) return callback(error, null);
      socket!.prependListener('error', (e: NodeJS.ErrnoException) => {
        if (e.code?.startsWith('ERR_SSL_') === true) socket!.destroy();
      });
      callback(null, socket!);
    });
}

/** undici's connect options for TLS settings. */
function connectTls(tls: UpstreamTls): ConnectionOptions {
  const name = tls.serverName;
  return {
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.cert !== undefined && { cert: tls.cert }),
    ...(tls.key !== undefined && { key: tls.key }),
    rejectUnauthorized: tls.insecureSkipVerify !== true,
    // The certificate is checked against the configured name; SNI carries it unless it is an address (SNI cannot).
    ...(name !== undefined && {
      checkServerIdentity: (_host: string, certificate) => checkServerIdentity(name, certificate),
      ...(isIP(name) === 0 && { servername: name }),
    }),
  };
}
