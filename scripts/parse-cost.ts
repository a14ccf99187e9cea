// npm run bench:parse-cost: what long chains of binary operators cost a real Prometheus (Debian's 2.42) to parse,
// beside the nodes and type-check cost promgate's parser measures for them: the figures behind the default
// complexity limits (README, "Limits"). Prometheus holds one series, so the time is the parser's; each query is
// sent straight to it (not through promgate) three times, and the median is printed.
// Env: TERMS (comma-separated chain lengths, default 125,250,500,1000,2000,4000).
import { enforceQuery } from 'promql-parser-wasm';
import { startPrometheus } from '../test/support/prometheus.js';

const TERMS = (process.env.TERMS ?? '125,250,500,1000,2000,4000').split(',').map(Number);
const END = 1_700_000_000;
const SHAPES: Readonly<Record<string, (n: number) => string>> = {
  'a + a + … (vectors)': (n) => Array.from({ length: n }, () => 'a').join(' + '),
  '1 + 1 + … (scalars)': (n) => Array.from({ length: n }, () => '1').join(' + '),
  'sum(a) + sum(a) + …': (n) => Array.from({ length: n }, () => 'sum(a)').join(' + '),
};

const server = await startPrometheus(`# TYPE a gauge\na 1 ${END}\n# EOF\n`);
try {
  console.log('| shape | terms | bytes | nodes | type-check cost | Prometheus ms (median of 3) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [shape, make] of Object.entries(SHAPES)) {
    for (const terms of TERMS) {
      const query = make(terms);
      const { nodes, cost } = enforceQuery(query, [], {});
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const res = await fetch(`${server.url}/api/v1/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ query, time: String(END) }),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${shape}, ${terms} terms: status ${res.status}`);
        times.push(performance.now() - started);
      }
      const median = times.sort((a, b) => a - b)[1]!;
      console.log(`| ${shape} | ${terms} | ${query.length} | ${nodes} | ${cost} | ${median.toFixed(1)} |`);
    }
  }
} finally {
  await server.stop();
}
