import type { ServerResponse } from 'node:http';
import type { Matcher } from 'promql-parser-wasm';
import type { Dispatcher } from 'undici';
import { encodeParam } from '../enforce/form.js';
import { filterMetadata, metricNames } from '../enforce/metadata.js';
import { tenantSelector } from '../enforce/params.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Exchange } from '../server/exchange.js';
import { sendError } from '../server/errors.js';
import { upstreamFailure, type Upstream } from './upstream.js';

// Metadata answers are small (one entry per metric name); anything far larger is not what was asked for.
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

async function readJson(body: Dispatcher.ResponseData['body']): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new Error('the upstream answer is too large');
    }
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * /api/v1/metadata for a tenant with matchers: Prometheus cannot filter metadata by series, so promgate asks
 * for the metric names under the tenant's selector and keeps only those. The one answer promgate buffers.
 */
export async function forwardMetadata(
  upstream: Upstream,
  encoded: string,
  limit: number,
  matchers: readonly Matcher[],
  headers: Record<string, string>,
  res: ServerResponse,
  exchange: Exchange,
  metrics: GatewayMetrics,
): Promise<void> {
  // Both answers are parsed here, so they must come uncompressed.
  const plain = { ...headers };
  delete plain['accept-encoding'];
  const namesPath = `/api/v1/label/__name__/values?${encodeParam('match[]', tenantSelector(matchers))}`;
  const metadataPath = encoded.length === 0 ? '/api/v1/metadata' : `/api/v1/metadata?${encoded}`;
  const asked = performance.now();
  let names: Dispatcher.ResponseData;
  let metadata: Dispatcher.ResponseData;
  try {
    [names, metadata] = await Promise.all([
      upstream.request({ method: 'GET', path: namesPath, headers: plain }),
      upstream.request({ method: 'GET', path: metadataPath, headers: plain }),
    ]);
  } catch (error) {
    const failure = upstreamFailure(error);
    metrics.upstreamError(failure);
    exchange.note = (error as Error).message;
    if (failure === 'timeout') sendError(res, 504, 'timeout', 'the upstream did not answer in time');
    else sendError(res, 502, 'unavailable', `the upstream is unavailable: ${(error as Error).message}`);
    return;
  }
  exchange.upstreamMs = performance.now() - asked;
  try {
    const [namesAnswer, metadataAnswer] = await Promise.all([readJson(names.body), readJson(metadata.body)]);
    if (metadata.statusCode !== 200) {
      // An upstream error (bad `limit_per_metric`, ...) holds no metadata: passed on as it is.
      exchange.bytes = send(res, metadata.statusCode, metadataAnswer);
      return;
    }
    const allowed = metricNames(namesAnswer);
    const filtered = allowed.ok ? filterMetadata(metadataAnswer, allowed.value, limit) : allowed;
    if (!filtered.ok) {
      exchange.note = filtered.error;
      sendError(res, 502, 'unavailable', filtered.error);
      return;
    }
    exchange.bytes = send(res, 200, filtered.value);
  } catch (error) {
    metrics.upstreamError('interrupted');
    exchange.note = (error as Error).message;
    sendError(res, 502, 'unavailable', `bad answer from the upstream: ${(error as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, answer: unknown): number {
  const body = JSON.stringify(answer);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return Buffer.byteLength(body);
}
