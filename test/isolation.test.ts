// Each user, through promgate, sees exactly what a Prometheus holding only their series answers: GET and POST,
// instant and range queries, series, labels and label values on fixed data; metadata and federate on live scrapes.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { callApi, difference, normalise } from './support/compare.js';
import { basicAuth, startGateway, type Gateway } from './support/gateway.js';
import { freePort, startPrometheus, type PromServer } from './support/prometheus.js';
import { startTenantFixture, type TenantFixture } from './support/tenant-data.js';

const USERS = {
  alice: { password: 'alice-pw', subset: 'tenant-a' },
  bob: { password: 'bob-pw', subset: 'tenant-a+tenant-b' },
  carol: { password: 'carol-pw', subset: 'team=america' },
} as const;
type User = keyof typeof USERS;

const usersFile = () => `users:
  - username: alice
    password: alice-pw
    namespace: tenant-a
  - username: bob
    password: ${bcrypt.hashSync('bob-pw', 4)}
    namespaces: [tenant-a, tenant-b]
  - username: carol
    password: carol-pw
    labels:
      team: america
`;

const QUERIES = [
  'up',
  'up{namespace="tenant-b"}',
  'up{namespace=~"tenant-.*"}',
  'node_load1',
  'kube_namespace_created',
  '{__name__=~"kube.*"}',
  'count(up)',
  'sum by (namespace) (rate(http_requests_total[5m]))',
  'sum(rate(http_requests_total{code="500"}[5m])) / sum(rate(http_requests_total[5m]))',
  'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
  'topk(3, container_memory_working_set_bytes)',
  'count_over_time(batch_job_success[30m])',
  'max_over_time(up[10m:1m])',
  'up offset 10m',
  'up and on (namespace) kube_pod_info',
  'label_replace(up, "ns", "$1", "namespace", "(.*)")',
  'absent(nonexistent_metric)',
  'absent(up{job="node"})',
  'absent(up{namespace="tenant-b"})',
  '1 + 1',
  'vector(1)',
];

describe('isolation: each user sees what a Prometheus holding only their series answers', () => {
  let fixture: TenantFixture;
  let gateway: Gateway;

  before(async () => {
    fixture = await startTenantFixture();
    gateway = await startGateway({ upstream: fixture.all.url, authConfig: usersFile() });
  });
  after(async () => {
    await gateway?.stop();
    await fixture?.stop();
  });

  async function compare(user: User, path: string, params: [string, string][], method: 'GET' | 'POST'): Promise<string | null> {
    const { password, subset } = USERS[user];
    const got = await callApi(gateway.base, path, params, { method, headers: basicAuth(user, password) });
    const want = await callApi(fixture.subsets[subset]!.url, path, params, { method });
    assert.notEqual(got.status, 401, gateway.log().slice(-1000));
    const diff = difference(normalise(got.body), normalise(want.body));
    return diff === null ? null : `${user} ${method} ${path} ${JSON.stringify(params)}: ${diff}`;
  }

  for (const user of Object.keys(USERS) as User[]) {
    it(`${user}: instant and range queries, GET and POST`, async () => {
      const end = String(fixture.end);
      const start = String(fixture.end - 3600);
      const failures: string[] = [];
      for (const query of QUERIES) {
        for (const method of ['GET', 'POST'] as const) {
          const a = await compare(user, '/api/v1/query', [['query', query], ['time', end]], method);
          const b = await compare(user, '/api/v1/query_range', [['query', query], ['start', start], ['end', end], ['step', '60']], method);
          failures.push(...[a, b].filter((x): x is string => x !== null));
        }
      }
      assert.deepEqual(failures, []);
    });

    it(`${user}: series, labels and label values, GET and POST`, async () => {
      const range: [string, string][] = [['start', String(fixture.end - 3600)], ['end', String(fixture.end)]];
      const failures: (string | null)[] = [];
      for (const method of ['GET', 'POST'] as const) {
        for (const match of ['up', '{job=~".+"}', 'http_requests_total{code="200"}', '{namespace="tenant-b"}', '{__name__=~"node.*"}']) {
          failures.push(await compare(user, '/api/v1/series', [['match[]', match], ...range], method));
          failures.push(await compare(user, '/api/v1/labels', [['match[]', match], ...range], method));
        }
        failures.push(await compare(user, '/api/v1/series', [['match[]', 'up'], ['match[]', 'node_load1'], ...range], method));
        failures.push(await compare(user, '/api/v1/labels', range, method));
      }
      for (const name of ['namespace', 'job', '__name__', 'team', 'instance']) {
        failures.push(await compare(user, `/api/v1/label/${name}/values`, range, 'GET'));
        failures.push(await compare(user, `/api/v1/label/${name}/values`, [['match[]', 'up'], ...range], 'GET'));
      }
      assert.deepEqual(failures.filter((x) => x !== null), []);
    });
  }
});

