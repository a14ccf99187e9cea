// Against real Prometheus servers: an enforced query on the shared server answers exactly what the query answers
// on a server holding only the tenant's series, and a formatted query answers exactly what the query does.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { callApi, difference, normalise } from '../../test/support/compare.js';
import type { TenantFixture } from '../../test/support/tenant-data.js';
import { enforce, enforceSelector, format } from '../ts/index.js';
import { listedQueries } from './support/queries.js';
import { answerDifferences, answers, RANGE_SECONDS, startTenantServers, TENANTS, type Answers } from './support/tenants.js';

const QUERIES = listedQueries();

let fixture: TenantFixture;

before(async () => {
  fixture = await startTenantServers();
});

after(async () => {
  await fixture?.stop();
});

function assertSame(got: Answers, want: Answers, what: string): void {
  assert.deepEqual(answerDifferences(got, want), [], what);
}

describe(`${QUERIES.length} queries on Prometheus 2.42`, () => {
  for (const query of QUERIES) {
    test(query, async () => {
      const asWritten = await answers(fixture.all.url, query, fixture.end);
      for (const answer of [asWritten.instant, asWritten.range]) {
        assert.ok(!(answer as object).hasOwnProperty('error'), `Prometheus refuses the query itself: ${JSON.stringify(answer)}`);
      }
      assertSame(await answers(fixture.all.url, format(query), fixture.end), asWritten, `format gives ${format(query)}`);
      for (const [name, tenant] of Object.entries(TENANTS)) {
        const enforced = enforce(query, tenant.matchers);
        const own = await answers(fixture.subsets[name]!.url, query, fixture.end);
        assertSame(await answers(fixture.all.url, enforced, fixture.end), own, `${name}: enforced as ${enforced}`);
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
