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
      // An empty body (Alertmanager's 404 for an unknown silence) is read as null: there is nothing in it to pass.
      if (size === 0) return { status: answer.statusCode, body: null };
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
 * How an API wraps its data: Prometheus's `{"status":"success","data":...}`, or not at all (Alertmanager's v2 API,
 * whose answer is the data itself).
 */
export type Envelope = 'prometheus' | 'bare';

/**
 * The one wrapper for answers promgate filters: a non-2xx answer (a refused query, an overloaded server) holds
 * no data and passes unchanged; a 2xx one must be `{"status":"success","data":...}` (or, bare, the data), and only
 * what the filter keeps of its data is sent on. Anything else is a bad upstream: nothing unfiltered gets through.
 */
export function filterAnswer(answer: JsonAnswer, filter: DataFilter, envelope: Envelope = 'prometheus'): JsonAnswer {
  if (answer.status < 200 || answer.status > 299) return answer;
  const body = answer.body;
  const wrapped = envelope === 'prometheus';
  if (wrapped && (typeof body !== 'object' || body === null || (body as { status?: unknown }).status !== 'success' || !('data' in body))) {
    throw new BadUpstream(`the upstream answered ${answer.status} without a successful Prometheus API answer`);
  }
  const filtered = filter(wrapped ? (body as { data: unknown }).data : body);
  if (!filtered.ok) throw new BadUpstream(filtered.error);
  return { status: answer.status, body: wrapped ? { status: 'success', data: filtered.value } : filtered.value };
}
