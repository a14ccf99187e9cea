// Random queries against real Prometheus servers, beyond test/queries.txt: for each of several tenants, the enforced
// query on the server holding every series must answer what the query answers on a server holding only the tenant's
// series, and format(q) what q does.   node --import tsx scripts/differential.ts [seed] [queries]
// A script, not a test: sums over many series in another order can differ in the last bits, and a subtraction can
// magnify that beyond any tolerance, so a difference here is a lead to read, not a verdict.
import { enforce, format } from '../ts/index.js';
import { random } from '../test/support/fuzz.js';
import { answerDifferences, answers, startTenantServers, TENANTS, type Answers } from '../test/support/tenants.js';

const seed = Number(process.argv[2] ?? Date.now() % 2 ** 31);
const count = Number(process.argv[3] ?? 500);
const next = random(seed);
const int = (n: number) => Math.floor(next() * n);
const pick = <T>(xs: readonly T[]) => xs[int(xs.length)] as T;

// Valid in Prometheus 2.42, over the fixture's metrics and label values; no topk/sort, whose ties have no fixed order.
const METRICS = ['up', 'http_requests_total', 'http_request_duration_seconds_bucket', 'container_memory_working_set_bytes',
  'batch_job_success', 'kube_pod_info', 'node_load1', 'kube_namespace_created', 'nonexistent'];
const LABELS = ['namespace', 'app', 'pod', 'job', 'team', 'code', 'le', 'node', 'instance'];
const VALUES = ['tenant-a', 'tenant-b', 'kube-system', 'api', 'web', 'api-0', '500', 'america', 'node-1', 'tenant-.*',
  'api|web', '.*', '.+', ''];
const GROUPING = ['namespace', 'app', 'pod', 'team', 'job', 'le'];

function selector(): string {
  const matchers = Array.from({ length: int(3) }, () => `${pick(LABELS)}${pick(['=', '!=', '=~', '!~', '=', '='])}"${pick(VALUES)}"`);
  return `${pick(METRICS)}${matchers.length > 0 ? `{${matchers.join(',')}}` : ''}${pick(['', '', ' offset 5m', ' @ end()'])}`;
}

function expression(depth: number): string {
  if (depth <= 0) return selector();
  const sub = () => expression(depth - 1);
  switch (int(11)) {
    case 0: return selector();
    case 1: return `rate(${pick(METRICS)}${next() < 0.5 ? `{${pick(LABELS)}="${pick(VALUES)}"}` : ''}[5m])`;
    case 2: return `${pick(['sum', 'max', 'count', 'group', 'avg'])} by (${pick(GROUPING)}) (${sub()})`;
    case 3: {
      const matching = pick(['', '', ' on (namespace, pod)', ' ignoring (code, method)', ' on (pod) group_left']);
      return `${sub()} ${pick(['+', '*', '-', 'and', 'or', 'unless', '>', '/'])}${matching} ${sub()}`;
    }
    case 4: return `absent(${selector()})`;
    case 5: return `absent_over_time(${pick(METRICS)}{${pick(LABELS)}${pick(['=', '=~', '!='])}"${pick(VALUES)}"}[10m])`;
    case 6: return `max_over_time(${sub()}[10m:1m])`;
    case 7: return `label_replace(${sub()}, "${pick(GROUPING)}", "x$1", "${pick(GROUPING)}", "(.*)")`;
    case 8: return `count_values("v", ${sub()})`;
    case 9: return `${sub()} ${pick(['>', '<', '+'])} ${pick(['0', '1', 'scalar(count(up))'])}`;
    default: return 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))';
  }
}

const fixture = await startTenantServers();

let differences = 0;
function compare(what: string, got: Answers, want: Answers): void {
  for (const diff of answerDifferences(got, want)) {
    differences++;
    console.log(`${what}, ${diff.slice(0, 300)}`);
  }
}

try {
  for (let i = 0; i < count; i++) {
    const query = expression(int(4));
    let enforced: [string, string][];
    try {
      enforced = Object.entries(TENANTS).map(([name, t]) => [name, enforce(query, t.matchers)]);
    } catch {
      continue; // a query the generator got wrong
    }
    const asWritten = await answers(fixture.all.url, query, fixture.end);
    compare(`${query} formatted as ${format(query)}`, await answers(fixture.all.url, format(query), fixture.end), asWritten);
    for (const [name, text] of enforced) {
      const own = await answers(fixture.subsets[name]!.url, query, fixture.end);
      compare(`${name}: ${query} enforced as ${text}`, await answers(fixture.all.url, text, fixture.end), own);
    }
  }
} finally {
  await fixture.stop();
}
console.log(`seed ${seed}: ${count} queries, ${differences} differences`);
process.exitCode = differences === 0 ? 0 : 1;
