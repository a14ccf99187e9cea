import type { Matcher } from 'promql-parser-wasm';
import { isLabelName } from '../labels.js';

/**
 * `{namespace="a",team=~"x|y"}`: the series selector of everything matched by `matchers`, in their order, ''
 * for none. It is also the matchers' canonical text: equal matchers always give equal text.
 */
export function selectorText(matchers: readonly Matcher[]): string {
  if (matchers.length === 0) return '';
  // JSON string syntax is a subset of PromQL's double-quoted strings.
  const parts = matchers.map((m) => `${isLabelName(m.name) ? m.name : JSON.stringify(m.name)}${m.type}${JSON.stringify(m.value)}`);
  return `{${parts.join(',')}}`;
}
