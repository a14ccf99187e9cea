import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type MiddlewareHandler } from 'hono';
import type { Authenticator } from '../auth/types.js';
import { findRoute, type Endpoint } from '../enforce/endpoints.js';
import { decodeForm, encodeParam, type Param } from '../enforce/form.js';
import { enforceParams } from '../enforce/params.js';
import { labelNameFromSegment, parseTarget } from '../enforce/path.js';
import type { Deps } from '../observability/deps.js';
import type { GatewayMetrics, Refusal } from '../observability/metrics.js';
import { forward } from '../proxy/forward.js';
import { upstreamHeaders } from '../proxy/headers.js';
import { forwardMetadata } from '../proxy/metadata.js';
import type { Upstream } from '../proxy/upstream.js';
import { isForm, readBody } from './body.js';
import { sendError, type ErrorType } from './errors.js';
import type { Exchange } from './exchange.js';
import { beginExchange, endExchange } from './observe.js';

export interface AppOptions {
  upstream: Upstream;
  authenticator: Authenticator;
  /** The enforced endpoints allowed (see allowList). */
  allowed: ReadonlyMap<string, Endpoint>;
  /** Exact paths proxied for GET and HEAD without authentication. */
  unprotected: ReadonlySet<string>;
  maxBodySize: number;
  metrics: GatewayMetrics;
}

type GatewayEnv = { Bindings: HttpBindings; Variables: { exchange: Exchange } };
type Stage = MiddlewareHandler<GatewayEnv>;

/**
 * The gateway: one stage a concern, in the order a request flows. Every answer, the upstream's included, is
 * written straight to Node's response; Hono sees RESPONSE_ALREADY_SENT.
 */
