// Enforcement: every vector selector, wherever it stands, gets the tenant's matchers, and nothing else changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enforce, enforceSelector, format, parse, PromQLError, quoteRegex, type Matcher } from '../ts/index.js';
import { goQuote } from './support/corpus.js';
import { FORTY_NAMESPACES, selectorChain } from './support/blow-up.js';
import { attempt } from './support/outcome.js';
import { balancedSum } from './support/queries.js';

const NS: Matcher[] = [{ name: 'namespace', type: '=', value: 'a' }];

/** [query, what enforce(query, matchers) must parse to the same tree as, matchers (default namespace="a")]. */
type Case = readonly [query: string, expected: string, matchers?: readonly Matcher[]];

function assertEnforced([query, expected, matchers = NS]: Case): void {
  const got = enforce(query, matchers);
  assert.deepEqual(parse(got), parse(expected), `enforce(${query}) gave ${got}, want ${expected}`);
  assert.equal(format(got), got, 'enforce prints canonical PromQL');
}

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    for (const c of cases) test(c[0], () => assertEnforced(c));
  });
}

table('every place a selector can stand', [
  ['foo', 'foo{namespace="a"}'],
  ['foo{job="x"}', 'foo{job="x",namespace="a"}'],
  ['{__name__="foo"}', '{__name__="foo",namespace="a"}'],
  ['{__name__=~"foo|bar"}', '{__name__=~"foo|bar",namespace="a"}'],
  ['{"my.metric", "a.b"="c"}', '{"my.metric","a.b"="c",namespace="a"}'],
  ['foo # a comment', 'foo{namespace="a"}'],
  ['(foo)', '(foo{namespace="a"})'],
  ['foo[5m]', 'foo{namespace="a"}[5m]'],
  ['rate(foo[5m])', 'rate(foo{namespace="a"}[5m])'],
  ['foo[5m * 2]', 'foo{namespace="a"}[5m * 2]'],
  ['foo[5m] anchored', 'foo{namespace="a"}[5m] anchored'],
  ['foo[5m] smoothed', 'foo{namespace="a"}[5m] smoothed'],
  ['foo[1h:5m]', 'foo{namespace="a"}[1h:5m]'],
  ['max_over_time(rate(foo[5m])[1h:1m])', 'max_over_time(rate(foo{namespace="a"}[5m])[1h:1m])'],
  ['max_over_time(max_over_time(foo[5m:1m])[1h:5m])', 'max_over_time(max_over_time(foo{namespace="a"}[5m:1m])[1h:5m])'],
  ['sum(foo)[30m:]', 'sum(foo{namespace="a"})[30m:]'],
  ['abs(foo)', 'abs(foo{namespace="a"})'],
  ['label_replace(foo, "dst", "$1", "src", "(.*)")', 'label_replace(foo{namespace="a"}, "dst", "$1", "src", "(.*)")'],
  ['label_join(foo, "dst", ",", "a", "b")', 'label_join(foo{namespace="a"}, "dst", ",", "a", "b")'],
  ['histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))', 'histogram_quantile(0.9, sum by (le) (rate(foo_bucket{namespace="a"}[5m])))'],
  ['clamp_max(foo, scalar(bar))', 'clamp_max(foo{namespace="a"}, scalar(bar{namespace="a"}))'],
  ['round(foo, scalar(bar))', 'round(foo{namespace="a"}, scalar(bar{namespace="a"}))'],
  ['vector(scalar(foo))', 'vector(scalar(foo{namespace="a"}))'],
  ['time() - foo', 'time() - foo{namespace="a"}'],
  ['foo + bar', 'foo{namespace="a"} + bar{namespace="a"}'],
  ['foo / on (job) group_left (x) bar', 'foo{namespace="a"} / on (job) group_left (x) bar{namespace="a"}'],
  ['foo * ignoring (x) group_right bar', 'foo{namespace="a"} * ignoring (x) group_right () bar{namespace="a"}'],
  ['foo > bool 2', 'foo{namespace="a"} > bool 2'],
  ['2 < foo', '2 < foo{namespace="a"}'],
  ['foo and bar or baz unless qux', 'foo{namespace="a"} and bar{namespace="a"} or baz{namespace="a"} unless qux{namespace="a"}'],
  ['foo + fill(0) bar', 'foo{namespace="a"} + fill (0) bar{namespace="a"}'],
  ['-foo ^ 2 ^ bar', '-foo{namespace="a"} ^ 2 ^ bar{namespace="a"}'],
  ['sum(foo)', 'sum(foo{namespace="a"})'],
  ['sum by (job) (foo)', 'sum by (job) (foo{namespace="a"})'],
  ['sum(foo) without (job)', 'sum without (job) (foo{namespace="a"})'],
  ['topk(5, foo)', 'topk(5, foo{namespace="a"})'],
  ['topk(scalar(bar), foo)', 'topk(scalar(bar{namespace="a"}), foo{namespace="a"})'],
  ['quantile(0.9, foo)', 'quantile(0.9, foo{namespace="a"})'],
  ['count_values("value", foo)', 'count_values("value", foo{namespace="a"})'],
  ['limitk(2, foo)', 'limitk(2, foo{namespace="a"})'],
  ['limit_ratio(0.5, foo)', 'limit_ratio(0.5, foo{namespace="a"})'],
  ['foo @ 1700000000', 'foo{namespace="a"} @ 1700000000.000'],
  ['foo @ start()', 'foo{namespace="a"} @ start()'],
  ['foo offset 5m', 'foo{namespace="a"} offset 5m'],
  ['foo offset -5m', 'foo{namespace="a"} offset -5m'],
  ['rate(foo[5m] @ end() offset 1m)', 'rate(foo{namespace="a"}[5m] @ end() offset 1m)'],
  ['max_over_time(foo[1h:5m] offset 1h)', 'max_over_time(foo{namespace="a"}[1h:5m] offset 1h)'],
  ['max_over_time(rate(foo[5m])[1h:5m] @ 1700000000)', 'max_over_time(rate(foo{namespace="a"}[5m])[1h:5m] @ 1700000000.000)'],
  ['some_future_function(foo, bar[5m], "x", 1)', 'some_future_function(foo{namespace="a"}, bar{namespace="a"}[5m], "x", 1)'],
  ['some_future_function(sum(rate(foo[5m])))', 'some_future_function(sum(rate(foo{namespace="a"}[5m])))'],
  ['info(foo, {k8s_cluster_name=~".+"})', 'info(foo{namespace="a"}, {k8s_cluster_name=~".+",namespace="a"})'],
  ['label_replace(foo, "dst", "foo{x=\\"y\\"}", "src", ".*")', 'label_replace(foo{namespace="a"}, "dst", "foo{x=\\"y\\"}", "src", ".*")'],
  ['1 + 2', '1 + 2'],
  ['"foo"', '"foo"'],
  ['time()', 'time()'],
]);

