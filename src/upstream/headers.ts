import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// Everything else the client sends stays here: credentials (Authorization, Token, Cookie), its own
// X-Scope-OrgID, and headers that could make the upstream or an intermediary read the request differently.
const FORWARDED = ['accept', 'accept-encoding', 'user-agent', 'traceparent', 'tracestate'] as const;

// What describes a body streamed through untouched (remote write: snappy-compressed protobuf).
const RAW_BODY = ['content-type', 'content-encoding', 'x-prometheus-remote-write-version'] as const;

/** The body the rebuilt request carries: a form, JSON, or the client's own bytes. */
export type UpstreamBody = 'form' | 'json' | 'raw';

/** The headers of the rebuilt upstream request. */
export function upstreamHeaders(
  client: IncomingHttpHeaders,
  requestId: string,
  tenantId: string | undefined,
  body: UpstreamBody | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  for (const name of FORWARDED) {
    const value = client[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (tenantId !== undefined) headers['x-scope-orgid'] = tenantId;
  if (body === 'form') headers['content-type'] = 'application/x-www-form-urlencoded';
  else if (body === 'json') headers['content-type'] = 'application/json';
  else if (body === 'raw') {
    for (const name of RAW_BODY) {
      const value = client[name];
      if (typeof value === 'string') headers[name] = value;
    }
  }
  return headers;
}

// RFC 9110 section 7.6.1, plus the non-standard ones still seen in the wild.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

// The usual Connection values name no header beyond HOP_BY_HOP: no set to build for them.
const PLAIN_CONNECTION = /^[ \t]*(?:keep-alive|close)[ \t]*$/i;

/** The upstream's response headers less the hop-by-hop ones, including those its Connection header names. */
export function responseHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = namedByConnection(upstream.connection);
  const headers: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name) === true) continue;
    headers[name] = value;
  }
  return headers;
}

function namedByConnection(connection: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (connection === undefined) return undefined;
  const value = typeof connection === 'string' ? connection : connection.join(',');
  if (PLAIN_CONNECTION.test(value)) return undefined;
  return new Set(value.toLowerCase().split(',').map((s) => s.trim()));
}
