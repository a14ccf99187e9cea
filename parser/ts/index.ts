import { readFileSync } from 'node:fs';
import { encodeMatchers, type Matcher } from './matchers.js';
import { Operation, Parser } from './runtime.js';

export { PromQLError, type Position } from './errors.js';
export type { Matcher, MatchType } from './matchers.js';
export { quoteRegex } from './quote-regex.js';

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

/** Like enforce, for a single series selector (a `match[]` parameter); anything else throws PromQLError. */
export function enforceSelector(selector: string, matchers: readonly Matcher[]): string {
  return parser.run(Operation.EnforceSelector, selector, encodeMatchers(matchers));
}
