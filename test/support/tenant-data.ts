// Fixed synthetic series for several namespaces (tenants), and real Prometheus servers holding all of them or a subset,
// so that a test can compare what a tenant sees through the gateway with what a Prometheus holding only its series answers.
import { startPrometheus, type PromServer, type PromTls } from './prometheus.js';

/** Unix seconds of the last sample: a fixed past instant, so that answers never depend on the clock. */
export const END = 1767225600; // 2026-01-01T00:00:00Z
export const SPAN_SECONDS = 7200;
export const STEP_SECONDS = 30;

export type Labels = Readonly<Record<string, string>>;
export interface Series {
  readonly name: string;
  readonly labels: Labels;
  /** Value at `t` seconds after the first sample; undefined leaves a gap. */
  value(t: number): number | undefined;
}

/** Teams for label-based tenants: the two sample tenants share one, the rest share another. */
export const teamOf = (namespace: string): string => (namespace.startsWith('tenant-') ? 'america' : 'platform');

export function tenantData(namespaces: readonly string[]): Series[] {
  return [...namespaces.flatMap(namespaceSeries), ...clusterSeries(namespaces)];
}

function namespaceSeries(namespace: string): Series[] {
  const out: Series[] = [];
  for (const app of ['api', 'web']) {
    for (const replica of [0, 1]) {
      const pod = `${app}-${replica}`;
      const common = { namespace, app, pod, job: `${namespace}/${app}`, team: teamOf(namespace) };
      out.push(series('up', { ...common, instance: `${pod}.${namespace}:8080` }, (t) => (replica === 1 && t % 1800 < 300 ? 0 : 1)));
      for (const code of ['200', '500']) {
        for (const method of ['GET', 'POST']) {
          out.push(counter('http_requests_total', { ...common, code, method }, code === '200' ? 2 : 0.1));
        }
      }
      for (const [le, share] of [['0.1', 0.5], ['0.5', 0.8], ['1', 0.95], ['+Inf', 1]] as const) {
        out.push(counter('http_request_duration_seconds_bucket', { ...common, le }, 2 * share));
      }
      out.push(gauge('container_memory_working_set_bytes', { ...common, container: app }, 2e8));
      // Present only every other 10 minutes: absent() and *_over_time have something to find.
      out.push(series('batch_job_success', common, (t) => (Math.floor(t / 600) % 2 ? undefined : 1)));
    }
    out.push(series('kube_pod_info', { namespace, pod: `${app}-0`, node: 'node-1' }, () => 1));
  }
  return out;
}

/** Series no tenant owns: a gateway must never let a tenant see them. */
function clusterSeries(namespaces: readonly string[]): Series[] {
  return [
    gauge('node_load1', { instance: 'node-1', job: 'node' }, 1.5),
    gauge('node_load1', { instance: 'node-2', job: 'node' }, 0.7),
    series('up', { instance: 'node-1', job: 'node' }, () => 1),
    series('kube_namespace_created', { job: 'kube-state-metrics' }, () => namespaces.length),
  ];
}

function series(name: string, labels: Labels, value: (t: number) => number | undefined): Series {
  return { name, labels, value };
}

function counter(name: string, labels: Labels, perSecond: number): Series {
  const jitter = noise(name, labels);
  // Up to 4 s worth of noise: still monotonic at any scrape interval of 5 s or more (the demo scrapes every 5 s).
  return series(name, labels, (t) => perSecond * (t + 4 * jitter(t)));
}

function gauge(name: string, labels: Labels, base: number): Series {
  const jitter = noise(name, labels);
  return series(name, labels, (t) => Math.round(base * (1 + 0.2 * Math.sin(t / 600)) + jitter(t) * 1000));
}

/**
 * Noise in [0, 1) that depends only on the series and the time, so that every server holding a series
 * (the shared one and a tenant's) has the very same samples, whatever order they are generated in.
 */
function noise(name: string, labels: Labels): (t: number) => number {
  const seed = fnv1a(name + JSON.stringify(Object.entries(labels).sort()));
  return (t) => fnv1a(`${seed}:${t}`) / 2 ** 32;
}

function fnv1a(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The series as OpenMetrics text, as promtool's create-blocks-from openmetrics reads it. */
export function toOpenMetrics(all: readonly Series[], end = END): string {
  const start = end - SPAN_SECONDS;
  const byName = new Map<string, Series[]>();
  for (const s of all) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const lines: string[] = [];
  for (const [name, family] of byName) {
    for (const s of family) {
      const labels = Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
      for (let t = start; t <= end; t += STEP_SECONDS) {
        const v = s.value(t - start);
        if (v !== undefined) lines.push(`${name}{${labels}} ${v} ${t}`);
      }
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

const escapeLabelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export interface TenantFixture {
  /** Every series: the shared upstream a gateway fronts. */
  readonly all: PromServer;
  /** One server per subset, holding only the series the subset's predicate keeps. */
  readonly subsets: Readonly<Record<string, PromServer>>;
  readonly end: number;
  stop(): Promise<void>;
}

export type Subsets = Readonly<Record<string, (labels: Labels) => boolean>>;

/** One subset per namespace, one for two namespaces together, and one for a team label. */
export const defaultSubsets = (namespaces: readonly string[]): Subsets => ({
  ...Object.fromEntries(namespaces.map((ns) => [ns, (l: Labels) => l.namespace === ns])),
  'tenant-a+tenant-b': (l) => l.namespace === 'tenant-a' || l.namespace === 'tenant-b',
  'team=america': (l) => l.team === 'america',
});

/** `allTls`: the shared server serves HTTPS, with this web configuration (the subsets stay plain HTTP). */
export async function startTenantFixture(
  namespaces: readonly string[] = ['tenant-a', 'tenant-b', 'kube-system'],
  subsets: Subsets = defaultSubsets(namespaces),
  options: { allTls?: PromTls } = {},
): Promise<TenantFixture> {
  const data = tenantData(namespaces);
  const names = Object.keys(subsets);
  const started = await Promise.allSettled([
    startPrometheus(toOpenMetrics(data), options.allTls === undefined ? {} : { tls: options.allTls }),
    ...names.map((n) => startPrometheus(toOpenMetrics(data.filter((s) => subsets[n]!(s.labels))))),
  ]);
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => { await Promise.all(servers.map((s) => s.stop())); };
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) { await stop(); throw failure.reason; }
  const [all, ...rest] = servers as [PromServer, ...PromServer[]];
  return { all, subsets: Object.fromEntries(names.map((n, i) => [n, rest[i]!])), end: END, stop };
}