describe('isolation among many namespaces: a grant of ns-1 and ns-2 sees nothing of ns-10 to ns-23', () => {
  const namespaces = Array.from({ length: 24 }, (_, i) => `ns-${i}`);
  let fixture: TenantFixture;
  let gateway: Gateway;

  before(async () => {
    fixture = await startTenantFixture(namespaces, { 'ns-1+ns-2': (l) => l.namespace === 'ns-1' || l.namespace === 'ns-2' });
    const users = 'users:\n  - username: erin\n    password: erin-pw\n    namespaces: [ns-1, ns-2]\n';
    gateway = await startGateway({ upstream: fixture.all.url, authConfig: users });
  });
  after(async () => {
    await gateway?.stop();
    await fixture?.stop();
  });

  it('answers what a Prometheus holding only ns-1 and ns-2 answers', async () => {
    const want = fixture.subsets['ns-1+ns-2']!.url;
    const end = String(fixture.end);
    const failures: string[] = [];
    const check = async (path: string, params: [string, string][], method: 'GET' | 'POST') => {
      const got = await callApi(gateway.base, path, params, { method, headers: basicAuth('erin', 'erin-pw') });
      const diff = difference(normalise(got.body), normalise((await callApi(want, path, params, { method })).body));
      if (diff !== null) failures.push(`${method} ${path} ${JSON.stringify(params)}: ${diff}`);
    };
    for (const method of ['GET', 'POST'] as const) {
      for (const query of ['up', 'count by (namespace) (up)', 'sum(rate(http_requests_total[5m]))', '{namespace=~"ns-1.*"}', 'absent(up{namespace="ns-10"})']) {
        await check('/api/v1/query', [['query', query], ['time', end]], method);
        await check('/api/v1/query_range', [['query', query], ['start', String(fixture.end - 1800)], ['end', end], ['step', '120']], method);
      }
      await check('/api/v1/series', [['match[]', '{namespace=~"ns-.*"}'], ['start', String(fixture.end - 600)], ['end', end]], method);
      await check('/api/v1/labels', [], method);
    }
    await check('/api/v1/label/namespace/values', [], 'GET');
    assert.deepEqual(failures, []);
  });
});

