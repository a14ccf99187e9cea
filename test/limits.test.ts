// Query limits through promgate against a real Prometheus 2.42: the quadratic chains of binary operators are refused
// before they reach it (its CPU stays still), shorter ones are answered, and the tenant window limits (range,
// lookback, points per series) are refused with their messages, the users file's limits: block over the flags.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startGateway, type Gateway } from './support/gateway.js';
import { startPrometheus, type PromServer } from './support/prometheus.js';
import { END, tenantData, toOpenMetrics } from './support/tenant-data.js';

const USERS = `users:
  - username: carol
    password: carol-pw
    namespaces: [tenant-a, tenant-b]
  - username: brief
    password: brief-pw
    namespace: tenant-a
    limits:
      max_range: 1h
      max_lookback: 10m
      max_points: 100
`;
const CAROL = basicAuth('carol', 'carol-pw');
const BRIEF = basicAuth('brief', 'brief-pw');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const chain = (terms: number, term = 'up', join = ' + '): string => Array.from({ length: terms }, () => term).join(join);

interface Answer {
  status: number;
  ms: number;
  body: { status: string; errorType?: string; error?: string; data?: { result: unknown[] } };
  retryAfter: string | null;
}

async function post(base: string, path: string, params: Record<string, string>, headers: Record<string, string>): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { ...headers, ...FORM }, body: new URLSearchParams(params) });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, body: JSON.parse(text), retryAfter: res.headers.get('retry-after') };
}

/** Prometheus's own CPU seconds so far, from its /metrics. */
async function upstreamCpu(prometheus: PromServer): Promise<number> {
  const text = await (await fetch(`${prometheus.url}/metrics`)).text();
  const line = /^process_cpu_seconds_total (\S+)$/m.exec(text);
  assert.ok(line, 'Prometheus exposes process_cpu_seconds_total');
  return Number(line[1]);
}

describe('query limits against Prometheus 2.42', () => {
  let prometheus: PromServer;
  let gateway: Gateway;

  before(async () => {
    prometheus = await startPrometheus(toOpenMetrics(tenantData(['tenant-a', 'tenant-b'])));
    gateway = await startGateway({ upstream: prometheus.url, authConfig: USERS });
  });
  after(async () => {
    await gateway?.stop();
    await prometheus?.stop();
  });

  it('refuses the chains Prometheus takes seconds to parse, each within 100 ms, and its CPU stays still', async () => {
    // The README's table, and a chain that fills the 1 MiB body promgate takes (`a+a+…`, each `+` sent as %2B).
    const bodyChain = chain(Math.floor((1024 * 1024 - 100) / 4), 'a', '+');
    const chains = [...[1000, 2000, 4000, 8000].map((n) => chain(n)), bodyChain];
    const cpuBefore = await upstreamCpu(prometheus);
    for (const query of chains) {
      const answer = await post(gateway.base, '/api/v1/query', { query, time: String(END) }, CAROL);
      const what = `${query.length} bytes`;
      assert.equal(answer.status, 422, `${what}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      assert.equal(answer.body.errorType, 'bad_data');
      assert.match(answer.body.error!, /^query too complex: (type-check cost \d+ \(limit 100000\)|more than 10000 nodes \(limit 10000\))/, what);
      assert.ok(answer.ms < 100, `${what} refused in ${answer.ms.toFixed(1)} ms`);
    }
    // format_query and parse_query send the query to Prometheus's parser too.
    for (const path of ['/api/v1/format_query', '/api/v1/parse_query']) {
      const answer = await post(gateway.base, path, { query: chain(8000) }, CAROL);
      assert.equal(answer.status, 422, path);
    }
    await new Promise((r) => setTimeout(r, 10_000));
    const spent = (await upstreamCpu(prometheus)) - cpuBefore;
    // Sent straight to it, the 8,000-term chain alone costs it seconds (README, "Limits").
    assert.ok(spent < 0.5, `Prometheus spent ${spent.toFixed(2)} s of CPU over the next 10 s`);
  });

  it('answers the chains under the limit, as Prometheus does', async () => {
    for (const terms of [10, 100, 300]) {
      const answer = await post(gateway.base, '/api/v1/query', { query: chain(terms, 'up{app="api"}'), time: String(END) }, CAROL);
      assert.equal(answer.status, 200, `${terms} terms: ${JSON.stringify(answer.body).slice(0, 300)}`);
      assert.equal(answer.body.data!.result.length, 4, 'api-0 and api-1 of each of carol\'s two namespaces');
    }
  });

  it('refuses a range, a lookback and points over the defaults, naming the limit', async () => {
    const day = 86_400;
    const cases: [string, Record<string, string>, RegExp][] = [
      ['/api/v1/query_range', { query: 'up', start: String(END - 90 * day), end: String(END), step: '3600' }, /^query range too long: 90d \(limit 32d\)$/],
      ['/api/v1/query_range', { query: 'up', start: String(END - 2 * day), end: String(END), step: '1' }, /^too many points per series: 172800 \(limit 11000\)/],
      ['/api/v1/query', { query: 'rate(up[60d])', time: String(END) }, /^query looks back too far: 60d \(limit 32d\)/],
      ['/api/v1/query', { query: 'max_over_time(rate(up[5m])[30d:1h] offset 3d)', time: String(END) }, /^query looks back too far: 33d5m \(limit 32d\)/],
      ['/api/v1/query', { query: 'up', time: String(END), lookback_delta: '40d' }, /^query looks back too far: lookback_delta 40d \(limit 32d\)$/],
    ];
    for (const [path, params, message] of cases) {
      const answer = await post(gateway.base, path, params, CAROL);
      assert.equal(answer.status, 422, `${params.query}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.errorType, 'bad_data');
      assert.match(answer.body.error!, message);
    }
    const within = await post(gateway.base, '/api/v1/query_range', { query: 'rate(up[5m] offset 1d)', start: String(END - 3600), end: String(END), step: '60' }, CAROL);
    assert.equal(within.status, 200, JSON.stringify(within.body));
  });

  it('applies the users file\'s limits: block over the flags', async () => {
    const over = await post(gateway.base, '/api/v1/query_range', { query: 'up', start: String(END - 7200), end: String(END), step: '600' }, BRIEF);
    assert.equal(over.status, 422);
    assert.equal(over.body.error, 'query range too long: 2h (limit 1h)');
    const points = await post(gateway.base, '/api/v1/query_range', { query: 'up', start: String(END - 3600), end: String(END), step: '30' }, BRIEF);
    assert.match(points.body.error!, /^too many points per series: 120 \(limit 100\)/);
    const lookback = await post(gateway.base, '/api/v1/query', { query: 'rate(up[15m])', time: String(END) }, BRIEF);
    assert.match(lookback.body.error!, /^query looks back too far: 15m \(limit 10m\)/);
    const within = await post(gateway.base, '/api/v1/query_range', { query: 'rate(up[5m])', start: String(END - 3600), end: String(END), step: '60' }, BRIEF);
    assert.equal(within.status, 200, JSON.stringify(within.body));
  });

  it('counts the refusals by tenant and reason', async () => {
    const text = await (await fetch(`${gateway.internal}/metrics`)).text();
    assert.match(text, /^promgate_limit_refusals_total\{tenant="carol",reason="too_complex"\} 7$/m);
    assert.match(text, /^promgate_limit_refusals_total\{tenant="carol",reason="lookback"\} 3$/m);
    assert.match(text, /^promgate_limit_refusals_total\{tenant="brief",reason="range"\} 1$/m);
  });
});
