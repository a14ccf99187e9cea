// Gateway mode in front of real components: a Prometheus 2.42 remote-write receiver as the distributor, written to
// by real Prometheus servers through promgate; Prometheus servers behind a route prefix as the query-frontend (by
// header) and as a plain Prometheus (by label, compared with a server holding only the tenant's series); and a
// real Alertmanager 0.25 behind /alertmanager.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callApi, difference, normalise } from '../support/compare.js';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { freePort, startPrometheus, type PromServer } from '../support/prometheus.js';
import { END, tenantData, toOpenMetrics } from '../support/tenant-data.js';

// cortex-gateway's README token: HS512, secret "test", {"tenant_id":"demo","version":1}.
const README_TOKEN =
  'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0ZW5hbnRfaWQiOiJkZW1vIiwidmVyc2lvbiI6MX0.UnM-5mDK24xDkNPes4VMLzC1xBQ9tx3GKoEjrbdd4beY510t9Oj1w2IIfNO10Fe9QEowFchceJ95X-j30mO1Iw';

/** Debian's Alertmanager on a free loopback port below `prefix`, installed when missing (as root). */
async function startAlertmanager(prefix: string): Promise<{ url: string; stop(): Promise<void> }> {
  if (spawnSync('sh', ['-c', 'command -v prometheus-alertmanager'], { stdio: 'ignore' }).status !== 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { env });
    assert.equal(spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus-alertmanager'], { env }).status, 0);
  }
  const dir = mkdtempSync(join(tmpdir(), 'promgate-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n');
  const port = await freePort();
  const child = spawn('prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${dir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.route-prefix=${prefix}`,
    '--cluster.listen-address=',
  ], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${url}${prefix}/-/ready`).catch(() => undefined))?.ok === true) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => new Promise((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); }) };
}

/** A Prometheus that scrapes itself every second and remote-writes what it scrapes through promgate. */
async function startWriter(gateway: string, writer: string, credentials: string): Promise<PromServer> {
  const port = await freePort();
  const config = [
    'global: {scrape_interval: 1s, external_labels: {writer: ' + writer + '}}',
    'scrape_configs:',
    `  - {job_name: self, static_configs: [{targets: ["127.0.0.1:${port}"]}]}`,
    'remote_write:',
    `  - url: ${gateway}/api/v1/write`,
    '    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}',
    `    ${credentials}`,
  ].join('\n');
  return startPrometheus('# EOF\n', { port, config });
}

describe('gateway mode in front of real components', () => {
  const data = tenantData(['tenant-a', 'tenant-b']);
  const servers: PromServer[] = [];
  let distributor: PromServer;
  let frontend: PromServer;
  let plain: PromServer;
  let tenantA: PromServer;
  let alertmanager: { url: string; stop(): Promise<void> };
  let gateway: Gateway;

  before(async () => {
    [distributor, frontend, plain, tenantA] = await Promise.all([
      startPrometheus('# EOF\n', { args: ['--web.enable-remote-write-receiver'] }),
      startPrometheus(toOpenMetrics(data), { routePrefix: '/prometheus' }),
      startPrometheus(toOpenMetrics(data), { routePrefix: '/plain' }),
      startPrometheus(toOpenMetrics(data.filter((s) => s.labels.namespace === 'tenant-a'))),
    ]);
    servers.push(distributor, frontend, plain, tenantA);
    alertmanager = await startAlertmanager('/alertmanager');
    const dir = mkdtempSync(join(tmpdir(), 'promgate-gwconf-'));
    writeFileSync(join(dir, 'users.yaml'), 'users:\n  - {username: alice, password: alice-password, namespace: tenant-a}\n');
    writeFileSync(
      join(dir, 'gateway.yaml'),
      [
        'auth:',
        '  users_file: users.yaml',
        '  jwt: {secret: test}',
        'tenants:',
        '  - {username: writer, password: writer-password, id: team-a}',
        'components:',
        `  distributor: {url: "${distributor.url}"}`,
        `  query-frontend: {url: "${frontend.url}"}`,
        `  prometheus: {url: "${plain.url}"}`,
        `  alertmanager: {url: "${alertmanager.url}"}`,
        'routes:',
        // A real Prometheus receives remote writes at /api/v1/write; Cortex's distributor at /api/v1/push.
        '  - {path: /api/v1/write, component: distributor, enforcement: header}',
        '  - {path: /prometheus, match: prefix, component: query-frontend, enforcement: header}',
        '  - {path: /plain, match: prefix, component: prometheus, enforcement: labels}',
        '  - {path: /alertmanager, match: prefix, component: alertmanager, enforcement: header}',
      ].join('\n'),
    );
    gateway = await startGateway({ args: ['--config', join(dir, 'gateway.yaml')] });
  });
  after(async () => {
    await gateway?.stop();
    await alertmanager?.stop();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('distributor: series pushed with basic auth and with a JWT arrive; a wrong password stops them', async () => {
    const writers = await Promise.all([
      startWriter(gateway.base, 'basic', 'basic_auth: {username: writer, password: writer-password}'),
      startWriter(gateway.base, 'jwt', `authorization: {credentials: ${README_TOKEN}}`),
      startWriter(gateway.base, 'wrong', 'basic_auth: {username: writer, password: wrong}'),
    ]);
    servers.push(...writers);
    const arrived = async (): Promise<string[]> => {
      const { body } = await callApi(distributor.url, '/api/v1/query', { query: 'count by (writer) (up{job="self"})' });
      return (body.data.result as { metric: { writer: string } }[]).map((r) => r.metric.writer).sort();
    };
    const deadline = Date.now() + 60_000;
    while ((await arrived()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    // The wrong writer has tried by now too: its batches are refused with 401, which Prometheus does not retry.
    await gateway.logMatching(/wrong password for/);
    assert.deepEqual(await arrived(), ['basic', 'jwt']);
    assert.match(gateway.log(), /"path":"\/api\/v1\/write","status":204/);
  });

  it('query-frontend by header: queries below /prometheus answer as the component does', async () => {
    const params = { query: 'sum by (namespace) (http_requests_total)', time: String(END) };
    const direct = await callApi(frontend.url, '/prometheus/api/v1/query', params);
    for (const method of ['GET', 'POST'] as const) {
      const through = await callApi(gateway.base, '/prometheus/api/v1/query', params, { method, headers: basicAuth('writer', 'writer-password') });
      assert.equal(through.status, 200, method);
      assert.equal(difference(normalise(through.body), normalise(direct.body)), null, method);
    }
  });

  it("a plain Prometheus by label below /plain: the tenant's answers are a tenant-only server's", async () => {
    const cases: [string, Record<string, string>][] = [
      ['/api/v1/query', { query: 'sum by (namespace) (http_requests_total)', time: String(END) }],
      ['/api/v1/query_range', { query: 'count(up)', start: String(END - 600), end: String(END), step: '60' }],
      ['/api/v1/series', { 'match[]': 'up', start: String(END - 600), end: String(END) }],
      ['/api/v1/label/namespace/values', { start: String(END - 600), end: String(END) }],
    ];
    for (const [path, params] of cases) {
      const want = await callApi(tenantA.url, path, params);
      const got = await callApi(gateway.base, `/plain${path}`, params, { headers: basicAuth('alice', 'alice-password') });
      assert.equal(got.status, 200, path);
      assert.equal(difference(normalise(got.body), normalise(want.body)), null, path);
    }
    const other = await callApi(gateway.base, '/plain/api/v1/status/config', {}, { headers: basicAuth('alice', 'alice-password') });
    assert.equal(other.status, 404);
    // A tenant known by id only would read everything from a plain Prometheus.
    const byId = await callApi(gateway.base, '/plain/api/v1/query', { query: 'up' }, { headers: basicAuth('writer', 'writer-password') });
    assert.equal(byId.status, 403);
  });

  it('alertmanager: /alertmanager/api/v2/status is reached through its route', async () => {
    const res = await fetch(`${gateway.base}/alertmanager/api/v2/status`, { headers: basicAuth('writer', 'writer-password') });
    assert.equal(res.status, 200);
    const status = (await res.json()) as { versionInfo: { version: string } };
    assert.match(status.versionInfo.version, /^0\.25\./);
  });
});
