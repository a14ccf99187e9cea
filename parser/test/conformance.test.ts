// Conformance with Prometheus's own parser tests (the corpus in test/corpus/): the same accept/reject decisions,
// the same error messages where possible, and a printer whose output parses back to the same tree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { enforce, format, parse, type Matcher } from '../ts/index.js';
import { bytesOf, goQuote, inputOf, positionOf, readCorpus, type ParseCase, type PrintCase } from './support/corpus.js';
import { attempt, refusedOnlyUnderEnforcement } from './support/outcome.js';

const parseCases = readCorpus<ParseCase>('promql-parse.jsonl');
const lexCases = readCorpus<ParseCase & { series_desc: boolean }>('promql-lex.jsonl');
const acceptedInputs = [...parseCases, ...lexCases.filter((c) => !c.series_desc)].map(inputOf).filter((q) => attempt(() => parse(q)).ok);
const printCases = readCorpus<PrintCase>('promql-print.jsonl');


const UNKNOWN_FUNCTION = /^unknown function with name "(.+)"$/;
const PROMETHEUS_ERROR = /^(\d+):(\d+): parse error: (.+)$/s;
const SHOWN_DIFFERENCES = 20;

/** The unknown function names CONFORMANCE.md allows us to accept, from its "Allowed exceptions" section. */
function allowedUnknownFunctions(): Set<string> {
  const doc = readFileSync(new URL('../CONFORMANCE.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Allowed exceptions'));
  if (section === undefined) throw new Error('parser/CONFORMANCE.md has no "## Allowed exceptions" section');
  return new Set([...section.matchAll(/^- `([^`]+)`/gm)].map((m) => m[1] as string));
}

const share = (n: number, of: number) => `${n}/${of} (${((100 * n) / of).toFixed(1)}%)`;
const show = (q: string) => JSON.stringify(q.length > 120 ? `${q.slice(0, 120)}…` : q);

test('accepts and rejects exactly what Prometheus does, but for the listed unknown functions', (t) => {
  const allowed = allowedUnknownFunctions();
  const exceptions: string[] = [];
  const disagreements: string[] = [];
  let agreeing = 0;
  for (const c of parseCases) {
    const outcome = attempt(() => parse(inputOf(c)));
    if (outcome.ok === !c.fail) {
      agreeing++;
      continue;
    }
    const unknownFunction = c.fail ? UNKNOWN_FUNCTION.exec(c.error ?? '')?.[1] : undefined;
    if (outcome.ok && unknownFunction !== undefined && allowed.has(unknownFunction)) {
      exceptions.push(unknownFunction);
    } else {
      const ours = outcome.ok ? 'we accept' : `we reject: ${outcome.error.message}`;
      disagreements.push(`${c.source} ${show(c.input)}: Prometheus ${c.fail ? `rejects: ${c.error}` : 'accepts'}; ${ours}`);
    }
  }
  t.diagnostic(`accept/reject agreement with Prometheus: ${share(agreeing, parseCases.length)}`);
  t.diagnostic(`allowed exceptions (unknown functions, accepted by design): ${exceptions.length} [${exceptions.join(', ')}]`);
  t.diagnostic(`agreement counting the allowed exceptions: ${share(agreeing + exceptions.length, parseCases.length)}`);
  assert.deepEqual(disagreements, []);
  assert.deepEqual(new Set(exceptions), allowed, 'CONFORMANCE.md lists exactly the unknown functions the corpus uses');
});

test('error messages read like Prometheus\'s', (t) => {
  let compared = 0;
  let sameText = 0;
  let sameTextAndPosition = 0;
  const malformed: string[] = [];
  const differing: string[] = [];
  for (const c of parseCases) {
    if (!c.fail || !c.error) continue;
    const outcome = attempt(() => parse(inputOf(c)));
    if (outcome.ok) continue; // an accept/reject disagreement, counted above
    compared++;
    const { message, position } = outcome.error;
    const shape = PROMETHEUS_ERROR.exec(message);
    if (shape === null || position?.line !== Number(shape[1]) || position.column !== Number(shape[2])) {
      malformed.push(`${show(c.input)}: ${JSON.stringify(message)} with position ${JSON.stringify(position)}`);
      continue;
    }
    if (shape[3] === c.error) sameText++;
    else differing.push(`${c.source} ${show(c.input)}: ours ${JSON.stringify(shape[3])}, Prometheus ${JSON.stringify(c.error)}`);
    const first = c.errors?.[0];
    if (first !== undefined && message === `${positionOf(bytesOf(c), first.start)}: parse error: ${first.msg}`) sameTextAndPosition++;
  }
  t.diagnostic(`error text agreement with Prometheus: ${share(sameText, compared)}; text and position: ${share(sameTextAndPosition, compared)}`);
  for (const d of differing.slice(0, SHOWN_DIFFERENCES)) t.diagnostic(`  differs: ${d}`);
  if (differing.length > SHOWN_DIFFERENCES) t.diagnostic(`  … and ${differing.length - SHOWN_DIFFERENCES} more`);
  assert.ok(compared > 100, `only ${compared} rejected inputs compared`);
  assert.deepEqual(malformed, [], 'every error is "line:column: parse error: message" with the same position as a property');
});

test('every PromQL input Prometheus\'s lexer refuses is refused', (t) => {
  // Series descriptions (promtool's test notation) are not PromQL.
  const refused = lexCases.filter((c) => c.fail && !c.series_desc);
  const accepted = refused.map(inputOf).filter((q) => attempt(() => parse(q)).ok);
  t.diagnostic(`${refused.length} inputs the lexer refuses`);
  assert.ok(refused.length > 40);
  assert.deepEqual(accepted, []);
});

test('string literals hold the values Prometheus reads', (t) => {
  // Values holding bytes that are not UTF-8 ("\xFF") reach the corpus as U+FFFD and cannot be compared.
  const comparable = parseCases.filter((c) => c.expected_string !== undefined && !c.expected_string.includes('\uFFFD'));
  for (const c of comparable) {
    assert.deepEqual(parse(inputOf(c)), parse(goQuote(c.expected_string as string)), c.input);
  }
  t.diagnostic(`${comparable.length} string values compared`);
  assert.ok(comparable.length >= 4);
});

test('the printer agrees with Prometheus\'s: format(input) parses to the tree of Prometheus\'s output', (t) => {
  const failures: string[] = [];
  let identical = 0;
  for (const c of printCases) {
    const ours = attempt(() => format(c.input));
    if (!ours.ok) {
      failures.push(`${c.source} ${show(c.input)}: ${ours.error.message}`);
      continue;
    }
    if (ours.value === c.output) identical++;
    const got = attempt(() => parse(ours.value));
    const want = attempt(() => parse(c.output));
    if (!got.ok || !want.ok || !isDeepStrictEqual(got.value, want.value)) {
      failures.push(`${c.source} ${show(c.input)}: we print ${show(ours.value)}, Prometheus ${show(c.output)}`);
    }
  }
  t.diagnostic(`format(input) is character for character Prometheus's output: ${share(identical, printCases.length)}`);
  assert.deepEqual(failures, []);
});

