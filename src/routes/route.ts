import type { Principal } from '../auth/types.js';
import type { Enforcement } from '../enforce/isolation.js';
import type { EnforcedCache, ParamsError } from '../enforce/params.js';
import type { ErrorType } from '../http/errors.js';
import type { Param } from '../http/form.js';
import type { TenantLimits } from '../limits/limits.js';
import type { LimitReason } from '../limits/metrics.js';
import type { JsonAnswer, JsonClient } from '../upstream/json.js';
import type { Result } from '../result.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/**
 * What a route does with a request body: none read (a GET endpoint); `form`, urlencoded parameters joined to
 * the URL's (Prometheus's query APIs take either); `raw`, bytes streamed upstream untouched under their own size
 * limit (remote-write push); `json`, a JSON document decoded for the handler (Alertmanager silences).
 */
export type BodyPolicy = 'none' | 'form' | 'raw' | 'json';

/** What a handler is given: who asks, and what they asked, decoded. */
export interface RouteRequest {
  readonly principal: Principal;
  /** The canonical request path, as the client sent it (still percent-encoded). */
  readonly path: string;
  /** One of the route's methods: routes that act on several (GET and DELETE of a silence) tell them apart. */
  readonly method: Method;
  /** The parameters of the URL and of a form body together, decoded, in the order sent. */
  readonly params: readonly Param[];
  /** The route's `<name>` path segments, in order, still percent-encoded as sent. */
  readonly segments: readonly string[];
  /** The decoded body, for `json` routes. */
  readonly json?: unknown;
  /** Enforced expressions already worked out, shared by every request. */
  readonly cache: EnforcedCache;
  /** The tenant's limits on what a query may ask (range, lookback, points); none when not given. */
  readonly limits?: TenantLimits;
}

/** A request below the upstream's path prefix: its path and its canonical urlencoded parameters. */
export interface UpstreamCall {
  readonly path: string;
  readonly params: string;
  /** The JSON body to send, for `json` routes; other routes send the body their policy says. */
  readonly json?: unknown;
}

/** What the gateway does once a handler has looked at a request. */
export type Action =
  /** The call goes upstream and the answer streams back untouched. */
  | { readonly kind: 'stream'; readonly call: UpstreamCall }
  /** promgate reads the upstream's answers itself and sends the JSON answer `run` makes of them. */
  | { readonly kind: 'answer'; readonly run: (client: JsonClient) => Promise<JsonAnswer> }
  /**
   * promgate reads the upstream first (a silence before it is changed or deleted), then refuses, or sends the call
   * `check` decides on, whose answer streams back as a `stream` call's does.
   */
  | { readonly kind: 'checked'; readonly check: (client: JsonClient) => Promise<Result<UpstreamCall, Refusal>> };

/** A refusal by promgate itself, in Prometheus's error shape. */
export interface Refusal {
  readonly status: number;
  readonly errorType: ErrorType;
  readonly message: string;
  /** The limit the request is over, when that is why: counted by tenant. */
  readonly limit?: LimitReason;
}

/** Decides what to do with a request: pure, but for the upstream calls an `answer` action makes when run. */
export type Handler = (request: RouteRequest) => Result<Action, Refusal>;

/** One endpoint promgate serves. */
export interface Route {
  /** The path, `<name>` standing for one path segment; as reported in logs and metrics. */
  readonly path: string;
  /** Those the upstream registers for the path, so that promgate's 405 matches its behaviour. */
  readonly methods: readonly Method[];
  readonly body: BodyPolicy;
  /** The name of the upstream the route's calls go to. */
  readonly upstream: string;
  /** Whether its answers can hold series data: such a route is never served without authentication. */
  readonly readsSeries: boolean;
  readonly handler: Handler;
  /** Gateway mode: the route matches every path below its own (whole segments), not only its own. */
  readonly prefix?: boolean;
  /** How the route's upstream keeps tenants apart; unset: the gateway's one `enforcement` (k8spin's --enforce). */
  readonly enforcement?: Enforcement;
  /** The largest body a `raw` route streams through; unset: the gateway's `maxRawBodySize`. */
  readonly maxBodySize?: number;
}

export const stream = (call: UpstreamCall): Result<Action, Refusal> => ({ ok: true, value: { kind: 'stream', call } });

/** A refusal of the request's parameters: the caller's (400, or 422 over a complexity limit), or the parser's own failure (500). */
export function paramsRefusal(error: ParamsError): Result<never, Refusal> {
  if (error.tooComplex === true) return { ok: false, error: { status: 422, errorType: 'bad_data', message: error.message, limit: 'too_complex' } };
  return { ok: false, error: { status: error.errorType === 'internal' ? 500 : 400, errorType: error.errorType, message: error.message } };
}

export function badData(message: string): Result<never, Refusal> {
  return { ok: false, error: { status: 400, errorType: 'bad_data', message } };
}
