import type { ServerResponse } from 'node:http';
import type { Matcher } from 'promql-parser-wasm';
import type { Dispatcher } from 'undici';
import { encodeParam } from '../enforce/form.js';
import { targetSelector, tenantMetadata, tenantSources, tenantSourcesQuery, type MetadataQuery } from '../enforce/metadata.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Exchange } from '../server/exchange.js';
import { sendError } from '../server/errors.js';
import { upstreamFailure, type Upstream } from './upstream.js';

// Both answers are a few entries per metric name and target; anything far larger is not what was asked for.
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** An upstream answer that promgate reads itself rather than passing on. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** An upstream answer promgate cannot use: thrown inside this module, answered with 502 at its one exit. */
class BadUpstream extends Error {}

async function ask(upstream: Upstream, path: string, headers: Record<string, string>): Promise<Answer> {
  const answer: Dispatcher.ResponseData = await upstream.request({ method: 'GET', path, headers });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of answer.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      answer.body.destroy();
      throw new BadUpstream(`the upstream answer to ${path.split('?')[0]} is too large`);
    }
    chunks.push(chunk);
  }
  try {
    return { status: answer.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    throw new BadUpstream(`the upstream answer to ${path.split('?')[0]} is not JSON (status ${answer.statusCode})`);
  }
}

/**
 * /api/v1/metadata for a tenant with matchers. Prometheus keeps metadata per scrape target but merges it by
 * name in /api/v1/metadata, so promgate asks which targets wrote the tenant's series, reads those targets'
 * metadata from /api/v1/targets/metadata, and answers with the entries the tenant owns. The one answer promgate
 * makes rather than streams.
 */
export async function forwardMetadata(
  upstream: Upstream,
  query: MetadataQuery,
  matchers: readonly Matcher[],
  headers: Record<string, string>,
  res: ServerResponse,
  exchange: Exchange,
  metrics: GatewayMetrics,
): Promise<void> {
  // Both answers are parsed here, so they must come uncompressed.
  const plain = { ...headers };
  delete plain['accept-encoding'];
  const asked = performance.now();
  try {
    const sourcesAnswer = await ask(upstream, `/api/v1/query?${encodeParam('query', tenantSourcesQuery(matchers))}`, plain);
    if (sourcesAnswer.status !== 200) return passOn(res, exchange, sourcesAnswer);
    const sources = tenantSources(sourcesAnswer.body);
    if (!sources.ok) throw new BadUpstream(sources.error);

    let answer: unknown = { status: 'success', data: {} };
    if (sources.value.size > 0) {
      const selector = targetSelector(sources.value);
      const params = [
        ...(selector === undefined ? [] : [encodeParam('match_target', selector)]),
        ...(query.metric === '' ? [] : [encodeParam('metric', query.metric)]),
      ];
      const targetsAnswer = await ask(upstream, `/api/v1/targets/metadata?${params.join('&')}`, plain);
      if (targetsAnswer.status === 404) {
        throw new BadUpstream(
          'the upstream has no /api/v1/targets/metadata, which promgate needs to tell one tenant metadata from another',
        );
      }
      if (targetsAnswer.status !== 200) return passOn(res, exchange, targetsAnswer);
      const made = tenantMetadata(targetsAnswer.body, sources.value, query);
      if (!made.ok) throw new BadUpstream(made.error);
      answer = made.value;
    }
    exchange.bytes = send(res, 200, answer);
  } catch (error) {
    exchange.note = (error as Error).message;
    if (error instanceof BadUpstream) {
      metrics.upstreamError('interrupted');
      sendError(res, 502, 'unavailable', error.message);
      return;
    }
    const failure = upstreamFailure(error);
    metrics.upstreamError(failure);
    if (failure === 'timeout') sendError(res, 504, 'timeout', 'the upstream did not answer in time');
    else sendError(res, 502, 'unavailable', `the upstream is unavailable: ${(error as Error).message}`);
  } finally {
    // Every way out, an upstream error passed on included.
    exchange.upstreamMs = performance.now() - asked;
  }
}

/** An upstream error answer (a refused query, an overloaded server) holds no series: passed on as it is. */
function passOn(res: ServerResponse, exchange: Exchange, answer: Answer): void {
  exchange.bytes = send(res, answer.status, answer.body);
}

function send(res: ServerResponse, status: number, answer: unknown): number {
  const body = JSON.stringify(answer);
  const bytes = Buffer.byteLength(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes });
  res.end(body);
  return bytes;
}