table('absent() and absent_over_time() keep the labels the caller would see', [
  ['absent(foo)', 'label_replace(absent(foo{namespace="a"}), "namespace", "", "namespace", "(?s:.*)")'],
  ['absent(foo{job="x"})', 'label_replace(absent(foo{job="x",namespace="a"}), "namespace", "", "namespace", "(?s:.*)")'],
  ['absent(foo{namespace="a"})', 'absent(foo{namespace="a"})'],
  ['absent(foo{namespace="b"})', 'label_replace(absent(foo{namespace="b",namespace="a"}), "namespace", "b", "namespace", "(?s:.*)")'],
  ['absent(foo{namespace="b$1"})', 'label_replace(absent(foo{namespace="b$1",namespace="a"}), "namespace", "b$$1", "namespace", "(?s:.*)")'],
  ['absent(foo{namespace=~"a|b"})', 'label_replace(absent(foo{namespace=~"a|b",namespace="a"}), "namespace", "", "namespace", "(?s:.*)")'],
  ['absent_over_time(foo{job="x"}[5m])', 'label_replace(absent_over_time(foo{job="x",namespace="a"}[5m]), "namespace", "", "namespace", "(?s:.*)")'],
  ['absent(sum(foo))', 'absent(sum(foo{namespace="a"}))'],
  ['absent(rate(foo[5m]))', 'absent(rate(foo{namespace="a"}[5m]))'],
  ['absent(foo{job="x"})', 'absent(foo{job="x",namespace!="b"})', [{ name: 'namespace', type: '!=', value: 'b' }]],
  ['absent(foo{job="x"})', 'absent(foo{job="x",namespace=~"a|b"})', [{ name: 'namespace', type: '=~', value: 'a|b' }]],
]);