// Metadata comes from scrapes. Three targets on one exposition server: a shared exporter (honor_labels, like
// kube-state-metrics) writing both tenants' series, and one app of each tenant, labelled with its namespace by
// the scrape config. Two apps give the same names different help; tenant-b's speaks OpenMetrics.
const SHARED: Record<string, string[]> = {
  'tenant-a': [
    '# HELP shop_orders_total Orders taken.', '# TYPE shop_orders_total counter', 'shop_orders_total{namespace="tenant-a"} 1',
    // A valid metric name that is also a JavaScript object's prototype key.
    '# HELP __proto__ Named like a prototype.', '# TYPE __proto__ gauge', '__proto__{namespace="tenant-a"} 5',
    '# HELP queue_depth Items waiting.', '# TYPE queue_depth gauge', 'queue_depth{namespace="tenant-a"} 3',
  ],
  'tenant-b': [
    '# HELP bank_payments_total Payments made.', '# TYPE bank_payments_total counter', 'bank_payments_total{namespace="tenant-b"} 2',
    '# HELP queue_depth Items waiting.', '# TYPE queue_depth gauge', 'queue_depth{namespace="tenant-b"} 4',
  ],
};
const histogram = (help: string) =>
  [`# HELP req_seconds ${help}`, '# TYPE req_seconds histogram', 'req_seconds_bucket{le="1"} 1', 'req_seconds_bucket{le="+Inf"} 2', 'req_seconds_sum 3', 'req_seconds_count 2'];
const OWN_APP = {
  a: ['# HELP jobs_queued Jobs queued in A.', '# TYPE jobs_queued gauge', 'jobs_queued 7', ...histogram('Request latency in A.')],
  b: [
    "# HELP jobs_queued Jobs queued, in B's own words.", '# TYPE jobs_queued gauge', 'jobs_queued 9', ...histogram('Request latency in B.'),
    '# HELP b_secret_ops Operations B runs.', '# TYPE b_secret_ops counter', 'b_secret_ops_total 4', '# EOF',
  ],
};

function exposition(path: string | undefined): [contentType: string, lines: string[]] {
  const a = SHARED['tenant-a']!;
  const b = SHARED['tenant-b']!;
  const text = 'text/plain; version=0.0.4';
  switch (path) {
    case '/shared-a':
      return [text, a];
    case '/own-a':
      return [text, OWN_APP.a];
    case '/own-b':
      return ['application/openmetrics-text; version=1.0.0; charset=utf-8', OWN_APP.b];
    default:
      // One family's lines must stay together: queue_depth's samples are merged under one HELP/TYPE.
      return [text, [...a.slice(0, 6), ...b.slice(0, 3), ...a.slice(6), b[5]!]];
  }
}

const scrapeConfig = (port: number, jobs: Record<string, { path: string; namespace?: string }>) =>
  `global:\n  scrape_interval: 1s\nscrape_configs:\n${Object.entries(jobs)
    .map(
      ([job, { path, namespace }]) =>
        `  - job_name: ${job}\n    honor_labels: ${namespace === undefined}\n    metrics_path: ${path}\n    static_configs:\n` +
        `      - targets: ['127.0.0.1:${port}']\n${namespace === undefined ? '' : `        labels: {namespace: ${namespace}}\n`}`,
    )
    .join('')}`;

/** A metadata answer's data with each family's entries in one order (Prometheus lists them in map order). */
const sortedEntries = (data: Record<string, unknown[]>) =>
  Object.fromEntries(Object.entries(data).map(([name, entries]) => [name, entries.map((e) => JSON.stringify(e)).sort()]));

