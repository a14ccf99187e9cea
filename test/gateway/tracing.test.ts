// Tracing in gateway mode: spans exported as OTLP/HTTP to a collector on loopback (a stand-in: see
// otlp-collector.ts), parented by an incoming W3C traceparent or Jaeger uber-trace-id, and the upstream call's
// span context sent upstream in both formats. The components are a recording stand-in (nothing in Debian honours
// X-Scope-OrgID), which shows the trace headers promgate sends them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { startOtlpCollector, type OtlpCollector, type ReceivedSpan } from '../support/otlp-collector.js';
import { freePort } from '../support/prometheus.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';

const SERVER = 2;
const CLIENT = 3;

function configFile(upstream: RecordingUpstream): string {
  const file = join(mkdtempSync(join(tmpdir(), 'promgate-trace-')), 'gateway.yaml');
  writeFileSync(
    file,
    [
      'basic:',
      '  demo: {password: "demo-password", tenant: "demo"}',
      'routes:',
      '  - {path: "/prometheus", prefix: true, target: "query-frontend"}',
      'targets:',
      `  query-frontend: "${upstream.url}"`,
    ].join('\n'),
  );
  return file;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

describe('gateway mode: tracing on (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  let collector: OtlpCollector;
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    collector = await startOtlpCollector();
    upstream = await startRecordingUpstream();
    gateway = await startGateway({
      args: ['--config', configFile(upstream)],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'gateway-under-test' },
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
    await collector?.close();
  });

  const query = (headers: Record<string, string>) =>
    fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: { ...basicAuth('demo', 'demo-password'), ...headers } });

  /** The trace's server span, and its authentication, enforcement and upstream spans, each checked for its parent. */
  async function spansOf(traceId: string, callerSpanId: string): Promise<Record<'server' | 'authenticate' | 'enforce' | 'upstream', ReceivedSpan>> {
    const spans = await collector.trace(traceId, 4);
    const server = spans.find((s) => s.kind === SERVER);
    assert.ok(server, JSON.stringify(spans));
    assert.equal(server.parentSpanId, callerSpanId, "the caller's span is the server span's parent");
    assert.equal(server.name, 'GET /prometheus');
    assert.equal(server.attributes['http.response.status_code'], 200);
    assert.equal(server.attributes['promgate.tenant'], 'demo');
    assert.equal(server.resource['service.name'], 'gateway-under-test');
    const child = (name: string, kind = 1): ReceivedSpan => {
      const found = spans.find((s) => s.name === name && s.kind === kind);
      assert.ok(found, `${name} in ${JSON.stringify(spans.map((s) => s.name))}`);
      assert.equal(found.parentSpanId, server.spanId, `${name} is a child of the server span`);
      return found;
    };
    const authenticate = child('authenticate');
    assert.equal(authenticate.attributes['promgate.auth.outcome'], 'ok');
    assert.equal(authenticate.attributes['enduser.id'], 'demo');
    const enforce = child('enforce');
    assert.equal(enforce.attributes['promgate.action'], 'stream');
    const upstreamSpan = child('GET query-frontend', CLIENT);
    assert.equal(upstreamSpan.attributes['http.response.status_code'], 200);
    assert.equal(upstreamSpan.attributes['url.path'], '/prometheus/api/v1/query');
    return { server, authenticate, enforce, upstream: upstreamSpan };
  }

  /** The trace headers the component got: the upstream span's context, in W3C's format and Jaeger's. */
  function assertPropagated(traceId: string, upstreamSpan: ReceivedSpan): void {
    const headers = upstream.requests.at(-1)!.headers;
    assert.equal(headers.traceparent, `00-${traceId}-${upstreamSpan.spanId}-01`);
    assert.equal(headers['uber-trace-id'], `${traceId}:${upstreamSpan.spanId}:0:01`);
  }

  it("continues an incoming W3C traceparent, and sends the upstream call's context on in both formats", async () => {
    const traceId = hex(16);
    const parent = hex(8);
    const res = await query({ traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=kept' });
    assert.equal(res.status, 200);
    const { upstream: upstreamSpan } = await spansOf(traceId, parent);
    assertPropagated(traceId, upstreamSpan);
    assert.equal(upstream.requests.at(-1)!.headers.tracestate, 'vendor=kept', "the caller's tracestate goes on with the trace");
  });

  it('continues an incoming Jaeger uber-trace-id', async () => {
    const traceId = hex(16);
    const parent = hex(8);
    const res = await query({ 'uber-trace-id': `${traceId}:${parent}:0:1` });
    assert.equal(res.status, 200);
    const { upstream: upstreamSpan } = await spansOf(traceId, parent);
    assertPropagated(traceId, upstreamSpan);
  });

  it('starts a trace of its own for a request that carries none', async () => {
    const before = collector.spans.length;
    assert.equal((await query({})).status, 200);
    const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(upstream.requests.at(-1)!.headers.traceparent as string);
    assert.ok(sent, 'a traceparent went upstream');
    const { upstream: upstreamSpan } = await spansOf(sent[1]!, '');
    assert.equal(upstreamSpan.spanId, sent[2]);
    assert.ok(collector.spans.length > before);
  });

  it('traces a refused request: the authentication span says so, and nothing goes upstream', async () => {
    const traceId = hex(16);
    const parent = hex(8);
    const sent = upstream.requests.length;
    const res = await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: { ...basicAuth('demo', 'wrong'), traceparent: `00-${traceId}-${parent}-01` } });
    assert.equal(res.status, 401);
    const spans = await collector.trace(traceId, 2);
    const server = spans.find((s) => s.kind === SERVER)!;
    assert.equal(server.attributes['http.response.status_code'], 401);
    const authenticate = spans.find((s) => s.name === 'authenticate')!;
    assert.equal(authenticate.attributes['promgate.auth.outcome'], 'refused');
    assert.equal(upstream.requests.length, sent);
  });
});

