import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  targetSelector,
  tenantMetadata,
  tenantSources,
  tenantSourcesQuery,
  type MetadataQuery,
  type TenantSources,
} from '../../src/enforce/metadata.js';

const ALL: MetadataQuery = { metric: '', limit: -1, limitPerMetric: -1 };

/** An answer to the tenant-sources query: one sample per [name, job, instance]. */
const sourcesOf = (...rows: [string, string | undefined, string | undefined][]): TenantSources => {
  const result = rows.map(([__name__, job, instance]) => ({
    metric: { __name__, ...(job === undefined ? {} : { job }), ...(instance === undefined ? {} : { instance }) },
    value: [1, '1'],
  }));
  const read = tenantSources({ status: 'success', data: { resultType: 'vector', result } });
  assert.ok(read.ok);
  return read.value;
};

const entry = (job: string, instance: string, metric: string, type: string, help: string) => ({
  target: { instance, job, namespace: 'whatever' },
  metric,
  type,
  help,
  unit: '',
});

function made(data: unknown[], sources: TenantSources, query: MetadataQuery = ALL): Record<string, unknown> {
  const result = tenantMetadata(data, sources, query);
  assert.ok(result.ok, JSON.stringify(result));
  // A plain copy, for deepEqual: the answer has no prototype.
  return { ...(result.value as Record<string, unknown>) };
}

describe('tenantMetadata', () => {
  it("keeps an entry only where the reporting target wrote a series the tenant sees", () => {
    const sources = sourcesOf(['queue_depth', 'apps-a', 'h:1']);
    const data = made(
      [entry('apps-a', 'h:1', 'queue_depth', 'gauge', 'Mine.'), entry('apps-b', 'h:1', 'queue_depth', 'gauge', 'Theirs.'),
        entry('apps-a', 'h:2', 'queue_depth', 'gauge', 'Same job, other instance.'), entry('apps-a', 'h:1', 'other', 'gauge', 'x')],
      sources,
    );
    assert.deepEqual(data, { queue_depth: [{ type: 'gauge', help: 'Mine.', unit: '' }] });
  });

  it('maps series names to their family by the family type', () => {
    const sources = sourcesOf(['req_seconds_bucket', 'j', 'i'], ['ops_total', 'j', 'i'], ['build_info', 'j', 'i'], ['rpc_count', 'j', 'i']);
    const data = made(
      [entry('j', 'i', 'req_seconds', 'histogram', 'h'), entry('j', 'i', 'ops', 'counter', 'c'), entry('j', 'i', 'build', 'info', 'i'),
        entry('j', 'i', 'rpc', 'summary', 's'),
        // A suffix that does not belong to the family's type names another family.
        entry('j', 'i', 'ops', 'gauge', 'not the counter'), entry('j', 'i', 'rpc', 'counter', 'nor this')],
      sources,
    );
    assert.deepEqual(Object.keys(data), ['build', 'ops', 'req_seconds', 'rpc']);
    assert.deepEqual(data.ops, [{ type: 'counter', help: 'c', unit: '' }]);
    assert.deepEqual(data.rpc, [{ type: 'summary', help: 's', unit: '' }]);
  });

  it('merges equal entries of several targets, keeps different ones, and sorts families by name', () => {
    const sources = sourcesOf(['b', 'j1', 'i'], ['b', 'j2', 'i'], ['a', 'j1', 'i']);
    const data = made([entry('j1', 'i', 'b', 'gauge', 'one'), entry('j2', 'i', 'b', 'gauge', 'one'), entry('j2', 'i', 'b', 'gauge', 'two'), entry('j1', 'i', 'a', 'gauge', '')], sources);
    assert.deepEqual(JSON.stringify(data), JSON.stringify({ a: [{ type: 'gauge', help: '', unit: '' }], b: [{ type: 'gauge', help: 'one', unit: '' }, { type: 'gauge', help: 'two', unit: '' }] }));
  });

  it('applies limit to families and limit_per_metric to entries, after filtering', () => {
    const sources = sourcesOf(['a', 'j', 'i'], ['b', 'j', 'i'], ['c', 'j', 'i']);
    const rows = [entry('j', 'i', 'x', 'gauge', ''), entry('j', 'i', 'a', 'gauge', '1'), entry('j', 'i', 'a', 'gauge', '2'), entry('j', 'i', 'b', 'gauge', ''), entry('j', 'i', 'c', 'gauge', '')];
    assert.deepEqual(Object.keys(made(rows, sources, { ...ALL, limit: 2 })), ['a', 'b']);
    assert.deepEqual(made(rows, sources, { ...ALL, limit: 0 }), {});
    assert.equal((made(rows, sources, { ...ALL, limitPerMetric: 1 }).a as unknown[]).length, 1);
    assert.equal((made(rows, sources, { ...ALL, limitPerMetric: 0 }).a as unknown[]).length, 2);
  });

  it('reads entries for one asked metric, which carry no family, and a metric named __proto__', () => {
    const sources = sourcesOf(['__proto__', 'j', 'i']);
    const { metric: _, ...bare } = entry('j', 'i', '__proto__', 'gauge', 'p');
    const data = made([bare, { ...bare, target: { job: 'k', instance: 'i' } }], sources, { ...ALL, metric: '__proto__' });
    assert.deepEqual(Object.keys(data), ['__proto__']);
    assert.deepEqual(data['__proto__'], [{ type: 'gauge', help: 'p', unit: '' }]);
  });

  it('tells an absent job or instance from a present one, and ignores malformed entries', () => {
    const sources = sourcesOf(['m', undefined, 'i']);
    const data = made([{ target: { instance: 'i' }, metric: 'm', type: 'gauge', help: 'no job', unit: '' }, entry('', 'i', 'm', 'gauge', 'empty job'), entry('x', 'i', 'm', 'gauge', 'job x'), null, { target: 1 }], sources);
    assert.deepEqual(data.m, [{ type: 'gauge', help: 'no job', unit: '' }, { type: 'gauge', help: 'empty job', unit: '' }]);
  });

  it('refuses answers that are not what was asked', () => {
    assert.equal(tenantMetadata({}, new Map(), ALL).ok, false);
    assert.equal(tenantSources({ status: 'success', data: { resultType: 'matrix', result: [] } }).ok, false);
    assert.equal(tenantSources({ status: 'error' }).ok, false);
  });
});

describe('targetSelector and tenantSourcesQuery', () => {
  it('selects the jobs and instances of the sources, regex-quoted', () => {
    const selector = targetSelector(sourcesOf(['m', 'a.b', 'h:1'], ['m', 'c', '[::1]:9']));
    assert.equal(selector, String.raw`{job=~"a\\.b|c",instance=~"h:1|\\[::1\\]:9"}`);
  });

  it('leaves the selector out when it would be too long', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ['m', 'job', `host-${i}.example.org:9100`] as [string, string, string]);
    assert.equal(targetSelector(sourcesOf(...rows)), undefined);
  });

  it("groups the tenant's series by name, job and instance", () => {
    assert.equal(tenantSourcesQuery([{ name: 'namespace', type: '=', value: 'a' }]), 'group by (__name__, job, instance) ({namespace="a"})');
  });
});
