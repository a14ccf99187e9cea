import { quoteRegex, type Matcher } from 'promql-parser-wasm';
import { err, ok, type Result } from '../result.js';
import { selectorText } from './selector.js';

/** What the caller of /api/v1/metadata asked for, read as Prometheus reads it. */
export interface MetadataQuery {
  /** One metric family, or '' for all. */
  readonly metric: string;
  /** Most metric families in the answer; negative: no limit. */
  readonly limit: number;
  /** Most entries per metric family; 0 or negative: no limit. */
  readonly limitPerMetric: number;
}

/**
 * The metric names a tenant has now, by the scrape target that wrote them. A target is known by its `job` and
 * `instance`, the two labels Prometheus gives every target and every series it scrapes; '' stands for absent.
 */
export type TenantSources = ReadonlyMap<string, ReadonlySet<string>>;

const targetKey = (job: unknown, instance: unknown): string =>
  JSON.stringify([typeof job === 'string' ? job : '', typeof instance === 'string' ? instance : '']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The instant query whose answer is the tenant's sources: one sample per metric name and target the tenant has
 * a series of, within the lookback window, as the targets that Prometheus lists metadata for are the live ones.
 */
export function tenantSourcesQuery(matchers: readonly Matcher[]): string {
  return `group by (__name__, job, instance) (${selectorText(matchers)})`;
}

/** Reads the answer to `tenantSourcesQuery`. */
export function tenantSources(answer: unknown): Result<TenantSources, string> {
  const data = isObject(answer) && answer.status === 'success' ? answer.data : undefined;
  if (!isObject(data) || data.resultType !== 'vector' || !Array.isArray(data.result)) {
    return err('the upstream gave no list of the tenant metric names');
  }
  const sources = new Map<string, Set<string>>();
  for (const sample of data.result) {
    const metric = isObject(sample) ? sample.metric : undefined;
    if (!isObject(metric) || typeof metric.__name__ !== 'string') continue;
    const key = targetKey(metric.job, metric.instance);
    let names = sources.get(key);
    if (names === undefined) sources.set(key, (names = new Set()));
    names.add(metric.__name__);
  }
  return ok(sources);
}

// Past this length the target selector is left out and every target's metadata is read and filtered here:
// a URL that long is more likely refused by a server on the way than worth its savings.
const MAX_TARGET_SELECTOR = 32 * 1024;

/**
 * A `match_target` selector for /api/v1/targets/metadata that keeps the tenant's targets and perhaps a few more
 * (jobs and instances are matched apart); `tenantMetadata` keeps the exact pairs. Undefined when too long.
 */
export function targetSelector(sources: TenantSources): string | undefined {
  const jobs = new Set<string>();
  const instances = new Set<string>();
  for (const key of sources.keys()) {
    const [job, instance] = JSON.parse(key) as [string, string];
    jobs.add(quoteRegex(job));
    instances.add(quoteRegex(instance));
  }
  const selector = `{job=~${JSON.stringify([...jobs].join('|'))},instance=~${JSON.stringify([...instances].join('|'))}}`;
  return selector.length > MAX_TARGET_SELECTOR ? undefined : selector;
}

// The names of the series of a metric family, past the family's own name, by family type (OpenMetrics names
// its families without these; Prometheus's text format names histograms and summaries so).
const SERIES_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['_count', '_sum', '_created'],
  info: ['_info'],
};

function hasFamily(names: ReadonlySet<string>, family: string, type: unknown): boolean {
  if (names.has(family)) return true;
  const suffixes = typeof type === 'string' ? SERIES_SUFFIXES[type] : undefined;
  return suffixes !== undefined && suffixes.some((suffix) => names.has(family + suffix));
}

interface MetadataEntry {
  readonly type: unknown;
  readonly help: unknown;
  readonly unit: unknown;
}

/**
 * The data of the /api/v1/metadata answer for a tenant, made from that of /api/v1/targets/metadata: an entry counts only
 * where the target that reported it wrote a series of that family which the tenant may see. Prometheus merges
 * /api/v1/metadata across targets by name, so filtering that answer by name would show a tenant the help text
 * another tenant's target gives the same name; per target, each entry has an owner.
 */
export function tenantMetadata(targets: unknown, sources: TenantSources, query: MetadataQuery): Result<unknown, string> {
  if (!Array.isArray(targets)) return err('the upstream gave no target metadata');
  // No prototype: a metric may be named `__proto__`, which on a plain object would set the prototype, not a key.
  const families: Record<string, MetadataEntry[]> = Object.create(null);
  const seen = new Set<string>();
  let count = 0;
  for (const item of targets) {
    if (!isObject(item) || !isObject(item.target)) continue;
    // Asked for one metric, Prometheus leaves the family out of each entry.
    const family = query.metric !== '' ? query.metric : item.metric;
    if (typeof family !== 'string') continue;
    const names = sources.get(targetKey(item.target.job, item.target.instance));
    if (names === undefined || !hasFamily(names, family, item.type)) continue;
    const entry = { type: item.type, help: item.help, unit: item.unit };
    const key = JSON.stringify([family, entry.type, entry.help, entry.unit]);
    if (seen.has(key)) continue;
    let entries = families[family];
    if (entries === undefined) {
      if (query.limit >= 0 && count >= query.limit) continue;
      entries = families[family] = [];
      count++;
    }
    if (query.limitPerMetric > 0 && entries.length >= query.limitPerMetric) continue;
    seen.add(key);
    entries.push(entry);
  }
  // Sorted by name, as Prometheus's JSON encoder writes a map.
  const data: Record<string, MetadataEntry[]> = Object.create(null);
  for (const name of Object.keys(families).sort()) data[name] = families[name]!;
  return ok(data);
}
