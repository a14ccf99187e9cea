// enforceQuery: the complexity limits and the measures of the enforced query (the measures themselves are tested in
// the crate, src/complexity.rs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enforce, enforceQuery, PromQLError, type Matcher } from '../ts/index.js';

const NS: readonly Matcher[] = [{ name: 'namespace', type: '=', value: 'a' }];
const chain = (terms: number): string => Array.from({ length: terms }, () => 'a').join(' + ');

describe('enforceQuery', () => {
  test('gives the text enforce gives, and what it costs', () => {
    const query = 'sum(rate(http_requests_total[5m] offset 1h)) / sum(rate(http_requests_total[5m]))';
    assert.deepEqual(enforceQuery(query, NS, {}), { text: enforce(query, NS), nodes: 9, cost: 3, lookbackMs: 3_900_000 });
  });

  test('a chain of n terms costs n² - 1', () => {
    for (const n of [2, 100, 2000]) assert.equal(enforceQuery(chain(n), NS, {}).cost, n * n - 1);
  });

  test('a lookback that depends on the step is infinite', () => {
    assert.equal(enforceQuery('rate(a[step() * 4])', NS, {}).lookbackMs, Infinity);
  });

  test('a query at a limit passes, one over it is refused', () => {
    assert.equal(enforceQuery(chain(100), NS, { maxNodes: 199, maxCost: 9999 }).nodes, 199);
    assert.throws(() => enforceQuery(chain(100), NS, { maxCost: 9998 }), { name: 'PromQLError', code: 'too_complex' });
    assert.throws(() => enforceQuery(chain(100), NS, { maxNodes: 198 }), { name: 'PromQLError', code: 'too_complex' });
  });

  test('a 1 MiB chain is refused at the node limit, without being parsed whole', () => {
    const query = chain(256 * 1024);
    const started = performance.now();
    assert.throws(() => enforceQuery(query, NS, { maxNodes: 10_000 }), (e: unknown) => e instanceof PromQLError && e.code === 'too_complex');
    const refusedMs = performance.now() - started;
    const parsedStarted = performance.now();
    enforceQuery(query, [], {});
    const parsedMs = performance.now() - parsedStarted;
    // A ratio of two timings of the same run, not a timing goal: stopping at 10,000 of 524,287 nodes.
    assert.ok(refusedMs < parsedMs / 4, `refused in ${refusedMs.toFixed(1)} ms, parsed whole in ${parsedMs.toFixed(1)} ms`);
  });

  test('the measures of a refused query are not those of the query before it', () => {
    enforceQuery('rate(a[1d])', NS, {});
    assert.throws(() => enforceQuery('rate(', NS, {}), PromQLError);
    assert.equal(enforceQuery('a', NS, {}).lookbackMs, 0);
  });
});
