// Whether a label set satisfies a tenant's matchers (src/enforce/label-set.ts, through re2js) is decided as Go's
// regexp decides it in a real Prometheus 2.42: series with tricky label values, and for each tricky pattern the
// values Prometheus selects with =~ and !~, or its refusal of the pattern, must be what labelSetTest gives.
// Alertmanager 0.25 anchors and compiles its matchers the same way (^(?:VALUE)$, Go's regexp).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { quoteRegex, type MatchType } from 'promql-parser-wasm';
import { labelSetTest } from '../src/enforce/label-set.js';
import { callApi } from './support/compare.js';
import { startPrometheus, type PromServer } from './support/prometheus.js';

// Case folding (the Kelvin sign, long s, ß), Unicode digits and letters, newlines, emoji, the empty value (a series
// without the label), and the values a grant's alternation of quoted namespaces must tell apart.
const VALUES = [
  '', 'a', 'A', 'k', 'K', '\u212a', 's', 'S', '\u017f', 'ß', '\u1e9e', 'é', 'É', '3', '\u0663', '\u216b', '\u01c5', 'ab', 'abc',
  'aa', 'a.b', 'axb', 'a\n', '\n', 'a\nb', '\t', 'x y', '😀', 'a{,2}', '_', 'tenant-a', 'tenant-b', 'tenant-a|tenant-b', 'Tenant-A',
  'tenant-ab', 'tenant-', 'ο', 'Ω', '漢',
];

const PATTERNS = [
  'a', '(?i)k', '(?i)K', '(?i)s', '(?i)ß', '(?i)é', '(?i)\u01c6', '\\d', '\\D', '\\w+', '\\W', '\\s', '\\S+', '\\pL', '\\p{Lu}', '\\PL',
  '\\p{Greek}', '\\p{Han}', '\\pN', '\\p{Nd}', '[[:alpha:]]', '[[:^alpha:]]', '[[:upper:]]', '[[:word:]]+', '.', '.*', '(?s).*', '(?s:.)',
  '.+', 'a$', '^a$', '\\Aa\\z', '(?m)^a$', 'a|', '|a', '', 'a{,2}', 'a{2}', 'a{1,}', '(?U)a+', 'a*?', '\\Qa.b\\E', 'a.b', 'a\\.b', '[^a]',
  '[^\\n]+', '\\x{1F600}', '\\x41', '\\101', 'a\\b', '\\Ba', '[a-c]+', '(a|ab)(c|bcd)?', 'tenant-a|tenant-b',
  ['tenant-a', 'tenant-a|tenant-b'].map(quoteRegex).join('|'), 'tenant-.', 'tenant-.*', '(?i)tenant-a', '\\C', '(?P<n>a)', 'a{1001}', '[z-a]', 'x**',
];

/** A PromQL string for any text: JSON's string syntax is a subset of PromQL's double-quoted strings. */
const promqlString = (text: string) => JSON.stringify(text);

function openMetrics(): string {
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lines = VALUES.map((v, i) => (v === '' ? `probe{i="${i}"} 1 1767225600` : `probe{i="${i}",v="${escape(v)}"} 1 1767225600`));
  return `${lines.join('\n')}\n# EOF\n`;
}

describe('label-set matching agrees with Go’s regexp in Prometheus 2.42', () => {
  let prometheus: PromServer;
  before(async () => {
    prometheus = await startPrometheus(openMetrics());
  });
  after(() => prometheus?.stop());

  /** The indices of the values Prometheus selects, or undefined when it refuses the pattern. */
  async function selected(type: MatchType, pattern: string): Promise<number[] | undefined> {
    const { status, body } = await callApi(prometheus.url, '/api/v1/series', { 'match[]': `probe{v${type}${promqlString(pattern)}}`, start: '1767225000', end: '1767226000' });
    if (status === 400) return undefined;
    assert.equal(status, 200, JSON.stringify(body));
    return (body.data as { i: string }[]).map((s) => Number(s.i)).sort((x, y) => x - y);
  }

  function decided(type: MatchType, pattern: string): number[] | undefined {
    let test: ReturnType<typeof labelSetTest>;
    try {
      test = labelSetTest([{ name: 'v', type, value: pattern }]);
    } catch {
      return undefined;
    }
    return VALUES.flatMap((v, i) => (test(v === '' ? {} : { v }) ? [i] : []));
  }

  it(`selects the same of ${VALUES.length} values for each of ${PATTERNS.length} patterns, and refuses the same patterns`, async () => {
    const disagreements: string[] = [];
    let refused = 0;
    for (const pattern of PATTERNS) {
      for (const type of ['=~', '!~'] as const) {
        const [want, got] = [await selected(type, pattern), decided(type, pattern)];
        if (want === undefined) refused++;
        if (JSON.stringify(want) !== JSON.stringify(got)) {
          const shown = (s: number[] | undefined) => (s === undefined ? 'refused' : JSON.stringify(s.map((i) => VALUES[i])));
          disagreements.push(`v${type}${promqlString(pattern)}: Prometheus ${shown(want)}, labelSetTest ${shown(got)}`);
        }
      }
    }
    assert.deepEqual(disagreements, []);
    // The refusals were exercised: \C, a repeat over 1000 and a reversed range are Go errors.
    assert.ok(refused >= 6, String(refused));
  });

  it('compares = and != as strings, a missing label as the empty value', () => {
    const eq = labelSetTest([{ name: 'v', type: '=', value: '' }]);
    assert.equal(eq({}), true);
    assert.equal(eq({ v: 'x' }), false);
    assert.equal(eq({ v: 5 }), true, 'not a string: absent');
    const ne = labelSetTest([{ name: 'toString', type: '!=', value: '' }]);
    assert.equal(ne({}), false, 'an inherited property is no label');
  });
});
