import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enforce, enforceSelector, PromQLError, type Matcher } from 'promql-parser-wasm';
import type { EndpointKind } from '../../src/enforce/endpoints.js';
import { decodeForm, type Param } from '../../src/enforce/form.js';
import { enforceParams, tenantSelector } from '../../src/enforce/params.js';

const A: Matcher[] = [{ name: 'namespace', type: '=', value: 'tenant-a' }];
const AB: Matcher[] = [
  { name: 'namespace', type: '=~', value: 'tenant-a|tenant-b' },
  { name: 'team', type: '=', value: 'a "quoted" \\ value' },
];

/** The parameters promgate would send, decoded again. */
function sent(kind: EndpointKind, params: Param[], matchers: readonly Matcher[] = A): Param[] {
  const result = enforceParams(kind, params, matchers);
  assert.ok(result.ok, JSON.stringify(result));
  const out: Param[] = [];
  assert.ok(decodeForm(result.value.encoded, out).ok);
  return out;
}

function refusal(kind: EndpointKind, params: Param[], matchers: readonly Matcher[] = A): string {
  const result = enforceParams(kind, params, matchers);
  assert.equal(result.ok, false, 'accepted');
  if (result.ok) throw new Error('unreachable');
  assert.equal(result.error.status, 400);
  assert.equal(result.error.errorType, 'bad_data');
  return result.error.message;
}

const message = (run: () => unknown): string => {
  try {
    run();
  } catch (e) {
    if (e instanceof PromQLError) return e.message;
  }
  throw new Error('no PromQLError');
};

