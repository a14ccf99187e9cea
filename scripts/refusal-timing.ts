// npm run bench:refusal-timing: how long promgate takes to refuse a wrong password, for known users whose hashes have
// different bcrypt costs and for unknown names, through a running gateway. Prints each group's times, so that the
// distribution for unknown names can be compared with that of known names. Env: COSTS (default "10,10,10,12"), NAMES
// (unknown names tried, default 40). Needs a build (`npm run build`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashSync } from 'bcryptjs';
import { freePorts } from '../test/support/prometheus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COSTS = (process.env.COSTS ?? '10,10,10,12').split(',').map(Number);
const NAMES = Number(process.env.NAMES ?? 40);

const dir = mkdtempSync(join(tmpdir(), 'promgate-refusals-'));
const users = COSTS.map((cost, i) => ({ name: `user${i}`, cost }));
writeFileSync(
  join(dir, 'users.yaml'),
  `users:\n${users.map((u) => `  - {username: ${u.name}, password: "${hashSync('right', u.cost)}", namespace: n}`).join('\n')}\n`,
);
const [port, internal] = await freePorts(2);
const gateway = spawn(
  process.execPath,
  ['dist/cli.js', 'run', '--port', String(port), '--internal-port', String(internal), '--auth-config', join(dir, 'users.yaml'),
    '--prometheus-endpoint', 'http://127.0.0.1:1', '--log-level', 'error'],
  { cwd: ROOT, stdio: 'ignore' },
);
process.on('exit', () => gateway.kill());

/** Milliseconds to a 401 for one fresh wrong password (never cached). */
async function refusalMs(user: string): Promise<number> {
  const auth = `Basic ${Buffer.from(`${user}:${randomBytes(8).toString('hex')}`).toString('base64')}`;
  const start = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=up`, { headers: { authorization: auth } });
  await res.arrayBuffer();
  if (res.status !== 401) throw new Error(`status ${res.status}`);
  return performance.now() - start;
}

for (let i = 0; i < 100; i++) {
  try {
    await refusalMs('warm-up');
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const cost of [...new Set(COSTS)]) {
  const times: number[] = [];
  for (const u of users.filter((u) => u.cost === cost)) for (let i = 0; i < 5; i++) times.push(await refusalMs(u.name));
  console.log(`known users at cost ${cost}: median ${median(times).toFixed(1)} ms over ${times.length}`);
}
const unknown: number[] = [];
for (let i = 0; i < NAMES; i++) unknown.push(await refusalMs(`nobody-${i}-${randomBytes(4).toString('hex')}`));
const cheapest = Math.min(...COSTS);
const threshold = 1.5 * median(unknown.filter((t) => t < 3 * Math.min(...unknown)));
const slow = unknown.filter((t) => t > threshold).length;
console.log(`unknown names: ${NAMES}; ${slow} took over ${threshold.toFixed(1)} ms (the costlier decoys); expected share ${(COSTS.filter((c) => c > cheapest).length / COSTS.length).toFixed(2)}, got ${(slow / NAMES).toFixed(2)}`);
console.log(`unknown names, sorted (ms): ${unknown.sort((a, b) => a - b).map((t) => t.toFixed(0)).join(' ')}`);
gateway.kill();
