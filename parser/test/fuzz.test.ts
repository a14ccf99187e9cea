// 100,000 random and mutated inputs; the seed is fixed so that a failure can be replayed (PARSER_FUZZ_SEED to vary it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inputOf, readCorpus, type ParseCase } from './support/corpus.js';
import { checkInput, fuzzInputs, type FuzzStats } from './support/fuzz.js';
import { listedQueries } from './support/queries.js';

const INPUTS = 100_000;
const SEED = Number(process.env['PARSER_FUZZ_SEED'] ?? 20_260_101);

test(`${INPUTS} fuzzed inputs each give a result or a PromQLError, and accepted ones round-trip`, (t) => {
  const seeds = [...readCorpus<ParseCase>('promql-parse.jsonl').map(inputOf).filter((q) => q.length < 10_000), ...listedQueries()];
  const stats: FuzzStats = { accepted: 0, rejected: 0 };
  const failures: string[] = [];
  for (const query of fuzzInputs(SEED, INPUTS, seeds)) {
    const failure = checkInput(query, stats);
    if (failure !== null) failures.push(`${JSON.stringify(query)}: ${failure}`);
  }
  t.diagnostic(`seed ${SEED}: ${stats.accepted} accepted, ${stats.rejected} rejected, ${failures.length} failures`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures (first 20 shown)`);
});
