import type { Matcher } from 'promql-parser-wasm';
import { RE2JS } from 're2js';

/** A label set as the Prometheus and Alertmanager APIs write one: label name to value. */
export type LabelSet = Readonly<Record<string, unknown>>;

/** Whether a label set satisfies a list of matchers. */
export type LabelSetTest = (labels: LabelSet) => boolean;

// Principals are frozen and shared by every request of a grant: their matchers are compiled once.
const compiled = new WeakMap<readonly Matcher[], LabelSetTest>();

/**
 * Whether a label set satisfies every matcher, as a selector would select a series with those labels: a label
 * missing (or not a string) has the empty value. Regular expressions are Go's (RE2 syntax and semantics, through
 * re2js, a port of Go's regexp package), anchored as Prometheus 2 and Alertmanager anchor them: `^(?:VALUE)$`.
 * JavaScript's own RegExp would not do: its syntax and meaning differ (`\d`, `$` before a final newline, case
 * folding), and a tenant's view must be decided exactly as the upstream would select its series.
 */
export function labelSetTest(matchers: readonly Matcher[]): LabelSetTest {
  const known = compiled.get(matchers);
  if (known !== undefined) return known;
  const tests = matchers.map(matcherTest);
  const test: LabelSetTest = (labels) => tests.every((t) => t(labels));
  compiled.set(matchers, test);
  return test;
}

function matcherTest(m: Matcher): LabelSetTest {
  const value = (labels: LabelSet): string => {
    const v = Object.hasOwn(labels, m.name) ? labels[m.name] : undefined;
    return typeof v === 'string' ? v : '';
  };
  switch (m.type) {
    case '=':
      return (labels) => value(labels) === m.value;
    case '!=':
      return (labels) => value(labels) !== m.value;
    case '=~':
    case '!~': {
      // Throws for a pattern Go refuses: a tenant's matchers are checked by the parser long before this.
      const re = RE2JS.compile(`^(?:${m.value})$`);
      const wanted = m.type === '=~';
      return (labels) => re.matches(value(labels)) === wanted;
    }
  }
}
