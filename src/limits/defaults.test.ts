// The default limits against ordinary queries: Prometheus's own parser test inputs (parser/test/corpus), the queries
// the parser is checked with against a real Prometheus (parser/test/queries.txt) and generated dashboard queries all
// stay far below them; the chains the defaults guard against do not. (The isolation oracle's query list is run through
// a gateway with these defaults by CI.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { enforceQuery, PromQLError } from 'promql-parser-wasm';
import { readCorpus, type ParseCase } from '../../parser/test/support/corpus.js';
import { listedQueries } from '../../parser/test/support/queries.js';
import { limitOptions, toLimitOptions } from '../config/limit-flags.js';
import type { LimitOptions } from './limits.js';
import { checkQueryWindow } from './query-window.js';

function defaults(): LimitOptions {
  const command = new Command();
  for (const option of limitOptions()) command.addOption(option);
  command.parse([], { from: 'user' });
  const options = toLimitOptions(command);
  assert.ok(options.ok);
  return options.value;
}

const { complexity, tenant } = defaults();
const chain = (terms: number, term = 'a'): string => Array.from({ length: terms }, () => term).join(' + ');

describe('the default limits', () => {
  it('are 10,000 nodes and a type-check cost of 100,000', () => {
    assert.deepEqual(complexity, { maxNodes: 10_000, maxCost: 100_000 });
  });

  it('are a hundred times what any accepted input of the corpus or the listed queries costs', () => {
    const inputs = [...readCorpus<ParseCase>('promql-parse.jsonl').filter((c) => !c.fail).map((c) => c.input), ...listedQueries()];
    assert.ok(inputs.length > 300, `${inputs.length} inputs`);
    let nodes = 0;
    let cost = 0;
    for (const query of inputs) {
      const measured = enforceQuery(query, [], complexity);
      nodes = Math.max(nodes, measured.nodes);
      cost = Math.max(cost, measured.cost);
    }
    assert.ok(nodes * 100 <= complexity.maxNodes && cost * 100 <= complexity.maxCost, `at most ${nodes} nodes and a cost of ${cost}`);
  });

  it('keep the listed queries within the default lookback', () => {
    for (const query of listedQueries()) {
      const { lookbackMs } = enforceQuery(query, [], complexity);
      assert.equal(checkQueryWindow([['query', query]], lookbackMs, tenant, false), undefined, query);
    }
  });

  it('take generated dashboard queries: a regex of 2,000 values, an `or` of 50 selectors', () => {
    const values = Array.from({ length: 2000 }, (_, i) => `pod-${i}-abcdef`).join('|');
    const regex = enforceQuery(`sum by (pod) (rate(container_cpu_usage_seconds_total{pod=~"${values}"}[5m]))`, [], complexity);
    assert.ok(regex.nodes < 10 && regex.cost === 0, JSON.stringify({ ...regex, text: undefined }));
    const ors = enforceQuery(Array.from({ length: 50 }, (_, i) => `up{job="job-${i}"}`).join(' or '), [], complexity);
    assert.ok(ors.cost * 20 < complexity.maxCost, `an or of 50 costs ${ors.cost}`);
  });

  it('refuse the chains that cost Prometheus 50 ms and more to parse (README, "Limits"), and take shorter ones', () => {
    for (const terms of [1000, 2000, 4000, 8000]) {
      assert.throws(() => enforceQuery(chain(terms), [], complexity), (e: unknown) => e instanceof PromQLError && e.code === 'too_complex', `${terms} terms`);
    }
    assert.equal(enforceQuery(chain(316), [], complexity).cost, 316 * 316 - 1);
    assert.throws(() => enforceQuery(chain(317), [], complexity), PromQLError);
  });
});