table('the result is the intersection of the caller\'s and the tenant\'s matchers', [
  ['foo{namespace="a"}', 'foo{namespace="a",namespace=~"a|b"}', [{ name: 'namespace', type: '=~', value: 'a|b' }]],
  ['foo{namespace="c"}', 'foo{namespace="c",namespace=~"a|b"}', [{ name: 'namespace', type: '=~', value: 'a|b' }]],
  ['foo{namespace="b"}', 'foo{namespace="b",namespace="a"}'],
  ['foo{namespace=~".+"}', 'foo{namespace=~".+",namespace="a"}'],
  ['foo{namespace!="a"}', 'foo{namespace!="a",namespace="a"}'],
  ['foo', 'foo{namespace="a",team="t"}', [...NS, { name: 'team', type: '=', value: 't' }]],
  ['foo', 'foo{namespace="a",pod!~"secret-.*"}', [...NS, { name: 'pod', type: '!~', value: 'secret-.*' }]],
  ['foo', 'foo', []],
]);

table('a matcher the selector already has is not appended again', [
  ['foo{namespace="a"}', 'foo{namespace="a"}'],
  ['foo{job="x",namespace="a"}', 'foo{job="x",namespace="a"}'],
  ['foo{namespace="a"} + bar', 'foo{namespace="a"} + bar{namespace="a"}'],
  ['foo{namespace="a",namespace="a"}', 'foo{namespace="a",namespace="a"}'],
  ['foo', 'foo{namespace="a"}', [...NS, ...NS]],
  ['foo{namespace=~"a"}', 'foo{namespace=~"a",namespace="a"}'],
]);

describe('values that need escaping', () => {
  test('quoteRegex escapes exactly what Go\'s regexp.QuoteMeta escapes', () => {
    assert.equal(quoteRegex('a.b|c'), 'a\\.b\\|c');
    assert.equal(quoteRegex('\\.+*?()|[]{}^$'), '\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$');
    assert.equal(quoteRegex('plain-value_1 /:,=!~"\'é😀'), 'plain-value_1 /:,=!~"\'é😀');
    assert.equal(quoteRegex(''), '');
  });

  test('quoteRegex(\'a.b|c\') in =~ matches only the literal value', () => {
    const value = quoteRegex('a.b|c');
    const got = enforce('foo', [{ name: 'namespace', type: '=~', value }]);
    assert.deepEqual(parse(got), parse('foo{namespace=~"a\\\\.b\\\\|c"}'));
    // RE2 and JavaScript agree on these escapes; Prometheus anchors the pattern at both ends.
    const anchored = new RegExp(`^(?:${value})$`, 'su');
    assert.ok(anchored.test('a.b|c'));
    for (const other of ['a', 'c', 'axb|c', 'a.b', 'a.bxc', 'a.b|cc', '']) assert.ok(!anchored.test(other), other);
  });

  test('matcher names and values of any bytes come out as the same strings', () => {
    const value = 'q"uote \\ back\nnew\ttab \u0000 \u2028 é 😀 `tick` \'single\' $1 {x="y"}';
    const got = enforce('foo', [{ name: 'namespace', type: '=', value }]);
    assert.deepEqual(parse(got), parse(`foo{namespace=${goQuote(value)}}`));
    const utf8Name = enforce('foo', [{ name: 'k8s.namespace/name', type: '!=', value: 'x' }]);
    assert.deepEqual(parse(utf8Name), parse('foo{"k8s.namespace/name"!="x"}'));
  });

  for (const literal of [
    '"\\a\\b\\f\\n\\r\\t\\v\\\\\\"\\x41\\101\\u00e9\\U0001F600 ☺"',
    '\'\\a\\b\\f\\n\\r\\t\\v\\\\\\\'\\x41\\101\\u00e9\\U0001F600 ☺\'',
    '`\\a\\b raw " \' ☺`',
    '"\\xff\\377 bytes that are not UTF-8"',
  ]) {
    test(`a string with escapes keeps its value: ${literal}`, () => {
      for (const query of [literal, `foo{job=${literal}}`, `label_replace(foo, "dst", ${literal}, "src", ".*")`]) {
        const enforced = enforce(query, NS);
        assert.deepEqual(parse(format(query)), parse(query), `format(${query}) = ${format(query)}`);
        assert.deepEqual(parse(enforced), parse(enforce(format(query), NS)), `enforce(${query}) = ${enforced}`);
      }
    });
  }
});

