import { quoteRegex, type Matcher } from 'promql-parser-wasm';

/** What a credential grants: namespaces, and label values (one or several per label). */
export interface Grant {
  readonly namespaces: readonly string[];
  readonly labels: Readonly<Record<string, string | readonly string[]>>;
}

/**
 * The matchers a tenant's queries get: the namespaces on `namespaceLabel`, then each label in code-point order
 * (stable, so the same grant always yields the same query text). One value is an equality; several are a
 * regex of the values, each quoted so that a value such as `a.b|c` means itself and nothing wider.
 * An empty grant gives no matchers: callers must refuse it, never forward unfiltered. So does a grant that
 * cannot be met, rather than be widened: a label given with no values, or an empty value (which would match
 * every series without that label).
 */
export function tenantMatchers(grant: Grant, namespaceLabel: string): Matcher[] {
  if (!satisfiable(grant)) return [];
  const matchers: Matcher[] = [];
  const namespaces = matcherFor(namespaceLabel, grant.namespaces);
  if (namespaces) matchers.push(namespaces);
  const labels = Object.entries(grant.labels).sort(([a], [b]) => byCodePoint(a, b));
  for (const [name, value] of labels) {
    const matcher = matcherFor(name, typeof value === 'string' ? [value] : value);
    if (matcher) matchers.push(matcher);
  }
  return matchers;
}

function satisfiable(grant: Grant): boolean {
  if (grant.namespaces.includes('')) return false;
  return Object.values(grant.labels).every((value) =>
    typeof value === 'string' ? value !== '' : value.length > 0 && !value.includes(''),
  );
}

function matcherFor(name: string, values: readonly string[]): Matcher | undefined {
  const unique = [...new Set(values)];
  if (unique.length === 0) return undefined;
  if (unique.length === 1) return { name, type: '=', value: unique[0]! };
  return { name, type: '=~', value: unique.map((value) => quoteRegex(value)).join('|') };
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
