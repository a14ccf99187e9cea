import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enforce, type Matcher } from 'promql-parser-wasm';
import { A, AB, refusal, sent } from '../../test/support/routes.js';
import { decodeForm, type Param } from '../http/form.js';
import { EnforcedCache, rebuildParams, type ParamRules } from './params.js';
import { selectorText } from './selector.js';

const QUERY: ParamRules = { query: true, selectors: 'api', matchErrorPrefix: '' };
const confined = (matchers: readonly Matcher[]) => ({ matchers, key: selectorText(matchers) });

describe('rebuildParams', () => {
  it('refuses a parameter Prometheus reads once given twice, and passes others repeated', () => {
    for (const name of ['query', 'time', 'start', 'end', 'step', 'timeout', 'limit', 'lookback_delta', 'metric', 'limit_per_metric']) {
      assert.match(refusal('/api/v1/query', [['query', 'up'], [name, '1'], [name, '1']].slice(name === 'query' ? 1 : 0) as Param[]), new RegExp(name));
    }
    assert.equal(sent('/api/v1/query', [['query', 'up'], ['unknown', '1'], ['unknown', '2']]).length, 3);
  });

  it('takes out the parameters an endpoint reads itself, in order', () => {
    const rebuilt = rebuildParams([['a', '1'], ['limit', '2'], ['b', '3'], ['metric', 'x']], confined(A), { ...QUERY, take: new Set(['limit', 'metric']) }, new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 100 }));
    assert.ok(rebuilt.ok);
    assert.equal(rebuilt.value.encoded, 'a=1&b=3');
    assert.deepEqual(rebuilt.value.taken, [['limit', '2'], ['metric', 'x']]);
  });
});

describe('EnforcedCache', () => {
  const query = (cache: EnforcedCache, text: string, matchers: readonly Matcher[]) => {
    const rebuilt = rebuildParams([['query', text]], confined(matchers), QUERY, cache);
    assert.ok(rebuilt.ok, JSON.stringify(rebuilt));
    const out: Param[] = [];
    assert.ok(decodeForm(rebuilt.value.encoded, out).ok);
    return out[0]![1];
  };

  it('answers repeated expressions exactly as the parser does, per grant, errors included', () => {
    const cache = new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 4096 });
    for (let i = 0; i < 3; i++) {
      assert.equal(query(cache, 'rate(x[5m])', A), enforce('rate(x[5m])', A));
      assert.equal(query(cache, 'rate(x[5m])', AB), enforce('rate(x[5m])', AB));
      assert.equal(rebuildParams([['query', 'rate(x[5m]']], confined(A), QUERY, cache).ok, false);
    }
  });

  it('shares one entry between principals with equal grants (equal keys), whatever their matcher arrays', () => {
    const cache = new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 4096 });
    query(cache, 'up', A);
    const held = cache.bytes;
    for (let i = 0; i < 50; i++) query(cache, 'up', [{ name: 'namespace', type: '=', value: 'tenant-a' }]);
    assert.equal(cache.bytes, held);
  });

  it('holds no more than its budget in bytes, however many distinct expressions and grants come', () => {
    const budget = 64 * 1024;
    const cache = new EnforcedCache({ maxBytes: budget, maxParamLength: 4096 });
    for (let i = 0; i < 2000; i++) query(cache, `x{a="${'v'.repeat(200)}${i}"}`, [{ name: 'namespace', type: '=', value: `t${i % 37}` }]);
    assert.ok(cache.bytes > 0 && cache.bytes <= budget, String(cache.bytes));
  });

  it('does not keep texts over its length limit', () => {
    const cache = new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 10 });
    assert.equal(query(cache, 'a_rather_long_metric_name', A), enforce('a_rather_long_metric_name', A));
    assert.equal(cache.bytes, 0);
  });
});
