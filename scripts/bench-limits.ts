// npm run bench:limits: what the tenant limits cost on the hot path, limits off against limits on (loose enough that
// nothing is refused), in one run.
//  1. In process, per request: the limiter's steps (the tenant's limits, a token, a place taken and given back) and
//     the window check of a range query, timed over many requests; the difference is the limits' own cost.
//  2. Through the gateway: two promgate processes, one with every limit off and one with every limit on, in front of
//     a static upstream; wrk drives each in turn (off, on, off, on) and their CPU time per request is read from /proc.
// Needs wrk and a build (`npm run build`).  Env: DURATION (s per turn, default 5), CONNS (default 32), N (in-process
// requests, default 2,000,000).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Lease } from '../src/limits/limiter.js';
import type { TenantLimits } from '../src/limits/limits.js';
import { freePorts } from '../test/support/prometheus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('build first: npm run build');
// The built modules, as promgate runs them: tsx's transform names every closure it makes, which costs more than the
// limits themselves.
const dist = (module: string) => import(new URL(`../dist/limits/${module}`, import.meta.url).href);
const { Limiter } = (await dist('limiter.js')) as typeof import('../src/limits/limiter.js');
const { NO_LIMITS, withOverrides } = (await dist('limits.js')) as typeof import('../src/limits/limits.js');
const { createLimitMetrics } = (await dist('metrics.js')) as typeof import('../src/limits/metrics.js');
const { checkQueryWindow } = (await dist('query-window.js')) as typeof import('../src/limits/query-window.js');
const DURATION = Number(process.env.DURATION ?? 5);
const CONNS = Number(process.env.CONNS ?? 32);
const N = Number(process.env.N ?? 2_000_000);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const QUERY = 'sum by (pod) (rate(http_requests_total{code="500"}[5m]))';

const LOOSE: Partial<TenantLimits> = {
  concurrency: 1_000_000,
  queue: 64,
  queueTimeoutMs: 30_000,
  rate: 1_000_000_000,
  maxRangeMs: 32 * 86_400_000,
  maxLookbackMs: 32 * 86_400_000,
  maxPoints: 11_000,
};
const PARAMS: [string, string][] = [['query', QUERY], ['start', '1767222000'], ['end', '1767225600'], ['step', '15']];

/** ns per request of the limits' steps, as the gateway runs them for one range query. */
function inProcess(limits: Partial<TenantLimits>): number {
  const limiter = new Limiter({
    defaults: withOverrides(NO_LIMITS, limits),
    failure: 'open',
    metrics: createLimitMetrics(new Registry()),
    logger: pino({ level: 'silent' }),
  });
  const who = { tenant: 'alice', metricsUser: 'alice' };
  const client = new EventEmitter();
  const once = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const tenant = limiter.limitsOf(undefined);
      if (limiter.admit(who, tenant) !== undefined) throw new Error('refused');
      if (checkQueryWindow(PARAMS, 300_000, tenant, true) !== undefined) throw new Error('refused');
      (limiter.acquire(who, tenant, client) as Lease).release();
    }
  };
  once(N / 10);
  const started = process.hrtime.bigint();
  once(N);
  return Number(process.hrtime.bigint() - started) / N;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill()));
const start = (args: string[]): ChildProcess => {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
};

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

/** CPU µs per request of the process behind `port`, and its errors, over one wrk run. */
function cpuPerRequest(port: number, pid: number): { us: number; rps: number; errors: number } {
  const auth = `Authorization: Basic ${Buffer.from('alice:alice-pass').toString('base64')}`;
  const url = `http://127.0.0.1:${port}/api/v1/query_range?${new URLSearchParams(PARAMS)}`;
  const before = cpuSeconds(pid);
  const out = spawnSync('wrk', ['-t1', `-c${CONNS}`, `-d${DURATION}s`, '-H', auth, url], { encoding: 'utf8' }).stdout;
  const cpu = cpuSeconds(pid) - before;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: .*?(\d+)/.exec(out)?.[1] ?? 0);
  return { us: (cpu * 1e6) / requests, rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0), errors };
}

const off = inProcess({});
const on = inProcess(LOOSE);
console.log(`in process, ${N} requests: limits off ${off.toFixed(0)} ns/request, on ${on.toFixed(0)} ns/request, on - off ${(on - off).toFixed(0)} ns`);

if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
const [UPSTREAM, OFF, OFF_INTERNAL, ON, ON_INTERNAL] = (await freePorts(5)) as [number, number, number, number, number];
const dir = mkdtempSync(join(tmpdir(), 'promgate-bench-limits-'));
const users = join(dir, 'users.yaml');
writeFileSync(users, 'users:\n  - username: alice\n    password: alice-pass\n    namespace: tenant-a\n');
start(['--import', 'tsx', 'scripts/bench/static-upstream.ts', String(UPSTREAM)]);
const common = (port: number, internal: number) => [
  'dist/cli.js', 'run', '--port', String(port), '--internal-port', String(internal), '--log-level', 'warn',
  '--prometheus-endpoint', `http://127.0.0.1:${UPSTREAM}`, '--auth-config', users,
];
const allOff = ['--max-query-nodes', '0', '--max-query-cost', '0', '--limits-concurrency', '0', '--limits-max-range', '0', '--limits-max-lookback', '0', '--limits-max-points', '0'];
const allOn = ['--limits-rate', String(LOOSE.rate), '--limits-concurrency', String(LOOSE.concurrency)];
const gatewayOff = start([...common(OFF, OFF_INTERNAL), ...allOff]);
const gatewayOn = start([...common(ON, ON_INTERNAL), ...allOn]);
await Promise.all([waitFor(`http://127.0.0.1:${UPSTREAM}/`), waitFor(`http://127.0.0.1:${OFF_INTERNAL}/readyz`), waitFor(`http://127.0.0.1:${ON_INTERNAL}/readyz`)]);
cpuPerRequest(OFF, gatewayOff.pid!); // warm both
cpuPerRequest(ON, gatewayOn.pid!);
const turns = { off: [] as number[], on: [] as number[] };
let errors = 0;
for (let turn = 0; turn < 2; turn++) {
  for (const [name, port, child] of [['off', OFF, gatewayOff], ['on', ON, gatewayOn]] as const) {
    const r = cpuPerRequest(port, child.pid!);
    errors += r.errors;
    turns[name].push(r.us);
    console.log(`gateway, limits ${name.padEnd(3)} ${r.rps.toFixed(0).padStart(6)} req/s  cpu/req ${r.us.toFixed(1)} µs  errors ${r.errors}`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`gateway cpu/req: off ${mean(turns.off).toFixed(1)} µs, on ${mean(turns.on).toFixed(1)} µs, on - off ${(mean(turns.on) - mean(turns.off)).toFixed(1)} µs (wrk's noise on this figure is a few µs)`);
process.exit(errors > 0 ? 1 : 0);