describe('live scraped series: metadata of the tenant targets, federate', () => {
  let server: Server;
  let all: PromServer;
  let onlyA: PromServer;
  let gateway: Gateway;

  before(async () => {
    const port = await freePort();
    server = createServer((req, res) => {
      const [contentType, lines] = exposition(req.url);
      res.writeHead(200, { 'content-type': contentType }).end(`${lines.join('\n')}\n`);
    }).listen(port, '127.0.0.1');
    const seed = 'seed_metric 1 1\n# EOF\n';
    const ownA = { path: '/own-a', namespace: 'tenant-a' };
    [all, onlyA] = await Promise.all([
      startPrometheus(seed, { config: scrapeConfig(port, { shared: { path: '/shared-all' }, 'own-a': ownA, 'own-b': { path: '/own-b', namespace: 'tenant-b' } }) }),
      startPrometheus(seed, { config: scrapeConfig(port, { shared: { path: '/shared-a' }, 'own-a': ownA }) }),
    ]);
    gateway = await startGateway({ upstream: all.url, authConfig: usersFile() });
    // Wait for both to have scraped metadata and series.
    for (let i = 0; i < 100; i++) {
      const [x, y] = await Promise.all([callApi(all.url, '/api/v1/metadata', {}), callApi(onlyA.url, '/api/v1/metadata', {})]);
      if (Object.keys(x.body?.data ?? {}).length >= 7 && Object.keys(y.body?.data ?? {}).length >= 5) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('Prometheus did not scrape the exposition');
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([all?.stop(), onlyA?.stop()]);
    server?.close();
  });

  const metadata = (base: string, params: Record<string, string>, headers?: Record<string, string>) =>
    callApi(base, '/api/v1/metadata', params, { headers });

  it('answers what the tenant-only Prometheus answers, and no other tenant help text', async () => {
    const got = await metadata(gateway.base, {}, basicAuth('alice', 'alice-pw'));
    const want = await metadata(onlyA.url, {});
    assert.equal(got.status, 200);
    assert.deepEqual(sortedEntries(got.body.data), sortedEntries(want.body.data));
    assert.deepEqual(Object.keys(got.body.data).sort(), ['__proto__', 'jobs_queued', 'queue_depth', 'req_seconds', 'shop_orders_total']);
    assert.deepEqual(got.body.data.jobs_queued, [{ type: 'gauge', help: 'Jobs queued in A.', unit: '' }]);
    // bob sees both namespaces: everything the shared server holds.
    const both = await metadata(gateway.base, {}, basicAuth('bob', 'bob-pw'));
    assert.deepEqual(sortedEntries(both.body.data), sortedEntries((await metadata(all.url, {})).body.data));
    assert.equal(both.body.data.jobs_queued.length, 2);
  });

  it('keeps another tenant metric out even when asked by name, and applies limit after filtering', async () => {
    const alice = basicAuth('alice', 'alice-pw');
    assert.deepEqual((await metadata(gateway.base, { metric: 'bank_payments_total' }, alice)).body.data, {});
    assert.deepEqual((await metadata(gateway.base, { metric: 'b_secret_ops' }, alice)).body.data, {});
    const asked = await metadata(gateway.base, { metric: 'req_seconds' }, alice);
    assert.deepEqual(asked.body.data, (await metadata(onlyA.url, { metric: 'req_seconds' })).body.data);
    const limited = await metadata(gateway.base, { limit: '1' }, alice);
    assert.equal(Object.keys(limited.body.data).length, 1);
    const perMetric = await metadata(gateway.base, { limit_per_metric: '1', metric: 'jobs_queued' }, basicAuth('bob', 'bob-pw'));
    assert.equal(perMetric.body.data.jobs_queued.length, 1);
    const bad = await metadata(gateway.base, { limit: 'x' }, alice);
    assert.deepEqual([bad.status, bad.body], [400, { status: 'error', errorType: 'bad_data', error: 'limit must be a number' }]);
  });

  it('federates what the tenant-only Prometheus federates', async () => {
    // The shared job's scrape-generated series (up, scrape_*) carry no namespace: both sides ask for namespaced ones.
    const params = new URLSearchParams([['match[]', '{job="shared",namespace=~".+"}']]);
    const got = await fetch(`${gateway.base}/federate?${params}`, { headers: basicAuth('alice', 'alice-pw') });
    const want = await fetch(`${onlyA.url}/federate?${params}`);
    assert.equal(got.status, 200);
    // Each line less its timestamp: the two servers scrape at different instants.
    const samples = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/ \d+$/, '')).sort();
    const gotLines = samples(await got.text());
    assert.deepEqual(gotLines, samples(await want.text()));
    assert.deepEqual(gotLines.map((l) => l.split('{')[0]), ['__proto__', 'queue_depth', 'shop_orders_total']);
  });
});
