// npm run bench:sigv4: what AWS SigV4 signing costs per request, signed against unsigned, in one run.
//  1. In process: the signer alone (promgate's built module) on a Grafana-like GET and a form POST, timed over many
//     requests: the microseconds one signature takes.
//  2. Through promgate: two processes in front of one static upstream, one with --aws (static keys from the
//     environment, so no credential service is asked) and one without; wrk drives each in turn (unsigned, signed,
//     unsigned, signed) by GET and by POST, and their CPU time per request is read from /proc.
// Needs wrk and a build (`npm run build`).  Env: DURATION (s per turn, default 5), CONNS (default 32), N (in-process
// signatures, default 20,000).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../test/support/prometheus.js';
import { cpuSeconds, start } from './bench/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('build first: npm run build');
if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
const { sigV4Signer } = (await import(new URL('../dist/aws/sigv4.js', import.meta.url).href)) as typeof import('../src/aws/sigv4.js');
const DURATION = Number(process.env.DURATION ?? 5);
const CONNS = Number(process.env.CONNS ?? 32);
const N = Number(process.env.N ?? 20_000);
const QUERY = 'sum by (pod) (rate(http_requests_total{code="500",job=~"api|web"}[5m]))';
const FORM = `query=${encodeURIComponent(QUERY)}&start=1767222000&end=1767225600&step=15`;
const BASIC = `Basic ${Buffer.from('alice:alice-pass').toString('base64')}`;
const KEYS = { AWS_ACCESS_KEY_ID: 'AKIABENCHMARK0000001', AWS_SECRET_ACCESS_KEY: 'bench-secret', AWS_SESSION_TOKEN: 'bench-token', AWS_REGION: 'us-east-1' };

// 1. The signer alone.
const signer = sigV4Signer({ region: 'us-east-1', service: 'aps' }, () => Promise.resolve({ accessKeyId: KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY, sessionToken: KEYS.AWS_SESSION_TOKEN }));
const headers = { accept: 'application/json, text/plain, */*', 'accept-encoding': 'gzip', 'user-agent': 'Grafana/11.2.0', 'x-request-id': 'abc' };
const requests = {
  GET: { method: 'GET' as const, path: `/workspaces/ws-1/api/v1/query?query=${encodeURIComponent(QUERY)}&time=1767225600`, headers, body: null },
  POST: { method: 'POST' as const, path: '/workspaces/ws-1/api/v1/query_range', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: FORM },
};
for (const [method, request] of Object.entries(requests)) {
  for (let i = 0; i < 2000; i++) await signer(request, 'https://aps-workspaces.us-east-1.amazonaws.com');
  const started = process.cpuUsage();
  const wall = performance.now();
  for (let i = 0; i < N; i++) await signer(request, 'https://aps-workspaces.us-east-1.amazonaws.com');
  const cpu = process.cpuUsage(started);
  console.log(`signer alone, ${method}: ${(((cpu.user + cpu.system) / N)).toFixed(1)} us cpu, ${(((performance.now() - wall) * 1000) / N).toFixed(1)} us wall per signature (${N} signatures)`);
}

// 2. Through promgate.

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await fetch(url).catch(() => undefined))?.ok === true) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

const [UPSTREAM, PLAIN, PLAIN_INTERNAL, SIGNED, SIGNED_INTERNAL] = (await freePorts(5)) as [number, number, number, number, number];
const dir = mkdtempSync(join(tmpdir(), 'promgate-bench-sigv4-'));
const users = join(dir, 'users.yaml');
writeFileSync(users, 'users:\n  - username: alice\n    password: alice-pass\n    namespace: tenant-a\n');
const post = join(dir, 'post.lua');
writeFileSync(post, `wrk.method = "POST"\nwrk.body = "${FORM}"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n`);
start(['--import', 'tsx', 'scripts/bench/static-upstream.ts', String(UPSTREAM)]);
const promgate = (port: number, internal: number, extra: string[], env: Record<string, string> = {}) =>
  start(['dist/cli.js', 'run', '--port', String(port), '--internal-port', String(internal), '--prometheus-endpoint', `http://127.0.0.1:${UPSTREAM}/workspaces/ws-1`, '--auth-config', users, '--log-level', 'warn', ...extra], env);
const plain = promgate(PLAIN, PLAIN_INTERNAL, []);
const signed = promgate(SIGNED, SIGNED_INTERNAL, ['--aws'], KEYS);
await Promise.all([waitFor(`http://127.0.0.1:${PLAIN_INTERNAL}/readyz`), waitFor(`http://127.0.0.1:${SIGNED_INTERNAL}/readyz`)]);

/** CPU microseconds per request of the process `pid` while wrk drives `port`, and the non-2xx answers. */
function turn(port: number, pid: number, method: 'GET' | 'POST'): { cpuUs: number; rps: number; errors: number } {
  const url = method === 'GET' ? `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(QUERY)}` : `http://127.0.0.1:${port}/api/v1/query_range`;
  const args = ['-t1', `-c${CONNS}`, '-H', `Authorization: ${BASIC}`, ...(method === 'POST' ? ['-s', post] : []), url];
  spawnSync('wrk', [...args.slice(0, -1), '-d1s', url]);
  const before = cpuSeconds(pid);
  const out = spawnSync('wrk', [...args.slice(0, -1), `-d${DURATION}s`, url], { encoding: 'utf8' }).stdout;
  const cpu = cpuSeconds(pid) - before;
  const count = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return {
    cpuUs: count > 0 ? (cpu * 1e6) / count : NaN,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

let errors = 0;
console.log(`through promgate: ${CONNS} connections, ${DURATION} s a turn, unsigned and signed in turns`);
for (const method of ['GET', 'POST'] as const) {
  const turns = { unsigned: [] as ReturnType<typeof turn>[], signed: [] as ReturnType<typeof turn>[] };
  for (let round = 0; round < 2; round++) {
    turns.unsigned.push(turn(PLAIN, plain.pid!, method));
    turns.signed.push(turn(SIGNED, signed.pid!, method));
  }
  const mean = (xs: ReturnType<typeof turn>[], key: 'cpuUs' | 'rps') => xs.reduce((sum, x) => sum + x[key], 0) / xs.length;
  const [u, s] = [mean(turns.unsigned, 'cpuUs'), mean(turns.signed, 'cpuUs')];
  errors += [...turns.unsigned, ...turns.signed].reduce((sum, x) => sum + x.errors, 0);
  console.log(
    `${method.padEnd(4)} unsigned ${u.toFixed(0).padStart(4)} us cpu/req ${mean(turns.unsigned, 'rps').toFixed(0).padStart(6)} req/s   ` +
      `signed ${s.toFixed(0).padStart(4)} us cpu/req ${mean(turns.signed, 'rps').toFixed(0).padStart(6)} req/s   signed/unsigned cpu/req ${(s / u).toFixed(2)} (+${(s - u).toFixed(0)} us)`,
  );
}
process.exit(errors > 0 ? 1 : 0);
