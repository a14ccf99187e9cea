import { readFileSync } from 'node:fs';
import { encodeMatchers, type Matcher } from './matchers.js';
import { Operation, Parser, type ComplexityLimits, type Measures } from './runtime.js';

export { PromQLError, type PromQLErrorCode, type PromQLErrorOptions, type Position } from './errors.js';
export type { Matcher, MatchType } from './matchers.js';
export { quoteRegex } from './quote-regex.js';
export type { ComplexityLimits, Measures } from './runtime.js';

// Both ts/ (run by tsx) and dist/ (compiled) sit one level below the package root, beside the committed module.
const parser = new Parser(new WebAssembly.Module(readFileSync(new URL('../promql_parser.wasm', import.meta.url))));

/** The canonical PromQL text of a query; throws PromQLError. */
export function format(query: string): string {
  return parser.run(Operation.Format, query, null);
}

/** The query's syntax tree as JSON (no positions; NaN and infinities as strings); throws PromQLError. */
export function parse(query: string): unknown {
  return JSON.parse(parser.run(Operation.Parse, query, null));
}

/** The canonical query with every matcher appended to every vector selector in it; throws PromQLError. */
export function enforce(query: string, matchers: readonly Matcher[]): string {
  return parser.run(Operation.Enforce, query, encodeMatchers(matchers));
}

/** An enforced query and what it costs. */
export interface EnforcedQuery extends Measures {
  readonly text: string;
}

/**
 * enforce(), refusing a query over `limits` with a PromQLError of code 'too_complex' (a query over the node limit is
 * refused as soon as the parser reaches it), and saying what the enforced query costs.
 */
export function enforceQuery(query: string, matchers: readonly Matcher[], limits: ComplexityLimits): EnforcedQuery {
  const text = parser.run(Operation.Enforce, query, encodeMatchers(matchers), limits);
  return { text, ...parser.lastMeasures() };
}

/**
 * The Prometheus endpoint a `match[]` selector is for. 'api' (/api/v1/series, /api/v1/labels,
 * /api/v1/label/<name>/values) refuses a selector whose matchers all match the empty string; 'federate' does not.
 */
export type SelectorEndpoint = 'api' | 'federate';

/**
 * Like enforce, for a single series selector (a `match[]` parameter), checked as Prometheus checks it on `endpoint`
 * before the matchers are added; anything else throws PromQLError.
 */
export function enforceSelector(selector: string, matchers: readonly Matcher[], endpoint: SelectorEndpoint = 'api'): string {
  const op = endpoint === 'federate' ? Operation.EnforceFederateSelector : Operation.EnforceSelector;
  return parser.run(op, selector, encodeMatchers(matchers));
}
