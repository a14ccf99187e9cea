import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enforceSelector } from 'promql-parser-wasm';
import { A, AB, call, refusal, sent, parserMessage as message } from '../../../test/support/routes.js';
const EMPTY = 'match[] must contain at least one non-empty matcher';

describe('series', () => {
  it('enforces every match[] and requires one', () => {
    assert.deepEqual(sent('/api/v1/series', [['match[]', 'up'], ['match[]', '{job="x"}']], AB), [
      ['match[]', enforceSelector('up', AB)], ['match[]', enforceSelector('{job="x"}', AB)],
    ]);
    assert.equal(refusal('/api/v1/series', [['start', '1']]), 'no match[] parameter provided');
  });

  it("names the parameter in its errors, as Prometheus does on this endpoint only", () => {
    assert.equal(refusal('/api/v1/series', [['match[]', 'rate(x[1m])']]), `invalid parameter "match[]": ${message(() => enforceSelector('rate(x[1m])', A))}`);
    for (const matchers of [A, []]) assert.equal(refusal('/api/v1/series', [['match[]', '{job=~".*"}']], matchers), `invalid parameter "match[]": ${EMPTY}`);
  });
});

describe('labels and label values', () => {
  it("add the tenant's selector without match[], and only then", () => {
    assert.deepEqual(sent('/api/v1/labels', [['start', '1']]), [['start', '1'], ['match[]', '{namespace="tenant-a"}']]);
    assert.deepEqual(sent('/api/v1/labels', [['match[]', 'up']]), [['match[]', enforceSelector('up', A)]]);
    assert.deepEqual(sent('/api/v1/label/job/values', []), [['match[]', '{namespace="tenant-a"}']]);
    assert.deepEqual(sent('/api/v1/labels', [], []), []);
  });

  it('tenant selectors are valid, escaped selectors', () => {
    const [[, selector]] = sent('/api/v1/labels', [], AB) as [[string, string]];
    assert.equal(selector, '{namespace=~"tenant-a|tenant-b",team="a \\"quoted\\" \\\\ value"}');
    assert.equal(enforceSelector(selector, AB).length > 0, true);
  });

  it("refuse bad selectors with the parser's message, unprefixed", () => {
    assert.equal(refusal('/api/v1/labels', [['match[]', '{']]), message(() => enforceSelector('{', A)));
    for (const matchers of [A, []]) {
      assert.equal(refusal('/api/v1/labels', [['match[]', '{job=~".*"}']], matchers), EMPTY);
      assert.equal(refusal('/api/v1/label/job/values', [['match[]', '{}']], matchers), EMPTY);
    }
  });

  it('send the label name decoded once and validated in the upstream path', () => {
    assert.equal(call('/api/v1/label/job/values', []).path, '/api/v1/label/job/values');
    assert.equal(call('/api/v1/label/U__a_2e_b/values', []).path, '/api/v1/label/U__a_2e_b/values');
    assert.equal(call('/api/v1/label/%6aob/values', []).path, '/api/v1/label/job/values');
    for (const segment of ['a-b', '%zz', '1x', '%2e%2e', 'a%20b', '%252f']) {
      assert.match(refusal(`/api/v1/label/${segment}/values`, []), /^invalid label name /, segment);
    }
  });
});
