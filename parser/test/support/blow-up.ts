// Input whose enforced text is far larger than itself: every selector gets every tenant matcher.
import { quoteRegex, type Matcher } from '../../ts/index.js';

const namespaces = Array.from({ length: 40 }, (_, i) => `tenant-namespace-${String(i).padStart(2, '0')}`);

/** A tenant of 40 namespaces: one `=~` matcher of 799 bytes. */
export const FORTY_NAMESPACES: readonly Matcher[] = [{ name: 'namespace', type: '=~', value: namespaces.map(quoteRegex).join('|') }];

/** `a+a+…+a`, `count` selectors: two bytes of query a selector, the most there can be. */
export function selectorChain(count: number, separator = '+'): string {
  return Array<string>(count).fill('a').join(separator);
}
