import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { GatewayMetrics } from '../observability/metrics.js';
import { answerUpstreamFailure, upstreamFailure } from './failure.js';
import { responseHeaders } from './headers.js';
import type { Upstream, UpstreamRequest } from './upstream.js';

/** What a request's log line and metrics learn from its upstream call. */
export interface Tally {
  /** Milliseconds until the upstream's headers arrived; -1 when it was not asked. */
  upstreamMs: number;
  /** Body bytes sent to the client. */
  bytes: number;
  /** Why the request failed, for the log line only. */
  note?: string;
}

/** Why an upstream request is aborted when its client goes away: no failure of the upstream's. */
export const CLIENT_GONE = new Error('the client went away before the answer ended');

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
    private readonly exchange: Tally,
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
      exchange.note = res.headersSent ? `upstream answer broken off: ${error.message}` : error.message;
      if (res.headersSent) {
        metrics.upstreamError(upstreamFailure(error) === 'timeout' ? 'timeout' : 'interrupted');
        res.destroy();
      } else {
        const answered = answerUpstreamFailure(res, error);
        if (answered.failure !== undefined) metrics.upstreamError(answered.failure);
        exchange.bytes = answered.bytes;
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
  exchange: Tally,
  metrics: GatewayMetrics,
): Promise<void> {
  return new Promise((resolve) => upstream.dispatch(request, new Passthrough(res, exchange, metrics, resolve)));
}
