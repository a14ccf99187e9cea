import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { principalOf, tenantMatchers, type Grant } from '../../src/auth/grant.js';

describe('tenantMatchers', () => {
  it('one namespace is an equality', () => {
    assert.deepEqual(tenantMatchers({ namespaces: ['tenant-a'], labels: {} }, 'namespace'), [
      { name: 'namespace', type: '=', value: 'tenant-a' },
    ]);
  });

  it('several namespaces are a regex of the de-duplicated values, in the order given', () => {
    assert.deepEqual(tenantMatchers({ namespaces: ['monitoring', 'default', 'monitoring', 'kube-system'], labels: {} }, 'namespace'), [
      { name: 'namespace', type: '=~', value: 'monitoring|default|kube-system' },
    ]);
  });

  it('the same namespace twice is still an equality', () => {
    assert.deepEqual(tenantMatchers({ namespaces: ['a', 'a'], labels: {} }, 'namespace'), [{ name: 'namespace', type: '=', value: 'a' }]);
  });

  it('quotes each value joined into a regex, so that it means only itself', () => {
    assert.deepEqual(tenantMatchers({ namespaces: ['a.b|c', 'd'], labels: { app: ['x+', '(y)', '[z]*?', '^$\\{1}'] } }, 'namespace'), [
      { name: 'namespace', type: '=~', value: 'a\\.b\\|c|d' },
      { name: 'app', type: '=~', value: 'x\\+|\\(y\\)|\\[z\\]\\*\\?|\\^\\$\\\\\\{1\\}' },
    ]);
  });

  it('leaves a single value as written: an equality needs no quoting', () => {
    assert.deepEqual(tenantMatchers({ namespaces: ['a.b|c'], labels: { app: ['x.*'] } }, 'namespace'), [
      { name: 'namespace', type: '=', value: 'a.b|c' },
      { name: 'app', type: '=', value: 'x.*' },
    ]);
  });

  it('puts the namespace first, then labels by name, whatever order they came in', () => {
    const matchers = tenantMatchers({ namespaces: ['n'], labels: { team: ['america'], app: ['happy', 'sad'], Zone: ['z'], _x: ['u'] } }, 'namespace');
    assert.deepEqual(matchers, [
      { name: 'namespace', type: '=', value: 'n' },
      { name: 'Zone', type: '=', value: 'z' },
      { name: '_x', type: '=', value: 'u' },
      { name: 'app', type: '=~', value: 'happy|sad' },
      { name: 'team', type: '=', value: 'america' },
    ]);
  });

  it('uses the configured namespace label', () => {
    assert.deepEqual(tenantMatchers({ namespaces: ['a', 'b'], labels: {} }, 'kubernetes_namespace'), [
      { name: 'kubernetes_namespace', type: '=~', value: 'a|b' },
    ]);
  });

  it('keeps a label named like the namespace label as its own matcher: both must hold', () => {
    assert.deepEqual(tenantMatchers({ namespaces: ['default', 'kube-system'], labels: { namespace: ['kube-system', 'monitoring'] } }, 'namespace'), [
      { name: 'namespace', type: '=~', value: 'default|kube-system' },
      { name: 'namespace', type: '=~', value: 'kube-system|monitoring' },
    ]);
  });

  it('gives nothing for an empty grant, so that callers refuse it', () => {
    assert.deepEqual(tenantMatchers({ namespaces: [], labels: {} }, 'namespace'), []);
  });

  it('gives nothing, rather than something wider, for a grant that cannot be met', () => {
    const grants: Grant[] = [
      { namespaces: ['a'], labels: { team: [] } },
      { namespaces: ['a'], labels: { team: [''] } },
      { namespaces: ['a'], labels: { team: ['x', ''] } },
      { namespaces: ['a', ''], labels: {} },
      { namespaces: [''], labels: { team: ['x'] } },
    ];
    for (const grant of grants) {
      assert.deepEqual(tenantMatchers(grant, 'namespace'), [], JSON.stringify(grant));
    }
  });
});

describe('principalOf', () => {
  it('keeps the grant beside its matchers, and keys equal grants alike', () => {
    const grant: Grant = { namespaces: ['a', 'b'], labels: { team: ['x'] } };
    const one = principalOf('u1', 'u1', grant, 'namespace');
    const two = principalOf('u2', 'u2', { namespaces: ['a', 'b'], labels: { team: ['x'] } }, 'namespace');
    assert.ok(one && two);
    assert.equal(one.grant, grant);
    assert.equal(one.key, '{namespace=~"a|b",team="x"}');
    assert.equal(one.key, two.key);
    assert.notEqual(one.key, principalOf('u3', 'u3', { namespaces: ['a'], labels: { team: ['x'] } }, 'namespace')?.key);
  });

  it('makes a tenant-id principal with no matchers, and none of a grant of nothing', () => {
    assert.deepEqual(principalOf('t', 't', { namespaces: [], labels: {}, tenantId: 't' }, 'namespace')?.matchers, []);
    assert.equal(principalOf('u', 'u', { namespaces: [], labels: {} }, 'namespace'), undefined);
  });

  it('allows nothing for namespaces or labels that cannot be met, even beside a tenant id', () => {
    assert.equal(principalOf('u', 'u', { namespaces: [''], labels: {}, tenantId: 't' }, 'namespace'), undefined);
    assert.equal(principalOf('u', 'u', { namespaces: [], labels: { team: [] }, tenantId: 't' }, 'namespace'), undefined);
  });
});
