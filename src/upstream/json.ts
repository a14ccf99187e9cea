import type { Dispatcher } from 'undici';
import type { Upstream } from './upstream.js';

/** An upstream answer that promgate reads itself rather than passing on. */
export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Asks the upstream for JSON answers, below its path prefix. */
export interface JsonClient {
  /** GET `path?params`, the answer decoded; throws `BadUpstream` when it is no JSON, as network errors do. */
  get(path: string, params: string): Promise<JsonAnswer>;
}

/** An upstream answer promgate cannot use: answered with 502. */
export class BadUpstream extends Error {}

// The answers promgate reads are lists (metadata per target, rules, alerts); anything far larger is not what was asked for.
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** A client for the upstream with the request's headers, less Accept-Encoding: promgate must read the answers. */
export function jsonClient(upstream: Upstream, headers: Record<string, string>): JsonClient {
  const plain = { ...headers };
  delete plain['accept-encoding'];
  return {
    async get(path, params) {
      const answer: Dispatcher.ResponseData = await upstream.request({
        method: 'GET',
        path: params.length === 0 ? path : `${path}?${params}`,
        headers: plain,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of answer.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          answer.body.destroy();
          throw new BadUpstream(`the upstream answer to ${path} is too large`);
        }
        chunks.push(chunk);
      }
      try {
        return { status: answer.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
      } catch {
        throw new BadUpstream(`the upstream answer to ${path} is not JSON (status ${answer.statusCode})`);
      }
    },
  };
}

/** Filters the `data` of a successful Prometheus API answer; a string says why the data cannot be filtered. */
export type DataFilter = (data: unknown) => { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The one wrapper for answers promgate filters: a non-2xx answer (a refused query, an overloaded server) holds
 * no data and passes unchanged; a 2xx one must be `{"status":"success","data":...}`, and only what the filter
 * keeps of its data is sent on. Anything else is a bad upstream: nothing unfiltered gets through.
 */
export function filterAnswer(answer: JsonAnswer, filter: DataFilter): JsonAnswer {
  if (answer.status < 200 || answer.status > 299) return answer;
  const body = answer.body;
  if (typeof body !== 'object' || body === null || (body as { status?: unknown }).status !== 'success' || !('data' in body)) {
    throw new BadUpstream(`the upstream answered ${answer.status} without a successful Prometheus API answer`);
  }
  const filtered = filter((body as { data: unknown }).data);
  if (!filtered.ok) throw new BadUpstream(filtered.error);
  return { status: answer.status, body: { status: 'success', data: filtered.value } };
}
