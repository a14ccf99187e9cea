import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Exchange } from '../server/exchange.js';
import { sendError } from '../server/errors.js';
import { responseHeaders } from './headers.js';
import { upstreamFailure, type Upstream, type UpstreamRequest } from './upstream.js';

const CLIENT_GONE = new Error('the client went away before the answer ended');

/**
 * Hands each piece of the upstream's answer straight to Node's response as undici reads it: status, end-to-end
 * headers, body bytes untouched (gzip included). No Web Response, no stream in between, no buffering: when the
 * client's socket is full, the upstream connection is paused until it drains. A client that goes away aborts the
 * upstream request; an upstream that breaks off mid-answer cuts the client's connection, so that a truncated
 * answer never looks complete.
 */
class Passthrough implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private readonly asked = performance.now();
  private readonly resume = (): void => this.controller?.resume();

  constructor(
    private readonly res: ServerResponse,
    private readonly exchange: Exchange,
    private readonly metrics: GatewayMetrics,
    private readonly done: () => void,
  ) {
    res.once('close', () => {
      if (!res.writableFinished) this.controller?.abort(CLIENT_GONE);
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.res.destroyed) controller.abort(CLIENT_GONE);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    this.exchange.upstreamMs = performance.now() - this.asked;
    this.res.writeHead(statusCode, responseHeaders(headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.exchange.bytes += chunk.length;
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.resume);
    }
  }

  onResponseEnd(): void {
    this.res.end();
    this.done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const { res, exchange, metrics } = this;
    if (error === CLIENT_GONE || res.destroyed) {
      exchange.note = CLIENT_GONE.message;
    } else {
      const failure = upstreamFailure(error);
      exchange.note = res.headersSent ? `upstream answer broken off: ${error.message}` : error.message;
      if (res.headersSent) {
        metrics.upstreamError(failure === 'timeout' ? 'timeout' : 'interrupted');
        res.destroy();
      } else {
        metrics.upstreamError(failure);
        exchange.bytes =
          failure === 'timeout'
            ? sendError(res, 504, 'timeout', 'the upstream did not answer in time')
            : sendError(res, 502, 'unavailable', `the upstream is unavailable: ${error.message}`);
      }
    }
    this.done();
  }
}

/** Sends the rebuilt request upstream and passes the answer on; resolves once the answer has ended, either way. */
export function forward(
  upstream: Upstream,
  request: UpstreamRequest,
  res: ServerResponse,
  exchange: Exchange,
  metrics: GatewayMetrics,
): Promise<void> {
  return new Promise((resolve) => upstream.dispatch(request, new Passthrough(res, exchange, metrics, resolve)));
}
