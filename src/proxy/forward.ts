import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Exchange } from '../server/exchange.js';
import { sendError } from '../server/errors.js';
import { responseHeaders } from './headers.js';
import { upstreamFailure, type Upstream, type UpstreamRequest } from './upstream.js';

/**
 * Sends the rebuilt request upstream and pipes the answer (status, end-to-end headers, body bytes untouched,
 * gzip included) straight into Node's response: no Web Response, no buffering, the client's pace sets the
 * upstream's through back-pressure. A client that goes away aborts the upstream request.
 */
export async function forward(
  upstream: Upstream,
  request: Omit<UpstreamRequest, 'signal'>,
  res: ServerResponse,
  exchange: Exchange,
  metrics: GatewayMetrics,
): Promise<void> {
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClose);
  const asked = performance.now();
  try {
    let answer;
    try {
      answer = await upstream.request({ ...request, signal: abort.signal });
    } catch (error) {
      if (abort.signal.aborted) return;
      const failure = upstreamFailure(error);
      metrics.upstreamError(failure);
      exchange.note = (error as Error).message;
      if (failure === 'timeout') sendError(res, 504, 'timeout', 'the upstream did not answer in time');
      else sendError(res, 502, 'unavailable', `the upstream is unavailable: ${(error as Error).message}`);
      return;
    }
    exchange.upstreamMs = performance.now() - asked;
    res.writeHead(answer.statusCode, responseHeaders(answer.headers));
    const body = answer.body;
    body.on('data', (chunk: Buffer) => {
      exchange.bytes += chunk.length;
    });
    try {
      await pipeline(body, res);
    } catch (error) {
      // pipeline has cut the response, so the client sees a truncated answer as an error, never as a whole one.
      if (abort.signal.aborted) return;
      exchange.note = `upstream answer broken off: ${(error as Error).message}`;
      metrics.upstreamError(upstreamFailure(error) === 'timeout' ? 'timeout' : 'interrupted');
    }
  } finally {
    res.off('close', onClose);
  }
}
