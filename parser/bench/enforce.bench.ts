// enforce() against the parse alone of @prometheus-io/lezer-promql (Prometheus's web UI parser), in one run:
// median and p99 nanoseconds per call for dashboard queries, and per byte for 10 KB and 1 MB queries.
//   npm run bench   (in parser/)
import { parser as lezer } from '@prometheus-io/lezer-promql';
import { enforce, type Matcher } from '../ts/index.js';
import { balancedSum } from '../test/support/queries.js';

const TENANT: Matcher[] = [{ name: 'namespace', type: '=', value: 'tenant-a' }];

const DASHBOARD_QUERIES = [
  'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="prod", container!=""}[5m]))',
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))',
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  'container_memory_working_set_bytes{namespace="prod", container!="", image!=""} / 1024 / 1024',
  'topk(10, sum by (pod) (increase(kube_pod_container_status_restarts_total[1h])))',
  'avg_over_time(up{job="node-exporter", instance=~"node-.*"}[10m]) < 0.9',
  'sum by (instance) (irate(node_network_receive_bytes_total{device!~"lo|veth.*"}[2m]))',
  '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", job="node"}[5m]))',
  'kube_deployment_status_replicas_available{namespace="prod"} / kube_deployment_spec_replicas',
  'max_over_time(rate(http_requests_total{job="api", handler="/api/v1/query"}[1m])[1h:1m])',
];

/** A query of about `bytes` bytes: the dashboard queries over and over, summed as a balanced tree. */
function queryOfSize(bytes: number): string {
  const terms: string[] = [];
  for (let size = 0; size < bytes; ) {
    const term = DASHBOARD_QUERIES[terms.length % DASHBOARD_QUERIES.length] as string;
    terms.push(term);
    size += term.length + 5;
  }
  return balancedSum(terms.map((t) => `(${t})`));
}

interface Timing {
  median: number;
  p99: number;
}

/** Nanoseconds per call, each call timed alone, after a warm-up. */
function time(call: () => unknown, iterations: number): Timing {
  for (let i = 0; i < Math.max(10, iterations / 10); i++) call();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    call();
    samples[i] = Number(process.hrtime.bigint() - start);
  }
  samples.sort();
  return { median: samples[Math.floor(iterations / 2)] as number, p99: samples[Math.floor(iterations * 0.99)] as number };
}

const ns = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} ms` : n >= 1e4 ? `${(n / 1e3).toFixed(1)} µs` : `${Math.round(n)} ns`);

const cases = [
  ...DASHBOARD_QUERIES.map((q, i) => [`dashboard ${i + 1}`, q, 20_000] as const),
  ['10 KB', queryOfSize(10_000), 1_000] as const,
  ['1 MB', queryOfSize(1_000_000), 30] as const,
];
// All enforce() runs first, then all lezer runs, so that neither pays for the other's garbage.
const ours = cases.map(([, query, iterations]) => time(() => enforce(query, TENANT), iterations));
const theirs = cases.map(([, query, iterations]) => time(() => lezer.parse(query), iterations));
const rows = cases.map(([label, query], i) => {
  const bytes = Buffer.byteLength(query);
  const [o, t] = [ours[i] as Timing, theirs[i] as Timing];
  return [
    label, String(bytes), ns(o.median), ns(o.p99), (o.median / bytes).toFixed(1),
    ns(t.median), ns(t.p99), (t.median / bytes).toFixed(1), `${(t.median / o.median).toFixed(1)}×`,
  ];
});
const dashboards = DASHBOARD_QUERIES.map((_, i) => i);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const header = ['query', 'bytes', 'enforce median', 'enforce p99', 'ns/byte', 'lezer parse median', 'lezer p99', 'ns/byte', 'lezer ÷ enforce'];
console.log(`node ${process.version}, ${process.arch}; each call timed alone (timer overhead included)\n`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map((_, i) => (i < 1 ? '---' : '---:')).join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
const ourMedian = median(dashboards.map((i) => (ours[i] as Timing).median));
const theirMedian = median(dashboards.map((i) => (theirs[i] as Timing).median));
console.log(`\ndashboard queries, median of the medians: enforce ${ns(ourMedian)} (goal ≤ 3 µs), lezer parse ${ns(theirMedian)}, ${(theirMedian / ourMedian).toFixed(1)}× (goal ≥ 5×)`);