describe('gateway mode: tracing off (no OTEL_* variables)', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGateway({ args: ['--config', configFile(upstream)] });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it("forwards the client's traceparent and tracestate as they came, and no uber-trace-id", async () => {
    const traceparent = `00-${hex(16)}-${hex(8)}-01`;
    const res = await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, {
      headers: { ...basicAuth('demo', 'demo-password'), traceparent, tracestate: 'vendor=kept', 'uber-trace-id': `${hex(16)}:${hex(8)}:0:1` },
    });
    assert.equal(res.status, 200);
    const headers = upstream.requests.at(-1)!.headers;
    assert.equal(headers.traceparent, traceparent);
    assert.equal(headers.tracestate, 'vendor=kept');
    assert.equal(headers['uber-trace-id'], undefined);
  });
});

describe('k8spin mode: tracing on', () => {
  let collector: OtlpCollector;
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    collector = await startOtlpCollector();
    upstream = await startRecordingUpstream();
    gateway = await startGateway({
      upstream: upstream.url,
      authConfig: 'users:\n  - {username: alice, password: alice-password, namespace: tenant-a}\n',
      env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.endpoint}/v1/traces`, OTEL_BSP_SCHEDULE_DELAY: '50' },
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
    await collector?.close();
  });

  it('traces an enforced query the same way, its parent from traceparent', async () => {
    const traceId = hex(16);
    const parent = hex(8);
    const res = await fetch(`${gateway.base}/api/v1/query?query=up`, { headers: { ...basicAuth('alice', 'alice-password'), traceparent: `00-${traceId}-${parent}-01` } });
    assert.equal(res.status, 200);
    const spans = await collector.trace(traceId, 4);
    const server = spans.find((s) => s.kind === SERVER)!;
    assert.equal(server.parentSpanId, parent);
    assert.equal(server.name, 'GET /api/v1/query');
    assert.equal(server.resource['service.name'], 'promgate');
    for (const name of ['authenticate', 'enforce', 'GET prometheus']) {
      assert.equal(spans.find((s) => s.name === name)?.parentSpanId, server.spanId, name);
    }
    const client = spans.find((s) => s.kind === CLIENT)!;
    assert.equal(upstream.requests.at(-1)!.headers.traceparent, `00-${traceId}-${client.spanId}-01`);
    assert.equal(upstream.requests.at(-1)!.url, '/api/v1/query?query=up%7Bnamespace%3D%22tenant-a%22%7D', 'enforced as ever');
  });
});

describe('tracing on, the collector down', () => {
  it('serves every request, and shuts down cleanly when the last spans cannot be sent', async () => {
    const upstream = await startRecordingUpstream();
    const gateway = await startGateway({
      args: ['--config', configFile(upstream)],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_TIMEOUT: '1000' },
    });
    try {
      for (let i = 0; i < 5; i++) {
        assert.equal((await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: basicAuth('demo', 'demo-password') })).status, 200);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(upstream.requests.every((r) => typeof r.headers.traceparent === 'string'), 'still traced');
      assert.equal(await gateway.stop(), 0);
    } finally {
      await gateway.stop();
      await upstream.close();
    }
  });
});

describe('tracing settings refused at start-up', () => {
  it('exits with the reason when OTEL_TRACES_EXPORTER names an exporter promgate lacks', async () => {
    const upstream = await startRecordingUpstream();
    try {
      await assert.rejects(
        startGateway({ args: ['--config', configFile(upstream)], env: { OTEL_TRACES_EXPORTER: 'zipkin' } }),
        /OTEL_TRACES_EXPORTER=zipkin: promgate exports traces as otlp only/,
      );
    } finally {
      await upstream.close();
    }
  });
});
