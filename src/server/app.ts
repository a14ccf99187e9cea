import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { AuthOutcome, Authenticator } from '../auth/types.js';
import { isolation, type Enforcement } from '../enforce/isolation.js';
import type { EnforcedCache } from '../enforce/params.js';
import { isForm, isJson, limitedBody, readBody, type BodyRefusal } from '../http/body.js';
import { sendError, type ErrorType } from '../http/errors.js';
import { decodeForm, encodeParam, type Param } from '../http/form.js';
import { parseTarget } from '../http/target.js';
import type { Lease, LimitRefusal, Limiter } from '../limits/limiter.js';
import { passedThrough } from '../tenant.js';
import type { Deps } from '../observability/deps.js';
import type { GatewayMetrics, Refusal } from '../observability/metrics.js';
import type { Action, Method, Refusal as RouteRefusal, Route } from '../routes/route.js';
import type { RouteTable } from '../routes/table.js';
import { answerUpstreamFailure } from '../upstream/failure.js';
import { forward } from '../upstream/forward.js';
import { upstreamHeaders } from '../upstream/headers.js';
import { BadUpstream, jsonClient, type JsonAnswer, type JsonClient } from '../upstream/json.js';
import type { Upstream, UpstreamRequest } from '../upstream/upstream.js';
import type { Outcome, Tracing } from '../tracing/tracing.js';
import type { Exchange } from './exchange.js';
import { beginExchange, endExchange } from './observe.js';
import { NodeRequestView } from './request-view.js';

export interface AppOptions {
  /** The endpoints served (see routes/table.ts). */
  routes: RouteTable;
  /** The upstreams the routes name. */
  upstreams: ReadonlyMap<string, Upstream>;
  authenticator: Authenticator;
  /** Exact paths proxied for GET and HEAD without authentication, and the upstream they go to. */
  unprotected: ReadonlySet<string>;
  unprotectedUpstream: string;
  /** Largest form or JSON body read. */
  maxBodySize: number;
  /** Largest body streamed through untouched (`raw` routes). */
  maxRawBodySize: number;
  cache: EnforcedCache;
  /** How the upstream keeps tenants apart, and so what a credential must carry. */
  enforcement: Enforcement;
  metrics: GatewayMetrics;
  /** Tenant rate and concurrency limits, and the limits handlers hold queries to; none when not given. */
  limiter?: Limiter;
  /** OpenTelemetry spans of each request, its authentication, enforcement and upstream calls; none when off. */
  tracing?: Tracing;
}

type GatewayEnv = { Bindings: HttpBindings };

/**
 * A stage of the request's way: true once it has answered the request itself (a refusal, say), false to let the
 * next stage go on. Only a stage that may have to wait (bcrypt, a POST body, the upstream) returns a promise.
 */
type Stage = (incoming: IncomingMessage, outgoing: ServerResponse, exchange: Exchange) => boolean | Promise<boolean>;

const REFUSAL_BY_STATUS: Readonly<Record<number, Refusal>> = { 400: 'bad_request', 403: 'forbidden', 404: 'not_found', 413: 'body_too_large', 415: 'unsupported_media_type', 422: 'limited' };
const WITH_BODY = new Set(['POST', 'PUT']);

/**
 * The gateway: one stage a concern, in the order a request flows: canonical path and route, unauthenticated
 * endpoints, authentication, method, parameters and body by the route's policy, the route's handler, and the
 * upstream call its action names. The stages hold no policy of any endpoint: that is the route table's.
 * Every answer, the upstream's included, is written straight to Node's response; Hono sees RESPONSE_ALREADY_SENT.
 *
 * The stages run from one Hono handler rather than as Hono middleware: as middleware, each stage cost a promise
 * and several microtask turns per request, about a tenth of the gateway's CPU time per request. They read Node's
 * request (`c.env.incoming`) directly, so that Hono builds no Web Request or Headers either.
 */