describe('enforceParams', () => {
  it('enforces query on query endpoints, keeping every other parameter and their order', () => {
    assert.deepEqual(sent('query', [['time', '1'], ['query', 'sum(rate(x[5m]))'], ['stats', 'all'], ['x', ''], ['x', 'y']]), [
      ['time', '1'], ['query', enforce('sum(rate(x[5m]))', A)], ['stats', 'all'], ['x', ''], ['x', 'y'],
    ]);
  });

  it('enforces every match[] on every endpoint kind', () => {
    for (const kind of ['series', 'labels', 'federate', 'query', 'forward', 'metadata'] as const) {
      const params: Param[] = kind === 'query' ? [['query', 'up']] : [];
      const out = sent(kind, [...params, ['match[]', 'up'], ['match[]', '{job="x"}']], AB);
      assert.deepEqual(out.filter(([n]) => n === 'match[]'), [['match[]', enforceSelector('up', AB)], ['match[]', enforceSelector('{job="x"}', AB)]]);
    }
  });

  it("adds the tenant's selector to labels calls without match[], and only there", () => {
    assert.deepEqual(sent('labels', [['start', '1']]), [['start', '1'], ['match[]', '{namespace="tenant-a"}']]);
    assert.deepEqual(sent('labels', [['match[]', 'up']]), [['match[]', enforceSelector('up', A)]]);
    assert.deepEqual(sent('federate', []), []);
  });

  it('tenant selectors are valid selectors, escaped, and the same text each time', () => {
    const selector = tenantSelector(AB);
    assert.equal(selector, '{namespace=~"tenant-a|tenant-b",team="a \\"quoted\\" \\\\ value"}');
    assert.equal(enforceSelector(selector, AB).length > 0, true);
    assert.equal(tenantSelector(AB), selector);
  });

  it('answers repeated expressions exactly as the parser does, per grant, errors included', () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(sent('query', [['query', 'rate(x[5m])']], A), [['query', enforce('rate(x[5m])', A)]]);
      assert.deepEqual(sent('query', [['query', 'rate(x[5m])']], AB), [['query', enforce('rate(x[5m])', AB)]]);
      assert.deepEqual(sent('series', [['match[]', 'rate']], A), [['match[]', enforceSelector('rate', A)]]);
      assert.match(refusal('query', [['query', 'rate(x[5m]']], A), /^invalid parameter "query": /);
    }
  });

  it('leaves format_query and parse_query expressions alone: they read no series', () => {
    assert.deepEqual(sent('forward', [['query', 'up + 1']]), [['query', 'up + 1']]);
  });

  it('refuses a parameter Prometheus reads once given twice', () => {
    for (const name of ['query', 'time', 'start', 'end', 'step', 'timeout', 'limit', 'lookback_delta', 'metric', 'limit_per_metric']) {
      assert.match(refusal('query', [['query', 'up'], [name, '1'], [name, '1']].slice(name === 'query' ? 1 : 0) as Param[]), new RegExp(name));
    }
    assert.deepEqual(sent('query', [['query', 'up'], ['unknown', '1'], ['unknown', '2']]).length, 3);
  });

  it("refuses a bad expression or selector with the parser's message", () => {
    assert.equal(refusal('query', [['query', 'sum(']]), `invalid parameter "query": ${message(() => enforce('sum(', A))}`);
    assert.equal(refusal('series', [['match[]', 'rate(x[1m])']]), `invalid parameter "match[]": ${message(() => enforceSelector('rate(x[1m])', A))}`);
    assert.equal(refusal('labels', [['match[]', '{']]), message(() => enforceSelector('{', A)));
    assert.match(refusal('query', []), /^invalid parameter "query": /);
    assert.match(refusal('query', [['query', '']]), /^invalid parameter "query": /);
    assert.equal(refusal('series', [['start', '1']]), 'no match[] parameter provided');
  });

  it('checks match[] as Prometheus does on its endpoint: the API wants a non-empty matcher, /federate does not', () => {
    const empty = 'match[] must contain at least one non-empty matcher';
    for (const matchers of [A, []]) {
      assert.equal(refusal('series', [['match[]', '{job=~".*"}']], matchers), `invalid parameter "match[]": ${empty}`);
      assert.equal(refusal('labels', [['match[]', '{job=~".*"}']], matchers), empty);
      assert.equal(refusal('labels', [['match[]', '{}']], matchers), empty);
    }
    assert.deepEqual(sent('federate', [['match[]', '{job=~".*"}']]), [['match[]', '{job=~".*",namespace="tenant-a"}']]);
    assert.deepEqual(sent('federate', [['match[]', '{job=~".*"}']], []), [['match[]', '{job=~".*"}']]);
    // Prometheus federates nothing for {}; with the tenant's matchers added it would federate all theirs.
    assert.deepEqual(sent('federate', [['match[]', '{}']], []), [['match[]', '{}']]);
    assert.match(refusal('federate', [['match[]', '{}']]), /match\[\] must contain at least one matcher/);
  });

  it('sends tenant-id principals (no matchers) the parsed, canonical query, and adds no selector', () => {
    assert.deepEqual(sent('query', [['query', 'sum(rate(x[5m]))']], []), [['query', enforce('sum(rate(x[5m]))', [])]]);
    assert.deepEqual(sent('labels', [], []), []);
    assert.equal(refusal('query', [['query', 'sum(']], []).startsWith('invalid parameter "query": '), true);
  });

  it('reads what /api/v1/metadata asks for tenants with matchers, whom promgate answers itself', () => {
    const filtered = enforceParams('metadata', [['limit', '5'], ['metric', 'up'], ['limit_per_metric', '1'], ['x', 'y']], A);
    assert.ok(filtered.ok);
    assert.deepEqual(filtered.value.metadata, { metric: 'up', limit: 5, limitPerMetric: 1 });
    assert.deepEqual(enforceParams('metadata', [], A), { ok: true, value: { encoded: '', metadata: { metric: '', limit: -1, limitPerMetric: -1 } } });
    // A tenant known by id is isolated by the upstream, which reads its own parameters.
    assert.deepEqual(enforceParams('metadata', [['limit', '5']], []), { ok: true, value: { encoded: 'limit=5' } });
    assert.equal(refusal('metadata', [['limit', 'x']]), 'limit must be a number');
    assert.equal(refusal('metadata', [['limit_per_metric', '1.5']]), 'limit_per_metric must be a number');
    assert.equal(refusal('metadata', [['metric', 'a'], ['metric', 'b']]), 'parameter "metric" given more than once');
  });
});

describe('decodeForm', () => {
  const decode = (text: string) => {
    const out: Param[] = [];
    const result = decodeForm(text, out);
    return result.ok ? out : result.error;
  };
  it('decodes like Go: & separates, + is a space, %XX escapes, empty pieces skipped', () => {
    assert.deepEqual(decode('a=1&b=x+y&c=%7Bq%3D%22v%22%7D&&d&e='), [['a', '1'], ['b', 'x y'], ['c', '{q="v"}'], ['d', ''], ['e', '']]);
    assert.deepEqual(decode('match%5B%5D=up&match[]=a=b'), [['match[]', 'up'], ['match[]', 'a=b']]);
    assert.deepEqual(decode(''), []);
  });
  it('refuses bad escapes and semicolons instead of guessing', () => {
    for (const text of ['q=%zz', 'q=%', 'q=%e2%82', 'a=1;b=2', '%=1']) assert.equal(typeof decode(text), 'string', text);
  });
});
