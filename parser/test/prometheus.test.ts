// Against real Prometheus servers: an enforced query on the shared server answers exactly what the query answers
// on a server holding only the tenant's series, and a formatted query answers exactly what the query does.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { callApi, difference, normalise } from '../../test/support/compare.js';
import { startTenantFixture, type Labels, type TenantFixture } from '../../test/support/tenant-data.js';
import { enforce, enforceSelector, format, quoteRegex, type Matcher } from '../ts/index.js';
import { listedQueries } from './support/queries.js';

const QUERIES = listedQueries();

interface Tenant {
  readonly matchers: Matcher[];
  readonly owns: (labels: Labels) => boolean;
}

const TENANTS: Readonly<Record<string, Tenant>> = {
  'namespace tenant-a': {
    matchers: [{ name: 'namespace', type: '=', value: 'tenant-a' }],
    owns: (l) => l['namespace'] === 'tenant-a',
  },
  'namespaces tenant-a and tenant-b': {
    matchers: [{ name: 'namespace', type: '=~', value: ['tenant-a', 'tenant-b'].map(quoteRegex).join('|') }],
    owns: (l) => l['namespace'] === 'tenant-a' || l['namespace'] === 'tenant-b',
  },
  'label team=america': {
    matchers: [{ name: 'team', type: '=', value: 'america' }],
    owns: (l) => l['team'] === 'america',
  },
};

const RANGE_SECONDS = 1800;
const STEP_SECONDS = 60;

let fixture: TenantFixture;

before(async () => {
  const subsets = Object.fromEntries(Object.entries(TENANTS).map(([name, t]) => [name, t.owns]));
  fixture = await startTenantFixture(['tenant-a', 'tenant-b', 'kube-system'], subsets);
});

after(async () => {
  await fixture?.stop();
});

/** The instant answer at the data's end and the range answer over its last 30 minutes, normalised. */
async function answers(base: string, query: string): Promise<{ instant: unknown; range: unknown }> {
  const end = String(fixture.end);
  const [instant, range] = await Promise.all([
    callApi(base, '/api/v1/query', { query, time: end }),
    callApi(base, '/api/v1/query_range', { query, start: String(fixture.end - RANGE_SECONDS), end, step: String(STEP_SECONDS) }),
  ]);
  return { instant: normalise(instant.body), range: normalise(range.body) };
}

function assertSame(got: { instant: unknown; range: unknown }, want: { instant: unknown; range: unknown }, what: string): void {
  for (const kind of ['instant', 'range'] as const) {
    const diff = difference(got[kind], want[kind]);
    assert.equal(diff, null, `${what}, ${kind} query: ${diff}`);
  }
}

describe(`${QUERIES.length} queries on Prometheus 2.42`, () => {
  for (const query of QUERIES) {
    test(query, async () => {
      const asWritten = await answers(fixture.all.url, query);
      for (const answer of [asWritten.instant, asWritten.range]) {
        assert.ok(!(answer as object).hasOwnProperty('error'), `Prometheus refuses the query itself: ${JSON.stringify(answer)}`);
      }
      assertSame(await answers(fixture.all.url, format(query)), asWritten, `format gives ${format(query)}`);
      for (const [name, tenant] of Object.entries(TENANTS)) {
        const enforced = enforce(query, tenant.matchers);
        const own = await answers(fixture.subsets[name]!.url, query);
        assertSame(await answers(fixture.all.url, enforced), own, `${name}: enforced as ${enforced}`);
      }
    });
  }
});

const SELECTORS = [
  'up', 'http_requests_total{code="500"}', '{__name__=~"up|node_load1|kube_namespace_created"}', '{job=~".+"}',
  '{__name__=~".+"}', 'kube_pod_info{namespace="tenant-b"}', 'up{namespace!="tenant-a"}', '{__name__="up", pod=~"api-.*"}',
];

describe(`${SELECTORS.length} series selectors (match[]) on Prometheus 2.42`, () => {
  for (const selector of SELECTORS) {
    test(selector, async () => {
      const window = { start: String(fixture.end - RANGE_SECONDS), end: String(fixture.end) };
      for (const [name, tenant] of Object.entries(TENANTS)) {
        const enforced = enforceSelector(selector, tenant.matchers);
        for (const path of ['/api/v1/series', '/api/v1/labels', '/api/v1/label/pod/values']) {
          const [got, want] = await Promise.all([
            callApi(fixture.all.url, path, { 'match[]': enforced, ...window }),
            callApi(fixture.subsets[name]!.url, path, { 'match[]': selector, ...window }),
          ]);
          const diff = difference(normalise(got.body), normalise(want.body));
          assert.equal(diff, null, `${name}: ${path} with match[]=${enforced}: ${diff}`);
        }
      }
    });
  }
});
