import type { IncomingMessage } from 'node:http';
import type { Authenticator } from '../auth/types.js';
import type { Deps } from '../observability/deps.js';
import { err, ok, type Result } from '../result.js';
import type { Upstream } from '../upstream/upstream.js';

/** The trace-context formats taken from requests and sent upstream: OTEL_PROPAGATORS' names. */
export type Propagator = 'tracecontext' | 'jaeger' | 'baggage';

/** Tracing as the environment asks for it; its absence means off. */
export interface TracingSettings {
  readonly propagators: readonly Propagator[];
  /** OTEL_SERVICE_NAME's default. */
  readonly serviceName: string;
  /** Said at start-up: what the environment asked for that promgate does otherwise. */
  readonly warnings: readonly string[];
}

/** What a request's server span is told once the request has ended. */
export interface RequestSummary {
  readonly route: string;
  readonly status: number;
  readonly requestId: string;
  readonly user?: string;
  readonly tenant?: string;
}

/** Attributes a span is given from what its work returned. */
export type Outcome = Readonly<Record<string, string | number | boolean>>;

/**
 * promgate's view of OpenTelemetry: the few places a request is traced. The SDK behind it is loaded only when
 * tracing is on (see startTracing), so that, off, tracing costs a request one check and nothing else.
 */
export interface Tracing {
  /**
   * Runs `serve` under the request's server span, a child of the caller's `traceparent` or `uber-trace-id` when it
   * sent one; the span ends when `serve` settles, described by `summary`.
   */
  request<T>(incoming: IncomingMessage, serve: () => Promise<T>, summary: () => RequestSummary): Promise<T>;
  /** `run` under a child span of the current one, ended when it returns (or, a promise, settles). */
  span<T>(name: string, run: () => T, outcome?: (value: Awaited<T>) => Outcome): T;
  /** The authenticator, each check a span. */
  authenticator(authenticator: Authenticator): Authenticator;
  /** Each upstream, every call to it a client span whose context is sent with it (instead of the client's own). */
  upstreams(upstreams: ReadonlyMap<string, Upstream>): ReadonlyMap<string, Upstream>;
  /** Sends the spans still waiting, then stops. */
  close(): Promise<void>;
}

const PROPAGATORS: readonly Propagator[] = ['tracecontext', 'jaeger', 'baggage'];
const DEFAULT_PROPAGATORS: readonly Propagator[] = ['tracecontext', 'jaeger'];

const list = (value: string | undefined): string[] | undefined => {
  const items = value?.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  return items === undefined || items.length === 0 ? undefined : items;
};

/**
 * Whether and how to trace, from the standard OTEL_* environment variables. Off unless asked for: by
 * OTEL_TRACES_EXPORTER=otlp, or by an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) with no OTEL_TRACES_EXPORTER; OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none keep it off. Spans go out as OTLP over HTTP (JSON); what the SDK reads itself
 * (endpoint, headers, timeout, sampler, batching, resource attributes) is left to it.
 */
export function tracingSettings(env: NodeJS.ProcessEnv): Result<TracingSettings | undefined, string> {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return ok(undefined);
  const exporters = list(env.OTEL_TRACES_EXPORTER);
  const unsupported = exporters?.find((e) => e !== 'otlp' && e !== 'none');
  if (unsupported !== undefined) return err(`OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}: promgate exports traces as otlp only (or none)`);
  const endpoint = [env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env.OTEL_EXPORTER_OTLP_ENDPOINT].some((e) => e !== undefined && e.trim() !== '');
  if (!(exporters === undefined ? endpoint : exporters.includes('otlp'))) return ok(undefined);

  const warnings: string[] = [];
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol === 'grpc') return err('OTEL_EXPORTER_OTLP_PROTOCOL=grpc: promgate exports OTLP over HTTP only (http/json)');
  if (protocol === 'http/protobuf') warnings.push('OTLP/HTTP spans are sent as JSON (http/json), which OTLP/HTTP receivers take beside http/protobuf');
  else if (protocol !== undefined && protocol !== '' && protocol !== 'http/json') return err(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: promgate exports http/json`);

  const asked = list(env.OTEL_PROPAGATORS);
  const wrong = asked?.find((p) => p !== 'none' && !(PROPAGATORS as readonly string[]).includes(p));
  if (wrong !== undefined) return err(`OTEL_PROPAGATORS: ${wrong} is not one promgate speaks (${PROPAGATORS.join(', ')}, none)`);
  const propagators = asked === undefined ? DEFAULT_PROPAGATORS : (asked.filter((p) => p !== 'none') as Propagator[]);
  return ok({ propagators: [...new Set(propagators)], serviceName: 'promgate', warnings });
}

/** Tracing as the environment asks for it: undefined when off, the OpenTelemetry SDK loaded only when on. */
export async function startTracing(env: NodeJS.ProcessEnv, deps: Deps): Promise<Result<Tracing | undefined, string>> {
  const settings = tracingSettings(env);
  if (!settings.ok || settings.value === undefined) return settings as Result<undefined, string>;
  const { createTracing } = await import('./otel.js');
  return ok(createTracing(settings.value, deps));
}
