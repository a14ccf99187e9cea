// The printer: format(q) parses back to the tree of q, and format is idempotent, on the corners of the grammar.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enforce, format, parse } from '../ts/index.js';

const ROUND_TRIPS = [
  // signs, zeros and special numbers
  '-0', '-0m', '1 / -0m', 'foo[-0s + 15s]', 'foo offset -0s', '+Inf', '-Inf', 'NaN', '+Inf ^ foo', '-Inf ^ 2', '+1 ^ foo',
  'foo offset +(5) - Inf', '- -1', '-(-1)', '1 - -1', '2 ^ -1', '-2 ^ 2', '-foo ^ 2', '(-foo) ^ 2', '0x1F', '0755', '1e-3', '.5', '5.', '1_000',
  // precedence and associativity
  '1 - (2 - 3)', '(1 - 2) - 3', '2 ^ (3 ^ 2)', '(2 ^ 3) ^ 2', 'a or b and c', '(a or b) and c', 'a * on (x) (b + c)',
  'a > bool b == bool c', '-(a + b)', 'sum(a) by (x) / ignoring (y) group_left (z) b',
  // durations, subqueries and modifiers
  'foo[1h30m]', 'foo[90s]', 'foo[5m:]', 'foo[5m:1m] offset -1h @ 100', 'foo @ -100', 'foo @ 1.5',
  'foo[step() * 2]', 'foo[-(step())]', 'foo offset min_of(1m, 2m)', 'foo[5m] anchored', 'foo[5m] smoothed offset 1m',
  // names that need quoting, and strings
  '{"my.metric"}', '{"my.metric", "a-b"="c"}', 'sum by ("a.b") (foo)', 'foo{"a"="b"}', '"\\u2028\\x00\\xff"', '`\\`',
  // info()'s data-label selector may be empty
  'info(foo, {})', 'info(foo, {__name__="target_info"})',
];

for (const query of ROUND_TRIPS) {
  test(`format round-trips ${query}`, () => {
    const printed = format(query);
    assert.deepEqual(parse(printed), parse(query), `printed as ${printed}`);
    assert.equal(format(printed), printed);
  });
}

// absent() derives its output labels from its selector's matchers in order (the first `=` of a name sets the label,
// a later matcher of that name deletes it), so a printer that reorders a label's matchers changes the answer.
for (const [query, first, second] of [
  ['absent(foo{job="x", job!="y"})', 'job="x"', 'job!="y"'],
  ['absent(foo{job=~"x.*", job="x1"})', 'job=~"x.*"', 'job="x1"'],
  ['absent_over_time(foo{b="2", a="1", b="3"}[5m])', 'b="2"', 'b="3"'],
] as const) {
  test(`format keeps the order of one label's matchers: ${query}`, () => {
    for (const printed of [format(query), enforce(query, [{ name: 'namespace', type: '=', value: 'a' }])]) {
      const at = [printed.indexOf(first), printed.indexOf(second)];
      assert.ok(at[0]! >= 0 && at[0]! < at[1]!, `${first} must stay before ${second} in ${printed}`);
    }
  });
}
