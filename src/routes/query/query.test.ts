import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enforce, enforceSelector } from 'promql-parser-wasm';
import { A, AB, call, refusal, sent, parserMessage as message } from '../../../test/support/routes.js';

describe('query routes', () => {
  it('enforce query, keeping every other parameter and their order', () => {
    for (const path of ['/api/v1/query', '/api/v1/query_range', '/api/v1/query_exemplars']) {
      assert.equal(call(path, [['query', 'up']]).path, path);
      assert.deepEqual(sent(path, [['time', '1'], ['query', 'sum(rate(x[5m]))'], ['stats', 'all'], ['x', ''], ['x', 'y']]), [
        ['time', '1'], ['query', enforce('sum(rate(x[5m]))', A)], ['stats', 'all'], ['x', ''], ['x', 'y'],
      ]);
    }
  });

  it('enforce match[] too', () => {
    const out = sent('/api/v1/query', [['query', 'up'], ['match[]', 'up'], ['match[]', '{job="x"}']], AB);
    assert.deepEqual(out.slice(1), [['match[]', enforceSelector('up', AB)], ['match[]', enforceSelector('{job="x"}', AB)]]);
  });

  it("refuse a bad expression with the parser's message, and a missing or empty one", () => {
    assert.equal(refusal('/api/v1/query', [['query', 'sum(']]), `invalid parameter "query": ${message(() => enforce('sum(', A))}`);
    assert.match(refusal('/api/v1/query', []), /^invalid parameter "query": /);
    assert.match(refusal('/api/v1/query_range', [['query', '']]), /^invalid parameter "query": /);
  });

  it('send tenant-id principals (no matchers) the parsed, canonical query', () => {
    assert.deepEqual(sent('/api/v1/query', [['query', 'sum(rate(x[5m]))']], []), [['query', enforce('sum(rate(x[5m]))', [])]]);
    assert.equal(refusal('/api/v1/query', [['query', 'sum(']], []).startsWith('invalid parameter "query": '), true);
  });
});