test('format round-trips every accepted corpus input (parser and lexer tests) and is idempotent', (t) => {
  const failures: string[] = [];
  for (const q of acceptedInputs) {
    const printed = format(q);
    const reparsed = attempt(() => parse(printed));
    if (!reparsed.ok || !isDeepStrictEqual(reparsed.value, parse(q))) {
      failures.push(`${show(q)} printed as ${show(printed)} ${reparsed.ok ? 'parses to another tree' : `fails: ${reparsed.error.message}`}`);
    } else if (format(printed) !== printed) {
      failures.push(`${show(q)}: format is not idempotent: ${show(printed)} then ${show(format(printed))}`);
    }
  }
  t.diagnostic(`${acceptedInputs.length} accepted inputs round-tripped`);
  assert.deepEqual(failures, []);
});

test('enforce decides like parse on every corpus input and prints canonical PromQL', () => {
  const tenant: Matcher[] = [{ name: 'namespace', type: '=', value: 'tenant-a' }];
  const failures: string[] = [];
  for (const c of parseCases) {
    const q = inputOf(c);
    const parsed = attempt(() => parse(q));
    const enforced = attempt(() => enforce(q, tenant));
    if (parsed.ok && !enforced.ok && refusedOnlyUnderEnforcement(enforced.error)) continue;
    if (parsed.ok !== enforced.ok) {
      failures.push(`${show(q)}: parse ${parsed.ok ? 'accepts' : 'rejects'}, enforce ${enforced.ok ? 'accepts' : 'rejects'}`);
    } else if (enforced.ok && format(enforced.value) !== enforced.value) {
      failures.push(`${show(q)}: enforce gives ${show(enforced.value)}, not canonical`);
    }
  }
  assert.deepEqual(failures, []);
});