export function createApp(options: AppOptions, deps: Deps): Hono<GatewayEnv> {
  const { upstream, authenticator, allowed, unprotected, maxBodySize, metrics } = options;
  const app = new Hono<GatewayEnv>();

  const refuse = (
    c: Parameters<Stage>[0],
    reason: Refusal,
    status: number,
    errorType: ErrorType,
    message: string,
    headers?: Record<string, string>,
  ): Response => {
    metrics.refusal(reason);
    c.get('exchange').bytes = sendError(c.env.outgoing, status, errorType, message, headers);
    return RESPONSE_ALREADY_SENT;
  };

  const observe: Stage = async (c, next) => {
    const exchange = beginExchange(c.env.incoming, c.env.outgoing);
    c.set('exchange', exchange);
    try {
      await next();
    } finally {
      endExchange(exchange, c.env.incoming, c.env.outgoing, deps.logger, metrics);
    }
  };

  // The raw request-target, not Hono's parsed URL: URL parsing would already have resolved dot segments.
  const canonicalPath: Stage = async (c, next) => {
    const exchange = c.get('exchange');
    const target = parseTarget(c.env.incoming.url ?? '');
    if (!target.ok) return refuse(c, 'bad_path', 400, 'bad_data', target.error);
    exchange.target = target.value;
    const route = findRoute(target.value.path, allowed);
    if (route !== undefined) {
      exchange.route = route;
      exchange.endpoint = route.endpoint.name;
    }
    return next();
  };

  const unprotectedEndpoints: Stage = async (c, next) => {
    const exchange = c.get('exchange');
    const { path, query } = exchange.target!;
    const method = c.env.incoming.method;
    if (!unprotected.has(path) || (method !== 'GET' && method !== 'HEAD')) return next();
    exchange.endpoint = path;
    const params: Param[] = [];
    const decoded = decodeForm(query, params);
    if (!decoded.ok) return refuse(c, 'bad_request', 400, 'bad_data', decoded.error);
    const encoded = params.map(([name, value]) => encodeParam(name, value)).join('&');
    const headers = upstreamHeaders(c.env.incoming.headers, exchange.id, undefined, false);
    await forward(upstream, { method, path: encoded ? `${path}?${encoded}` : path, headers }, c.env.outgoing, exchange, metrics);
    return RESPONSE_ALREADY_SENT;
  };

  const authenticate: Stage = async (c, next) => {
    const exchange = c.get('exchange');
    const headers = c.env.incoming.headers;
    const outcome = await authenticator.authenticate((name) => {
      const value = headers[name];
      return typeof value === 'string' ? value : undefined;
    });
    if (!outcome.ok) {
      exchange.note = outcome.reason;
      const challenge = outcome.challenge === undefined ? undefined : { 'www-authenticate': outcome.challenge };
      return outcome.status === 401
        ? refuse(c, 'unauthenticated', 401, 'unauthorized', 'authentication required', challenge)
        : refuse(c, 'forbidden', 403, 'forbidden', 'access denied', challenge);
    }
    const principal = outcome.principal;
    exchange.principal = principal;
    // Nothing is ever forwarded unfiltered: a principal must be confined by matchers or by a tenant id.
    if (principal.matchers.length === 0 && principal.tenantId === undefined) {
      exchange.note = 'the principal has no namespaces, labels or tenant id';
      return refuse(c, 'forbidden', 403, 'forbidden', 'access denied: no namespace, label or tenant is granted');
    }
    return next();
  };

  const route: Stage = async (c, next) => {
    const exchange = c.get('exchange');
    const found = exchange.route;
    if (found === undefined) return refuse(c, 'not_found', 404, 'not_found', `${exchange.target!.path}: not found`);
    const method = c.env.incoming.method ?? '';
    if (!found.endpoint.methods.includes(method)) {
      return refuse(c, 'method_not_allowed', 405, 'bad_data', `method ${method} not allowed for ${found.endpoint.name}`, {
        allow: found.endpoint.methods.join(', '),
      });
    }
    if (found.labelSegment !== undefined) {
      const name = labelNameFromSegment(found.labelSegment);
      if (!name.ok) return refuse(c, 'bad_request', 400, 'bad_data', name.error);
      exchange.labelName = name.value;
    }
    return next();
  };

  const parameters: Stage = async (c, next) => {
    const exchange = c.get('exchange');
    const incoming = c.env.incoming;
    const params: Param[] = [];
    const fromUrl = decodeForm(exchange.target!.query, params);
    if (!fromUrl.ok) return refuse(c, 'bad_request', 400, 'bad_data', fromUrl.error);
    if (incoming.method === 'POST') {
      if (!isForm(incoming.headers['content-type'])) {
        return refuse(c, 'unsupported_media_type', 415, 'bad_data', 'a POST body must be application/x-www-form-urlencoded');
      }
      const body = await readBody(incoming, maxBodySize);
      if (!body.ok) {
        return body.error.status === 413
          ? refuse(c, 'body_too_large', 413, 'bad_data', body.error.message, { connection: 'close' })
          : refuse(c, 'bad_request', 400, 'bad_data', body.error.message);
      }
      const fromBody = decodeForm(body.value, params);
      if (!fromBody.ok) return refuse(c, 'bad_request', 400, 'bad_data', fromBody.error);
      exchange.isForm = true;
    }
    exchange.params = params;
    return next();
  };

  const enforceAndForward: Stage = async (c) => {
    const exchange = c.get('exchange');
    const principal = exchange.principal!;
    const endpoint = exchange.route!.endpoint;
    const enforced = enforceParams(endpoint.kind, exchange.params!, principal.matchers);
    if (!enforced.ok) return refuse(c, 'bad_request', enforced.error.status, enforced.error.errorType, enforced.error.message);
    const { encoded, metadataLimit } = enforced.value;
    exchange.enforced = encoded;
    const isForm = exchange.isForm === true;
    const headers = upstreamHeaders(c.env.incoming.headers, exchange.id, principal.tenantId, isForm);
    if (endpoint.kind === 'metadata' && principal.matchers.length > 0) {
      await forwardMetadata(upstream, encoded, metadataLimit, principal.matchers, headers, c.env.outgoing, exchange, metrics);
      return RESPONSE_ALREADY_SENT;
    }
    const path = exchange.labelName === undefined ? endpoint.name : `/api/v1/label/${exchange.labelName}/values`;
    const request = isForm
      ? { method: 'POST' as const, path, headers, body: encoded }
      : { method: 'GET' as const, path: encoded.length === 0 ? path : `${path}?${encoded}`, headers };
    await forward(upstream, request, c.env.outgoing, exchange, metrics);
    return RESPONSE_ALREADY_SENT;
  };

  app.use(observe, canonicalPath, unprotectedEndpoints, authenticate, route, parameters);
  app.all('*', enforceAndForward);
  app.onError((error, c) => {
    const exchange = c.get('exchange');
    if (exchange !== undefined) exchange.note = error.stack ?? error.message;
    deps.logger.error({ err: error, id: exchange?.id }, 'internal error');
    sendError(c.env.outgoing, 500, 'internal', 'internal error');
    return RESPONSE_ALREADY_SENT;
  });
  return app;
}
