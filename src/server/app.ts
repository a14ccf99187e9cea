import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { AuthOutcome, Authenticator } from '../auth/types.js';
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

type GatewayEnv = { Bindings: HttpBindings };

/**
 * A stage of the request's way: true once it has answered the request itself (a refusal, say), false to let the
 * next stage go on. Only a stage that may have to wait (bcrypt, a POST body, the upstream) returns a promise.
 */
type Stage = (incoming: IncomingMessage, outgoing: ServerResponse, exchange: Exchange) => boolean | Promise<boolean>;

/**
 * The gateway: one stage a concern, in the order a request flows. Every answer, the upstream's included, is
 * written straight to Node's response; Hono sees RESPONSE_ALREADY_SENT.
 *
 * The stages run from one Hono handler rather than as Hono middleware: as middleware, each stage cost a promise
 * and several microtask turns per request, about a tenth of the gateway's CPU time per request. They read Node's
 * request (`c.env.incoming`) directly, so that Hono builds no Web Request or Headers either.
 */
export function createApp(options: AppOptions, deps: Deps): Hono<GatewayEnv> {
  const { upstream, authenticator, allowed, unprotected, maxBodySize, metrics } = options;
  const app = new Hono<GatewayEnv>();

  const refuse = (
    outgoing: ServerResponse,
    exchange: Exchange,
    reason: Refusal,
    status: number,
    errorType: ErrorType,
    message: string,
    headers?: Record<string, string>,
  ): true => {
    metrics.refusal(reason);
    exchange.bytes = sendError(outgoing, status, errorType, message, headers);
    return true;
  };

  // The raw request-target, not a parsed URL: URL parsing would already have resolved dot segments.
  const canonicalPath: Stage = (incoming, outgoing, exchange) => {
    const target = parseTarget(incoming.url ?? '');
    if (!target.ok) return refuse(outgoing, exchange, 'bad_path', 400, 'bad_data', target.error);
    exchange.target = target.value;
    const route = findRoute(target.value.path, allowed);
    if (route !== undefined) {
      exchange.route = route;
      exchange.endpoint = route.endpoint.name;
    }
    return false;
  };

  const unprotectedEndpoints: Stage = (incoming, outgoing, exchange) => {
    const { path, query } = exchange.target!;
    const method = incoming.method;
    if (!unprotected.has(path) || (method !== 'GET' && method !== 'HEAD')) return false;
    exchange.endpoint = path;
    const params: Param[] = [];
    const decoded = decodeForm(query, params);
    if (!decoded.ok) return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', decoded.error);
    const encoded = params.map(([name, value]) => encodeParam(name, value)).join('&');
    const headers = upstreamHeaders(incoming.headers, exchange.id, undefined, false);
    return forward(upstream, { method, path: encoded ? `${path}?${encoded}` : path, headers }, outgoing, exchange, metrics).then(
      () => true,
    );
  };

  const authenticate: Stage = (incoming, outgoing, exchange) => {
    const headers = incoming.headers;
    const outcome = authenticator.authenticate((name) => {
      const value = headers[name];
      return typeof value === 'string' ? value : undefined;
    });
    // Most credentials are checked without waiting (see Authenticator): no promise for them.
    return outcome instanceof Promise ? outcome.then((o) => admit(outgoing, exchange, o)) : admit(outgoing, exchange, outcome);
  };

  const admit = (outgoing: ServerResponse, exchange: Exchange, outcome: AuthOutcome): boolean => {
    if (!outcome.ok) {
      exchange.note = outcome.reason;
      if (outcome.status === 429) {
        return refuse(outgoing, exchange, 'auth_busy', 429, 'unavailable', 'too many password checks in progress; retry shortly', {
          'retry-after': '1',
        });
      }
      const challenge = outcome.challenge === undefined ? undefined : { 'www-authenticate': outcome.challenge };
      return outcome.status === 401
        ? refuse(outgoing, exchange, 'unauthenticated', 401, 'unauthorized', 'authentication required', challenge)
        : refuse(outgoing, exchange, 'forbidden', 403, 'forbidden', 'access denied', challenge);
    }
    const principal = outcome.principal;
    exchange.principal = principal;
    // Nothing is ever forwarded unfiltered: a principal must be confined by matchers or by a tenant id.
    if (principal.matchers.length === 0 && principal.tenantId === undefined) {
      exchange.note = 'the principal has no namespaces, labels or tenant id';
      return refuse(outgoing, exchange, 'forbidden', 403, 'forbidden', 'access denied: no namespace, label or tenant is granted');
    }
    return false;
  };

  const route: Stage = (incoming, outgoing, exchange) => {
    const found = exchange.route;
    if (found === undefined) return refuse(outgoing, exchange, 'not_found', 404, 'not_found', `${exchange.target!.path}: not found`);
    const method = incoming.method ?? '';
    if (!found.endpoint.methods.includes(method)) {
      return refuse(outgoing, exchange, 'method_not_allowed', 405, 'bad_data', `method ${method} not allowed for ${found.endpoint.name}`, {
        allow: found.endpoint.methods.join(', '),
      });
    }
    if (found.labelSegment !== undefined) {
      const name = labelNameFromSegment(found.labelSegment);
      if (!name.ok) return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', name.error);
      exchange.labelName = name.value;
    }
    return false;
  };

  const parameters: Stage = (incoming, outgoing, exchange) => {
    const params: Param[] = [];
    const fromUrl = decodeForm(exchange.target!.query, params);
    if (!fromUrl.ok) return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', fromUrl.error);
    exchange.params = params;
    return incoming.method === 'POST' ? formBody(incoming, outgoing, exchange) : false;
  };

  const formBody: Stage = async (incoming, outgoing, exchange) => {
    if (!isForm(incoming.headers['content-type'])) {
      return refuse(outgoing, exchange, 'unsupported_media_type', 415, 'bad_data', 'a POST body must be application/x-www-form-urlencoded');
    }
    const body = await readBody(incoming, maxBodySize);
    if (!body.ok) {
      return body.error.status === 413
        ? refuse(outgoing, exchange, 'body_too_large', 413, 'bad_data', body.error.message, { connection: 'close' })
        : refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', body.error.message);
    }
    const fromBody = decodeForm(body.value, exchange.params!);
    if (!fromBody.ok) return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', fromBody.error);
    exchange.isForm = true;
    return false;
  };

  const enforceAndForward: Stage = (incoming, outgoing, exchange) => {
    const principal = exchange.principal!;
    const endpoint = exchange.route!.endpoint;
    const enforced = enforceParams(endpoint.kind, exchange.params!, principal.matchers);
    if (!enforced.ok) return refuse(outgoing, exchange, 'bad_request', enforced.error.status, enforced.error.errorType, enforced.error.message);
    const { encoded, metadata } = enforced.value;
    exchange.enforced = encoded;
    const isForm = exchange.isForm === true;
    const headers = upstreamHeaders(incoming.headers, exchange.id, principal.tenantId, isForm);
    if (metadata !== undefined) {
      return forwardMetadata(upstream, metadata, principal.matchers, headers, outgoing, exchange, metrics).then(() => true);
    }
    const path = exchange.labelName === undefined ? endpoint.name : `/api/v1/label/${exchange.labelName}/values`;
    const request = isForm
      ? { method: 'POST' as const, path, headers, body: encoded }
      : { method: 'GET' as const, path: encoded.length === 0 ? path : `${path}?${encoded}`, headers };
    return forward(upstream, request, outgoing, exchange, metrics).then(() => true);
  };

  const stages: readonly Stage[] = [canonicalPath, unprotectedEndpoints, authenticate, route, parameters, enforceAndForward];

  const internalError = (error: unknown, outgoing: ServerResponse, exchange?: Exchange): Response => {
    const { stack, message } = error instanceof Error ? error : new Error(String(error));
    if (exchange !== undefined) exchange.note = stack ?? message;
    deps.logger.error({ err: error, id: exchange?.id }, 'internal error');
    sendError(outgoing, 500, 'internal', 'internal error');
    return RESPONSE_ALREADY_SENT;
  };

  app.all('*', async (c) => {
    const { incoming, outgoing } = c.env;
    const exchange = beginExchange(incoming, outgoing);
    try {
      for (const stage of stages) {
        const answered = stage(incoming, outgoing, exchange);
        // Awaited only when the stage has to wait: an await costs a microtask turn even on a plain value.
        if (typeof answered === 'boolean' ? answered : await answered) break;
      }
    } catch (error) {
      internalError(error, outgoing, exchange);
    } finally {
      endExchange(exchange, incoming, outgoing, deps.logger, metrics);
    }
    return RESPONSE_ALREADY_SENT;
  });
  // What fails in Hono itself, before a request has its exchange.
  app.onError((error, c) => internalError(error, c.env.outgoing));
  return app;
}
