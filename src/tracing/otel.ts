// The OpenTelemetry SDK behind promgate's Tracing: imported by startTracing alone, and only when tracing is on.
import { readFileSync } from 'node:fs';
import {
  context,
  defaultTextMapGetter,
  diag,
  DiagLogLevel,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { AuthOutcome, Authenticator } from '../auth/types.js';
import type { Deps } from '../observability/deps.js';
import { tapped } from '../upstream/tap.js';
import type { Upstream, UpstreamRequest } from '../upstream/upstream.js';
import type { Outcome, Propagator, Tracing, TracingSettings } from './tracing.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const PROPAGATORS: Readonly<Record<Propagator, () => TextMapPropagator>> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  jaeger: () => new JaegerPropagator(),
  baggage: () => new W3CBaggagePropagator(),
};

// The client's own trace headers: with tracing on, the upstream call's span context is sent in their place.
const CLIENT_TRACE_HEADERS = ['traceparent', 'tracestate', 'uber-trace-id'];

export function createTracing(settings: TracingSettings, deps: Deps): Tracing {
  const logger = deps.logger.child({ tracing: 'otlp' });
  // The SDK's own troubles (a collector that cannot be reached, spans dropped) would otherwise go unsaid.
  diag.setLogger(
    {
      error: (message, ...args) => logger.warn({ args }, message),
      warn: (message, ...args) => logger.warn({ args }, message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  for (const warning of settings.warnings) logger.warn(warning);
  // The environment's service name and resource attributes (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) win.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': version }))
    .merge(detectResources({ detectors: [envDetector] }));
  // The exporter reads OTEL_EXPORTER_OTLP_* itself, the sampler OTEL_TRACES_SAMPLER, the batching OTEL_BSP_*.
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  const propagator = new CompositePropagator({ propagators: settings.propagators.map((p) => PROPAGATORS[p]()) });
  // Registered for its context manager (AsyncLocalStorage): a span started in a stage is the parent of what follows.
  provider.register({ propagator });
  const tracer = provider.getTracer('promgate', version);
  logger.info({ propagators: settings.propagators }, 'tracing on: spans exported as OTLP over HTTP');

  const ended = <T>(span: Span, value: T, outcome: ((value: Awaited<T>) => Outcome) | undefined): T => {
    if (value instanceof Promise) {
      return value.then(
        (settled: unknown) => ended(span, settled, outcome as ((value: unknown) => Outcome) | undefined),
        (error: unknown) => {
          failed(span, error);
          span.end();
          throw error;
        },
      ) as T;
    }
    if (outcome !== undefined) span.setAttributes(outcome(value as Awaited<T>));
    span.end();
    return value;
  };

  const span = <T>(name: string, run: () => T, outcome?: (value: Awaited<T>) => Outcome): T => {
    const child = tracer.startSpan(name);
    let value: T;
    try {
      value = context.with(trace.setSpan(context.active(), child), run);
    } catch (error) {
      failed(child, error);
      child.end();
      throw error;
    }
    return ended(child, value, outcome);
  };

  return {
    request: (incoming, serve, summary) => {
      const parent = propagator.extract(ROOT_CONTEXT, incoming.headers, defaultTextMapGetter);
      const method = incoming.method ?? 'GET';
      const server = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
      const finish = (): void => {
        const s = summary();
        server.updateName(`${method} ${s.route}`);
        server.setAttributes({
          'http.route': s.route,
          'http.response.status_code': s.status,
          'promgate.request_id': s.requestId,
          ...(s.user !== undefined && { 'enduser.id': s.user }),
          ...(s.tenant !== undefined && { 'promgate.tenant': s.tenant }),
        });
        if (s.status >= 500) server.setStatus({ code: SpanStatusCode.ERROR });
        server.end();
      };
      return context.with(trace.setSpan(parent, server), serve).finally(finish);
    },
    span,
    authenticator: (inner) => ({
      authenticate: (request) => span('authenticate', () => inner.authenticate(request), authOutcome),
      close: () => inner.close(),
    }),
    upstreams: (upstreams) => new Map([...upstreams].map(([name, upstream]) => [name, tracedUpstream(name, upstream)])),
    close: async () => {
      // The last spans are sent if the collector takes them; one that cannot be reached must not fail the shutdown.
      await provider.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'tracing: the last spans could not be sent'));
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };

  /** Every call to `upstream` a client span; the span's context goes upstream in the propagators' headers. */
  function tracedUpstream(name: string, upstream: Upstream): Upstream {
    const start = (req: UpstreamRequest): { span: Span; req: UpstreamRequest } => {
      const path = req.path.split('?', 1)[0]!;
      const client = tracer.startSpan(`${req.method} ${name}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': req.method, 'url.path': path, 'promgate.component': name },
      });
      const headers = { ...req.headers };
      for (const header of CLIENT_TRACE_HEADERS) delete headers[header];
      propagator.inject(trace.setSpan(context.active(), client), headers, { set: (carrier, key, value) => void (carrier[key] = value) });
      return { span: client, req: { ...req, headers } };
    };
    return {
      request: async (req) => {
        const call = start(req);
        try {
          const answer = await upstream.request(call.req);
          answered(call.span, answer.statusCode);
          return answer;
        } catch (error) {
          failed(call.span, error);
          throw error;
        } finally {
          call.span.end();
        }
      },
      dispatch: (req, handler) => {
        const call = start(req);
        upstream.dispatch(call.req, tapped(handler, {
          answered: (status) => answered(call.span, status),
          ended: () => call.span.end(),
          failed: (error) => {
            failed(call.span, error);
            call.span.end();
          },
        }));
      },
      close: () => upstream.close(),
    };
  }
}

function authOutcome(outcome: AuthOutcome): Outcome {
  if (outcome.ok) return { 'promgate.auth.outcome': 'ok', 'enduser.id': outcome.principal.user };
  return { 'promgate.auth.outcome': outcome.absent === true ? 'absent' : 'refused', 'http.response.status_code': outcome.status };
}

function answered(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
}

function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
