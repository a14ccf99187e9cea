// A longer fuzz run than the test suite's: node --import tsx scripts/fuzz.ts [inputs] [seed]
import { inputOf, readCorpus, type ParseCase } from '../test/support/corpus.js';
import { checkInput, fuzzInputs, type FuzzStats } from '../test/support/fuzz.js';
import { listedQueries } from '../test/support/queries.js';

const inputs = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const seeds = [...readCorpus<ParseCase>('promql-parse.jsonl').map(inputOf).filter((q) => q.length < 10_000), ...listedQueries()];
const stats: FuzzStats = { accepted: 0, rejected: 0 };
let failures = 0;
const started = performance.now();
for (const query of fuzzInputs(seed, inputs, seeds)) {
  const failure = checkInput(query, stats);
  if (failure !== null && ++failures <= 50) console.log(`FAIL ${JSON.stringify(query)}: ${failure}`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`seed ${seed}: ${inputs} inputs in ${seconds} s, ${stats.accepted} accepted, ${stats.rejected} rejected, ${failures} failures`);
process.exitCode = failures === 0 ? 0 : 1;
