import { readFileSync } from 'node:fs';

/** The terms joined by `+` into a balanced tree, so that a long query stays shallow (depth log2 of the terms). */
export function balancedSum(terms: readonly string[]): string {
  if (terms.length === 0) throw new Error('no terms');
  if (terms.length === 1) return terms[0] as string;
  const half = Math.ceil(terms.length / 2);
  return `(${balancedSum(terms.slice(0, half))} + ${balancedSum(terms.slice(half))})`;
}

/** The queries of test/queries.txt: one expression a line, blank lines and # comments skipped. */
export function listedQueries(): string[] {
  return readFileSync(new URL('../queries.txt', import.meta.url), 'utf8')
    .split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}
