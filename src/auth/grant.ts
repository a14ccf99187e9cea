import { quoteRegex, type Matcher } from 'promql-parser-wasm';
import { selectorText } from '../enforce/selector.js';
import type { LimitsOverrides } from '../limits/limits.js';
import type { Grant, Principal } from './types.js';

export type { Grant };

/**
 * The principal a grant makes, or undefined when it allows nothing (the caller answers 403): no matchers, no
 * tenant id, and not a passthrough tenant. Frozen, as principals are shared by every request of a credential.
 */
export function principalOf(
  user: string,
  metricsUser: string,
  grant: Grant,
  namespaceLabel: string,
  counted: { readonly tenant?: string; readonly limits?: LimitsOverrides } = {},
): Principal | undefined {
  const matchers = tenantMatchers(grant, namespaceLabel);
  // A grant of namespaces or labels that cannot be met allows nothing, even beside a tenant id.
  const confined = grant.namespaces.length > 0 || Object.keys(grant.labels).length > 0;
  if (matchers.length === 0 && (confined || (grant.tenantId === undefined && grant.passthrough !== true))) return undefined;
  const key = selectorText(matchers);
  return Object.freeze({
    user,
    metricsUser,
    grant,
    matchers: Object.freeze(matchers.map((m) => Object.freeze(m))),
    key,
    tenant: counted.tenant ?? grant.tenantId ?? (key || user),
    ...(counted.limits !== undefined && { limits: counted.limits }),
  });
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
    const matcher = matcherFor(name, value);
    if (matcher) matchers.push(matcher);
  }
  return matchers;
}

function satisfiable(grant: Grant): boolean {
  if (grant.namespaces.includes('')) return false;
  return Object.values(grant.labels).every((values) => values.length > 0 && !values.includes(''));
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