describe('enforceSelector takes one series selector only, checked as Prometheus checks match[] on the endpoint', () => {
  const ENDPOINTS = ['api', 'federate'] as const;
  const NON_EMPTY = 'match[] must contain at least one non-empty matcher';

  // [selector, enforced with namespace="a" for either endpoint]
  for (const [selector, expected] of [
    ['foo', 'foo{namespace="a"}'],
    ['foo{}', 'foo{namespace="a"}'],
    ['foo{job="x"}', 'foo{job="x",namespace="a"}'],
    ['{job=~"x|y"}', '{job=~"x|y",namespace="a"}'],
    ['{job!=""}', '{job!="",namespace="a"}'],
    ['{job=~".*", app="x"}', '{app="x",job=~".*",namespace="a"}'],
    ['{__name__=~"foo.*"}', '{__name__=~"foo.*",namespace="a"}'],
    ['{"my.metric"}', '{__name__="my.metric",namespace="a"}'],
    ['foo{namespace="b"}', 'foo{namespace="b",namespace="a"}'],
    ['foo{namespace="a"}', 'foo{namespace="a"}'],
    // Prometheus's selector parser takes a second metric name (the selector selects nothing); a query's does not.
    ['foo{__name__="bar"}', 'foo{__name__="bar",namespace="a"}'],
  ] as const) {
    test(selector, () => {
      for (const endpoint of ENDPOINTS) assert.equal(enforceSelector(selector, NS, endpoint), expected, endpoint);
      assert.equal(enforceSelector(selector, NS), expected, 'the API endpoints by default');
    });
  }

  // [selector whose matchers all match the empty string, as given for /federate without matchers, and with namespace="a"]
  for (const [selector, canonical, enforced] of [
    ['{job=~".*"}', '{job=~".*"}', '{job=~".*",namespace="a"}'],
    ['{__name__=~".*"}', '{__name__=~".*"}', '{__name__=~".*",namespace="a"}'],
    ['{a=""}', '{a=""}', '{a="",namespace="a"}'],
    ['{b=~"x|", a!~".+"}', '{a!~".+",b=~"x|"}', '{a!~".+",b=~"x|",namespace="a"}'],
    ['{namespace=~".*"}', '{namespace=~".*"}', '{namespace=~".*",namespace="a"}'],
  ] as const) {
    test(`${selector}: refused as written for the API endpoints, enforced for /federate`, () => {
      for (const matchers of [NS, []]) {
        assert.throws(() => enforceSelector(selector, matchers, 'api'), (e) => e instanceof PromQLError && e.message === NON_EMPTY && e.position === undefined);
      }
      assert.equal(enforceSelector(selector, NS, 'federate'), enforced);
      assert.equal(enforceSelector(selector, [], 'federate'), canonical);
    });
  }

  test('{} selects nothing on /federate: kept without matchers to add, refused where they would select all of the tenant', () => {
    for (const matchers of [NS, []]) assert.throws(() => enforceSelector('{}', matchers, 'api'), { message: NON_EMPTY });
    assert.equal(enforceSelector(' { } ', [], 'federate'), '{}');
    assert.throws(() => enforceSelector('{}', NS, 'federate'), { name: 'PromQLError', message: 'match[] must contain at least one matcher: {} selects no series' });
  });

  test('tenant matchers that all match the empty string do not make a selector valid for the API endpoints', () => {
    const notB: Matcher[] = [{ name: 'namespace', type: '!=', value: 'b' }];
    assert.throws(() => enforceSelector('{job=~".*"}', notB, 'api'), { message: NON_EMPTY });
    assert.equal(enforceSelector('{job=~".*"}', notB, 'federate'), '{job=~".*",namespace!="b"}');
    assert.equal(enforceSelector('{job="x"}', notB, 'api'), '{job="x",namespace!="b"}');
  });

  // [not a series selector, or not a valid one: refused for every endpoint, with Prometheus 2.42's message where it
  // gives the same]
  for (const [notSelector, message] of [
    ['rate(foo[5m])', '1:5: parse error: unexpected "("'], ['foo[5m]', '1:4: parse error: unexpected "["'],
    ['foo offset 5m', '1:5: parse error: unexpected <offset>'], ['(foo)', '1:1: parse error: unexpected "("'],
    ['foo{', '1:5: parse error: unexpected end of input inside braces'], ['', '1:1: parse error: unexpected end of input'],
    ['foo @ 100', undefined], ['sum(foo)', undefined], ['foo + bar', undefined], ['-foo', undefined], ['foo[5m:1m]', undefined],
    ['1', undefined], ['"foo"', undefined], ['time()', undefined], ['absent(foo)', undefined], ['foo bar', undefined],
    ['{job=~"("}', undefined],
  ] as const) {
    test(`refuses ${JSON.stringify(notSelector)}`, () => {
      for (const endpoint of ENDPOINTS) {
        for (const matchers of [NS, []]) {
          assert.throws(() => enforceSelector(notSelector, matchers, endpoint), (e) => e instanceof PromQLError && (message === undefined || e.message === message));
        }
      }
    });
  }
});