export function createApp(options: AppOptions, deps: Deps): Hono<GatewayEnv> {
  const { routes, unprotected, maxBodySize, maxRawBodySize, cache, enforcement, metrics, limiter, tracing } = options;
  // Traced, authentication and every upstream call are spans of their own; untraced, nothing is wrapped.
  const authenticator = tracing === undefined ? options.authenticator : tracing.authenticator(options.authenticator);
  const upstreams = tracing === undefined ? options.upstreams : tracing.upstreams(options.upstreams);
  const upstreamOf = (name: string): Upstream => {
    const upstream = upstreams.get(name);
    if (upstream === undefined) throw new Error(`no upstream named ${JSON.stringify(name)}`);
    return upstream;
  };
  // Every route's upstream is known before the first request.
  for (const route of routes.routes) upstreamOf(route.upstream);
  const unprotectedUpstream = upstreamOf(options.unprotectedUpstream);
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
  const refuseBody = (outgoing: ServerResponse, exchange: Exchange, refusal: BodyRefusal): true =>
    refusal.status === 413
      ? refuse(outgoing, exchange, 'body_too_large', 413, 'bad_data', refusal.message, { connection: 'close' })
      : refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', refusal.message);

  // The raw request-target, not a parsed URL: URL parsing would already have resolved dot segments.
  const canonicalPath: Stage = (incoming, outgoing, exchange) => {
    const target = parseTarget(incoming.url ?? '');
    if (!target.ok) return refuse(outgoing, exchange, 'bad_path', 400, 'bad_data', target.error);
    exchange.target = target.value;
    const match = routes.find(target.value.path);
    if (match !== undefined) {
      exchange.match = match;
      exchange.endpoint = match.route.path;
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
    const headers = upstreamHeaders(incoming.headers, exchange.id, undefined, undefined);
    const request = { method, path: encoded ? `${path}?${encoded}` : path, headers } as const;
    // A path one of the routes matches goes to that route's upstream (gateway mode), any other to the default one.
    const upstream = exchange.match === undefined ? unprotectedUpstream : upstreamOf(exchange.match.route.upstream);
    return forward(upstream, request, outgoing, exchange, metrics).then(() => true);
  };

  const authenticate: Stage = (incoming, outgoing, exchange) => {
    const outcome = authenticator.authenticate(new NodeRequestView(incoming));
    // Most credentials are checked without waiting (see Authenticator): no promise for them.
    return outcome instanceof Promise ? outcome.then((o) => admit(incoming, outgoing, exchange, o)) : admit(incoming, outgoing, exchange, outcome);
  };

  const admit = (incoming: IncomingMessage, outgoing: ServerResponse, exchange: Exchange, outcome: AuthOutcome): boolean => {
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
    // Nothing is ever forwarded unfiltered: a principal must be confined by what the upstream isolates by.
    let tenantId = principal.grant.tenantId;
    if (principal.grant.passthrough === true) {
      const sent = passedThrough(incoming.headers['x-scope-orgid'] as string | undefined, tenantId);
      if (!sent.ok) return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', sent.error);
      exchange.note = `passthrough tenant: the client's X-Scope-OrgID ${sent.value} forwarded`;
      tenantId = sent.value;
    }
    // Each route says how its upstream keeps tenants apart; k8spin mode's routes leave it to --enforce.
    const orgId = isolation({ matchers: principal.matchers.length > 0, tenantId }, exchange.match?.route.enforcement ?? enforcement);
    if (!orgId.ok) {
      exchange.note = orgId.error;
      return refuse(outgoing, exchange, 'forbidden', 403, 'forbidden', `access denied: ${orgId.error}`);
    }
    exchange.orgId = orgId.value;
    return false;
  };

  const method: Stage = (incoming, outgoing, exchange) => {
    const found = exchange.match;
    if (found === undefined) return refuse(outgoing, exchange, 'not_found', 404, 'not_found', `${exchange.target!.path}: not found`);
    const { route } = found;
    const asked = incoming.method ?? '';
    if (!(route.methods as readonly string[]).includes(asked)) {
      return refuse(outgoing, exchange, 'method_not_allowed', 405, 'bad_data', `method ${asked} not allowed for ${route.path}`, {
        allow: route.methods.join(', '),
      });
    }
    return false;
  };

  const parameters: Stage = (incoming, outgoing, exchange) => {
    const params: Param[] = [];
    const fromUrl = decodeForm(exchange.target!.query, params);
    if (!fromUrl.ok) return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', fromUrl.error);
    exchange.params = params;
    if (!WITH_BODY.has(incoming.method!)) return false;
    const policy = exchange.match!.route.body;
    if (policy === 'form') return formBody(incoming, outgoing, exchange);
    if (policy === 'json') return jsonBody(incoming, outgoing, exchange);
    return false;
  };

  const formBody: Stage = async (incoming, outgoing, exchange) => {
    if (!isForm(incoming.headers['content-type'])) {
      return refuse(outgoing, exchange, 'unsupported_media_type', 415, 'bad_data', 'a POST body must be application/x-www-form-urlencoded');
    }
    const body = await readBody(incoming, maxBodySize);
    if (!body.ok) return refuseBody(outgoing, exchange, body.error);
    const fromBody = decodeForm(body.value, exchange.params!);
    if (!fromBody.ok) return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', fromBody.error);
    exchange.isForm = true;
    return false;
  };

  const jsonBody: Stage = async (incoming, outgoing, exchange) => {
    if (!isJson(incoming.headers['content-type'])) {
      return refuse(outgoing, exchange, 'unsupported_media_type', 415, 'bad_data', `a ${incoming.method} body must be application/json`);
    }
    const body = await readBody(incoming, maxBodySize);
    if (!body.ok) return refuseBody(outgoing, exchange, body.error);
    try {
      exchange.json = JSON.parse(body.value);
    } catch (e) {
      return refuse(outgoing, exchange, 'bad_request', 400, 'bad_data', `the body is not valid JSON: ${(e as Error).message}`);
    }
    return false;
  };

  const handle: Stage = (incoming, outgoing, exchange) => {
    const { route, segments } = exchange.match!;
    const principal = exchange.principal!;
    const asked = {
      principal,
      path: exchange.target!.path,
      method: incoming.method as Method,
      params: exchange.params!,
      segments,
      ...(exchange.json !== undefined && { json: exchange.json }),
      cache,
      ...(exchange.limits !== undefined && { limits: exchange.limits }),
    };
    const decided = tracing === undefined ? route.handler(asked) : tracing.span('enforce', () => route.handler(asked), decisionOutcome);
    if (!decided.ok) {
      if (decided.error.limit !== undefined) limiter?.count(principal, decided.error.limit);
      return refuseRoute(outgoing, exchange, decided.error);
    }
    if (limiter === undefined) return execute(decided.value, route, incoming, outgoing, exchange).then(() => true);
    // One of the tenant's concurrent places is held until the answer has ended.
    const leased = limiter.acquire(principal, exchange.limits!, outgoing);
    const run = (lease: Lease | LimitRefusal): boolean | Promise<boolean> => {
      if ('reason' in lease) return outgoing.destroyed || refuseLimited(outgoing, exchange, lease);
      return execute(decided.value, route, incoming, outgoing, exchange).then(
        () => {
          lease.release();
          return true;
        },
        (error: unknown) => {
          lease.release();
          throw error;
        },
      );
    };
    return leased instanceof Promise ? leased.then(run) : run(leased);
  };

  /**
   * The tenant's request rate (a token from its bucket), and its concurrency when its places and queue are full:
   * 429 with Retry-After, before the body is read.
   */
  const rateLimit: Stage = (_incoming, outgoing, exchange) => {
    const principal = exchange.principal!;
    const limits = limiter!.limitsOf(principal.limits);
    exchange.limits = limits;
    const refused = limiter!.admit(principal, limits) ?? limiter!.saturated(principal, limits);
    if (refused === undefined) return false;
    if (refused instanceof Promise) return refused.then((r) => r !== undefined && refuseLimited(outgoing, exchange, r));
    return refuseLimited(outgoing, exchange, refused);
  };

  const refuseLimited = (outgoing: ServerResponse, exchange: Exchange, refusal: LimitRefusal): true => {
    exchange.note = refusal.message;
    return refuse(outgoing, exchange, 'limited', refusal.status, 'unavailable', refusal.message, {
      'retry-after': String(refusal.retryAfterSeconds),
    });
  };

  const refuseRoute = (outgoing: ServerResponse, exchange: Exchange, refusal: RouteRefusal): true =>
    refuse(outgoing, exchange, REFUSAL_BY_STATUS[refusal.status] ?? 'internal', refusal.status, refusal.errorType, refusal.message);

  /** Carries out what the handler decided, against the route's upstream (not async: a stream needs no extra turn). */
  const execute = (action: Action, route: Route, incoming: IncomingMessage, outgoing: ServerResponse, exchange: Exchange): Promise<void> => {
    const upstream = upstreamOf(route.upstream);
    const tenantId = exchange.orgId;
    if (action.kind === 'answer') {
      const headers = upstreamHeaders(incoming.headers, exchange.id, tenantId, undefined);
      return readUpstream(action.run, upstream, headers, outgoing, exchange).then((made) => {
        if (made !== undefined) exchange.bytes = sendJson(outgoing, made);
      });
    }
    if (action.kind === 'checked') {
      const headers = upstreamHeaders(incoming.headers, exchange.id, tenantId, undefined);
      return readUpstream(action.check, upstream, headers, outgoing, exchange).then((decided) => {
        if (decided === undefined) return undefined;
        if (!decided.ok) return void refuseRoute(outgoing, exchange, decided.error);
        return execute({ kind: 'stream', call: decided.value }, route, incoming, outgoing, exchange);
      });
    }
    const { path, params } = action.call;
    exchange.enforced = params;
    let request: UpstreamRequest;
    if (route.body === 'raw' && WITH_BODY.has(incoming.method!)) {
      const body = limitedBody(incoming, route.maxBodySize ?? maxRawBodySize);
      if (!body.ok) {
        refuseBody(outgoing, exchange, body.error);
        return Promise.resolve();
      }
      const headers = upstreamHeaders(incoming.headers, exchange.id, tenantId, 'raw');
      request = { method: incoming.method as 'POST' | 'PUT', path: withQuery(path, params), headers, body: body.value };
    } else if (action.call.json !== undefined || exchange.json !== undefined) {
      const headers = upstreamHeaders(incoming.headers, exchange.id, tenantId, 'json');
      const body = JSON.stringify(action.call.json ?? exchange.json);
      request = { method: incoming.method as 'POST' | 'PUT', path: withQuery(path, params), headers, body };
    } else if (exchange.isForm === true) {
      const headers = upstreamHeaders(incoming.headers, exchange.id, tenantId, 'form');
      request = { method: 'POST', path, headers, body: params };
    } else {
      const headers = upstreamHeaders(incoming.headers, exchange.id, tenantId, undefined);
      request = { method: incoming.method === 'DELETE' ? 'DELETE' : 'GET', path: withQuery(path, params), headers };
    }
    return forward(upstream, request, outgoing, exchange, metrics);
  };

  /** What `run` makes of the upstream's JSON answers; undefined once a failure to read them has been answered. */
  const readUpstream = async <T>(
    run: (client: JsonClient) => Promise<T>,
    upstream: Upstream,
    headers: Record<string, string>,
    outgoing: ServerResponse,
    exchange: Exchange,
  ): Promise<T | undefined> => {
    const asked = performance.now();
    try {
      return await run(jsonClient(upstream, headers));
    } catch (error) {
      exchange.note = (error as Error).message;
      if (error instanceof BadUpstream) {
        metrics.upstreamError('interrupted');
        exchange.bytes = sendError(outgoing, 502, 'unavailable', error.message);
        return undefined;
      }
      const answered = answerUpstreamFailure(outgoing, error);
      if (answered.failure !== undefined) metrics.upstreamError(answered.failure);
      exchange.bytes = answered.bytes;
      return undefined;
    } finally {
      // Every way out, an upstream error passed on included.
      exchange.upstreamMs = performance.now() - asked;
    }
  };

  const stages: readonly Stage[] =
    limiter === undefined
      ? [canonicalPath, unprotectedEndpoints, authenticate, method, parameters, handle]
      : [canonicalPath, unprotectedEndpoints, authenticate, method, rateLimit, parameters, handle];

  const internalError = (error: unknown, outgoing: ServerResponse, exchange?: Exchange): Response => {
    const { stack, message } = error instanceof Error ? error : new Error(String(error));
    if (exchange !== undefined) exchange.note = stack ?? message;
    deps.logger.error({ err: error, id: exchange?.id }, 'internal error');
    sendError(outgoing, 500, 'internal', 'internal error');
    return RESPONSE_ALREADY_SENT;
  };

  const serve = async (incoming: IncomingMessage, outgoing: ServerResponse, exchange: Exchange): Promise<Response> => {
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
  };

  app.all('*', (c) => {
    const { incoming, outgoing } = c.env;
    const exchange = beginExchange(incoming, outgoing);
    if (tracing === undefined) return serve(incoming, outgoing, exchange);
    return tracing.request(incoming, () => serve(incoming, outgoing, exchange), () => ({
      route: exchange.endpoint,
      status: outgoing.statusCode,
      requestId: exchange.id,
      ...(exchange.principal !== undefined && { user: exchange.principal.user }),
      ...(exchange.orgId !== undefined && { tenant: exchange.orgId }),
    }));
  });
  // What fails in Hono itself, before a request has its exchange.
  app.onError((error, c) => internalError(error, c.env.outgoing));
  return app;
}

/** What a traced enforcement span says of the handler's decision (never the query: it may be sensitive). */
const decisionOutcome = (decided: ReturnType<Route['handler']>): Outcome =>
  decided.ok ? { 'promgate.action': decided.value.kind } : { 'promgate.refused': decided.error.status, 'promgate.error_type': decided.error.errorType };

const withQuery = (path: string, params: string): string => (params.length === 0 ? path : `${path}?${params}`);

function sendJson(res: ServerResponse, answer: JsonAnswer): number {
  const body = JSON.stringify(answer.body);
  const bytes = Buffer.byteLength(body);
  res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': bytes });
  res.end(body);
  return bytes;
}
