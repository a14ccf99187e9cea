// Gateway mode's metrics on its debug listener, after requests through a real Prometheus 2.42 query-frontend (below
// /prometheus) and to a component that is down: per route and per component, under promgate's names and
// cortex-gateway's, the tenant label bounded by the configured tenants.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { freePort, startPrometheus, type PromServer } from '../support/prometheus.js';
import { tenantData, toOpenMetrics } from '../support/tenant-data.js';

// cortex-gateway's README token: HS512, secret "test", {"tenant_id":"demo","version":1}.
const README_TOKEN =
  'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0ZW5hbnRfaWQiOiJkZW1vIiwidmVyc2lvbiI6MX0.UnM-5mDK24xDkNPes4VMLzC1xBQ9tx3GKoEjrbdd4beY510t9Oj1w2IIfNO10Fe9QEowFchceJ95X-j30mO1Iw';

/** A cortex-gateway file: the query-frontend, and a component nothing listens for. */
async function configFile(frontend: string): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'promgate-debug-')), 'config.yaml');
  writeFileSync(
    file,
    [
      'secret: "test"',
      'basic:',
      '  demo: {password: "demo-password", tenant: "demo"}',
      'routes:',
      '  - {path: "/prometheus", prefix: true, target: "query-frontend"}',
      '  - {path: "/down", prefix: true, target: "down"}',
      'targets:',
      `  query-frontend: "${frontend}"`,
      `  down: "http://127.0.0.1:${await freePort()}"`,
    ].join('\n'),
  );
  return file;
}

/** A sample's value from Prometheus's text format; 0 when the series is not there. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const has = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe('gateway mode: metrics on the debug listener', () => {
  let frontend: PromServer;
  let gateway: Gateway;
  before(async () => {
    frontend = await startPrometheus(toOpenMetrics(tenantData(['tenant-a'])), { routePrefix: '/prometheus' });
    gateway = await startGateway({ args: ['--config', await configFile(frontend.url)] });
  });
  after(async () => {
    await gateway?.stop();
    await frontend?.stop();
  });

  const metrics = async () => (await fetch(`${gateway.internal}/metrics`)).text();

  it("counts each component's answers, latency and failures, and cortex-gateway's proxied requests", async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: basicAuth('demo', 'demo-password') })).status, 200);
    }
    assert.equal((await fetch(`${gateway.base}/prometheus/api/v1/nonsense`, { headers: basicAuth('demo', 'demo-password') })).status, 404);
    assert.equal((await fetch(`${gateway.base}/down/api/v1/query?query=up`, { headers: basicAuth('demo', 'demo-password') })).status, 502);
    const text = await metrics();
    assert.equal(sample(text, 'promgate_component_requests_total', { component: 'query-frontend', code: '200' }), 3);
    assert.equal(sample(text, 'promgate_component_requests_total', { component: 'query-frontend', code: '404' }), 1, "Prometheus's own 404");
    assert.equal(sample(text, 'promgate_component_request_duration_seconds_count', { component: 'query-frontend' }), 4);
    assert.equal(sample(text, 'promgate_component_errors_total', { component: 'down', kind: 'unavailable' }), 1);
    assert.equal(sample(text, 'promgate_component_errors_total', { component: 'query-frontend', kind: 'unavailable' }), 0);
    assert.equal(sample(text, 'cortex_gateway_proxy_requests_total', { targetname: 'query-frontend' }), 4);
    assert.equal(sample(text, 'cortex_gateway_proxy_requests_total', { targetname: 'down' }), 1);
    // Per route: the route's path is the endpoint.
    assert.equal(sample(text, 'promgate_http_requests_total', { endpoint: '/prometheus', code: '200' }), 3);
    assert.equal(sample(text, 'promgate_http_requests_total', { endpoint: '/down', code: '502' }), 1);
    assert.equal(sample(text, 'promgate_http_request_duration_seconds_count', { endpoint: '/prometheus' }), 4);
    assert.equal(sample(text, 'promgate_upstream_address_up', { component: 'query-frontend', address: '127.0.0.1' }), 1);
  });

  it("counts authentications under cortex-gateway's names, the tenant label bounded by the configured tenants", async () => {
    const before = await metrics();
    const query = (headers: Record<string, string>) => fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers });
    assert.equal((await query(basicAuth('demo', 'demo-password'))).status, 200);
    assert.equal((await query({ authorization: `Bearer ${README_TOKEN}` })).status, 200);
    // A valid token for a tenant no user of the file has: served, but counted under one fixed label value.
    for (const tenant of ['stranger-1', 'stranger-2']) {
      const token = await new SignJWT({ tenant_id: tenant }).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode('test'));
      assert.equal((await query({ authorization: `Bearer ${token}` })).status, 200);
    }
    assert.equal((await query({})).status, 401);
    assert.equal((await query(basicAuth('demo', 'wrong'))).status, 401);
    assert.equal((await query({ authorization: 'Bearer not.a.token' })).status, 401);
    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    assert.equal(delta('cortex_gateway_succeeded_authentications_total', { tenant: 'demo' }), 2);
    assert.equal(delta('cortex_gateway_succeeded_authentications_total', { tenant: '<unlisted>' }), 2);
    const authLines = after.split('\n').filter((l) => l.startsWith('cortex_gateway_'));
    assert.ok(authLines.every((l) => !l.includes('stranger')), "a token's unconfigured tenant never becomes a tenant label value");
    assert.equal(delta('cortex_gateway_failed_authentications_total', { reason: 'no_token' }), 1);
    assert.equal(delta('cortex_gateway_failed_authentications_total', { reason: 'token_not_valid' }), 2);
  });
});