describe('refusals', () => {
  for (const query of ['{job=~".*"}', '{}', 'rate({job=""}[5m])', 'sum(foo) + {x!~".+"}']) {
    test(`the non-empty matcher check runs before injection: ${query}`, () => {
      assert.throws(() => enforce(query, NS), { name: 'PromQLError', message: /vector selector must contain at least one non-empty matcher/ });
    });
  }

  for (const query of ['info(rate(foo[5m]))', 'sum(info(foo))']) {
    test(`info() without a data-label selector would read every tenant's info series: ${query}`, () => {
      assert.deepEqual(parse(format(query)), parse(query), 'parse and format accept it');
      assert.throws(() => enforce(query, NS), { name: 'PromQLError', message: /info\(\) needs a data-label selector/ });
    });
  }

  for (const [name, matcher] of [
    ['an unknown match type', { name: 'namespace', type: '==', value: 'a' }],
    ['an invalid regular expression', { name: 'namespace', type: '=~', value: '(a' }],
    ['an empty label name', { name: '', type: '=', value: 'a' }],
  ] as const) {
    test(`a matcher with ${name} is refused`, () => {
      assert.throws(() => enforce('foo', [matcher as unknown as Matcher]), PromQLError);
    });
  }

  test('errors carry Prometheus\'s message and position', () => {
    assert.throws(() => enforce('foo + * bar', NS), (e: unknown) => {
      assert.ok(e instanceof PromQLError);
      assert.equal(e.message, '1:7: parse error: unexpected <op:*>');
      assert.deepEqual(e.position, { line: 1, column: 7 });
      return true;
    });
  });
});

describe('hostile input', () => {
  test('10,000 "(" is "query too deeply nested"', () => {
    assert.throws(() => enforce(`${'('.repeat(10_000)}foo${')'.repeat(10_000)}`, NS), { name: 'PromQLError', message: /query too deeply nested/ });
  });

  for (const [name, query] of [
    ['unary minus', `${'-'.repeat(10_000)}foo`],
    ['function calls', `${'abs('.repeat(10_000)}foo${')'.repeat(10_000)}`],
    ['aggregations', `${'sum('.repeat(10_000)}foo${')'.repeat(10_000)}`],
    ['right-associative ^', `${'foo ^ '.repeat(10_000)}foo`],
    ['subqueries', `foo${'[1m:]'.repeat(10_000)}`],
    ['unclosed parentheses', '('.repeat(100_000)],
    ['braces', '{'.repeat(100_000)],
  ] as const) {
    test(`deep ${name}: a result or a PromQLError, never a trap`, () => {
      for (const call of [() => enforce(query, NS), () => format(query), () => parse(query)]) {
        const outcome = attempt(call);
        assert.ok(outcome.ok || outcome.error.cause === undefined, outcome.ok ? '' : outcome.error.message);
      }
    });
  }

  test('nesting within the limit works', () => {
    const query = `${'('.repeat(100)}foo${')'.repeat(100)}`;
    assert.deepEqual(parse(enforce(query, NS)), parse(`${'('.repeat(100)}foo{namespace="a"}${')'.repeat(100)}`));
  });

  test('a long flat chain of binary operations is accepted, as Prometheus accepts it', () => {
    const query = Array.from({ length: 2_000 }, (_, i) => `m${i}`).join(' or ');
    const got = enforce(query, NS);
    assert.ok(got.startsWith('m0{namespace="a"} or m1{namespace="a"} or '), got.slice(0, 100));
    assert.ok(got.endsWith(' or m1999{namespace="a"}'));
  });

  test('a 1 MB query is enforced', () => {
    const query = balancedSum(Array.from({ length: 40_000 }, (_, i) => `rate(m${i}{job="x"}[5m])`));
    assert.ok(query.length > 1_000_000, `${query.length}`);
    const got = enforce(query, NS);
    assert.deepEqual(parse(got), parse(query.replaceAll('{job="x"}', '{job="x",namespace="a"}')));
  });

  test('queries over the 16 MiB limit are refused, however they are written', () => {
    for (const query of ['a'.repeat(16 * 1024 * 1024 + 1), 'é'.repeat(9 * 1024 * 1024), `"${'x'.repeat(17 * 1024 * 1024)}"`]) {
      assert.throws(() => enforce(query, NS), (e: unknown) => e instanceof PromQLError && /too large/.test(e.message));
    }
    assert.equal(enforce('foo', NS), 'foo{namespace="a"}', 'the parser works after refusing them');
  });

  describe('an enforced text over 16 MiB is refused', () => {
    const TOO_LARGE = 'query too large once enforced: over 16777216 bytes';
    const LIMIT = 16 * 1024 * 1024;
    const refusedAsTooLarge = (e: unknown): boolean => e instanceof PromQLError && e.message === TOO_LARGE && e.position === undefined;
    // Once enforced, a selector `a` is `a{namespace="a"}`.
    const ENFORCED_SUFFIX = '{namespace="a"}'.length;

    test('a 1 MiB query of selectors with an 799-byte matcher (409 MiB once enforced)', () => {
      const query = selectorChain(512 * 1024);
      assert.throws(() => enforce(query, FORTY_NAMESPACES), refusedAsTooLarge);
      assert.equal(format(query), selectorChain(512 * 1024, ' + '), 'format has no such limit');
      assert.equal(enforce(query, NS).length, 512 * 1024 * 19 - 3, 'the same query with a short matcher is under the limit');
    });

    test('enforce: 16 MiB exactly is accepted, one byte more is refused', () => {
      const atLimit = 'a'.repeat(LIMIT - ENFORCED_SUFFIX);
      assert.equal(enforce(atLimit, NS), `${atLimit}{namespace="a"}`);
      assert.throws(() => enforce(`${atLimit}a`, NS), refusedAsTooLarge);
      assert.equal(enforce('foo', NS), 'foo{namespace="a"}', 'the parser works after refusing it');
    });

    for (const endpoint of ['api', 'federate'] as const) {
      test(`enforceSelector for ${endpoint}: 16 MiB exactly is accepted, one byte more is refused`, () => {
        const atLimit = 'a'.repeat(LIMIT - ENFORCED_SUFFIX);
        assert.equal(enforceSelector(atLimit, NS, endpoint), `${atLimit}{namespace="a"}`);
        assert.throws(() => enforceSelector(`${atLimit}a`, NS, endpoint), refusedAsTooLarge);
      });
    }
  });

  test('a string that is not UTF-8 (lone surrogates) is refused as invalid UTF-8', () => {
    for (const [query, matchers] of [
      ['foo{job="\uD800"}', NS],
      ['"\uDC80"', NS],
      ['foo\uD800', NS],
      ['foo', [{ name: 'namespace', type: '=', value: 'a\uDFFF' }]],
      ['foo', [{ name: 'name\uD83D', type: '=', value: 'a' }]],
    ] as const) {
      assert.throws(() => enforce(query, matchers), { name: 'PromQLError', message: /invalid UTF-8/ }, JSON.stringify(query));
    }
    assert.deepEqual(parse(enforce('foo{job="😀"}', NS)), parse('foo{job="\\U0001F600",namespace="a"}'), 'surrogate pairs are fine');
  });

  test('NUL bytes and control characters are handled', () => {
    assert.throws(() => enforce('foo\u0000', NS), PromQLError);
    assert.deepEqual(parse(enforce('foo{job="\u0000\u0001"}', NS)), parse('foo{job="\\x00\\x01",namespace="a"}'));
  });
});

describe('the matcher encoding cache follows changes to the matchers', () => {
  test('a reused array gives the same answer; a mutated one, the new answer', () => {
    const matchers: Matcher[] = [{ name: 'namespace', type: '=', value: 'a' }];
    assert.equal(enforce('foo', matchers), enforce('foo', [...matchers]));
    (matchers[0] as Matcher).value = 'b';
    assert.deepEqual(parse(enforce('foo', matchers)), parse('foo{namespace="b"}'));
    matchers.push({ name: 'team', type: '!=', value: 'x' });
    assert.deepEqual(parse(enforce('foo', matchers)), parse('foo{namespace="b",team!="x"}'));
  });
});
