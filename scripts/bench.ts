// npm run bench: requests/s, latency (p50, p99) and CPU time per request of promgate (authenticated, enforced,
// proxied) against the upstream itself and a bare Node.js proxy, all in one run on loopback, printed as ratios;
// promgate once with basic auth and once with a JWT (HS256, a token seen before), to price the JWT path; then
// promgate and the floor serving HTTPS (openssl-made certificates), over keep-alive connections and with a full
// handshake for every request (Connection: close), to price TLS and its handshake.
// Last, gateway mode (--config) with a `header` route (X-Scope-OrgID only), against the floor and nginx setting the
// header (the per-tenant NGINX it replaces), with tracing off and on (OTLP/HTTP to a sink, every request sampled).
// Needs wrk and a build (`npm run build`), nginx for its row.  Env: DURATION (s, default 10), CONNS (default 32),
// QUERY, TLS=0 skips TLS, GATEWAY=0 skips gateway mode.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { Certificates } from '../test/support/certificates.js';
import { freePorts } from '../test/support/prometheus.js';
import { cpuSeconds, start } from './bench/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DURATION = Number(process.env.DURATION ?? 10);
const CONNS = Number(process.env.CONNS ?? 32);
const QUERY = process.env.QUERY ?? 'sum by (pod) (rate(http_requests_total{code="500",job=~"api|web"}[5m]))';
const BASIC = `Authorization: Basic ${Buffer.from('alice:alice-pass').toString('base64')}`;
const JWT_SECRET = 'bench-secret-0123456789abcdef0123456789';


async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url, { headers })).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

interface Figures { name: string; rps: number; p50: number; p99: number; cpuUs: number; errors: number }

const ms = (text: string | undefined): number => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (m === null) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
};

/** `https`: over TLS; `close`: a new connection, and so a full TLS handshake, for every request. */
function measure(name: string, port: number, pid: number, auth = BASIC, how: { https?: boolean; close?: boolean } = {}): Figures {
  const url = `${how.https === true ? 'https' : 'http'}://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(QUERY)}`;
  const headers = ['-H', auth, ...(how.close === true ? ['-H', 'Connection: close'] : [])];
  spawnSync('wrk', ['-t1', `-c${CONNS}`, '-d2s', ...headers, url]);
  const before = cpuSeconds(pid);
  const out = spawnSync('wrk', ['-t1', `-c${CONNS}`, `-d${DURATION}s`, '--latency', ...headers, url], { encoding: 'utf8' }).stdout;
  const cpu = cpuSeconds(pid) - before;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return {
    name,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: ms(/ 50%\s+(\S+)/.exec(out)?.[1]),
    p99: ms(/ 99%\s+(\S+)/.exec(out)?.[1]),
    cpuUs: requests > 0 ? (cpu * 1e6) / requests : NaN,
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: .*?(\d+)/.exec(out)?.[1] ?? 0),
  };
}

if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('build first: npm run build');

const [UPSTREAM, FLOOR, PROMGATE, INTERNAL, PROMGATE_JWT, INTERNAL_JWT] = await freePorts(6);
const dir = mkdtempSync(join(tmpdir(), 'promgate-bench-'));
const users = join(dir, 'users.yaml');
writeFileSync(users, 'users:\n  - username: alice\n    password: alice-pass\n    namespace: tenant-a\n');
const upstream = start(['--import', 'tsx', 'scripts/bench/static-upstream.ts', String(UPSTREAM)]);
const floor = start(['--import', 'tsx', 'scripts/bench/node-floor.ts', String(FLOOR), `http://127.0.0.1:${UPSTREAM}`]);
// LOG=warn measures promgate without its per-request log line.
const promgateArgs = (port: number, internal: number) => [
  'dist/cli.js', 'run', '--port', String(port), '--internal-port', String(internal),
  '--prometheus-endpoint', `http://127.0.0.1:${UPSTREAM}`, '--log-level', process.env.LOG ?? 'info',
];
const promgate = start([...promgateArgs(PROMGATE, INTERNAL), '--auth-config', users]);
const promgateJwt = start([...promgateArgs(PROMGATE_JWT, INTERNAL_JWT), '--auth-type', 'jwt', '--jwt-secret', JWT_SECRET]);
const token = await new SignJWT({ namespaces: ['tenant-a'] })
  .setProtectedHeader({ alg: 'HS256' })
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(JWT_SECRET));
const BEARER = `Authorization: Bearer ${token}`;
await waitFor(`http://127.0.0.1:${UPSTREAM}/`);
await waitFor(`http://127.0.0.1:${FLOOR}/`);
await waitFor(`http://127.0.0.1:${INTERNAL}/readyz`);
await waitFor(`http://127.0.0.1:${INTERNAL_JWT}/readyz`);

console.log(`query: ${QUERY}  connections: ${CONNS}  duration: ${DURATION}s  log level: ${process.env.LOG ?? 'info'}`);
const rows = [
  measure('upstream', UPSTREAM, upstream.pid!),
  measure('floor', FLOOR, floor.pid!),
  measure('promgate', PROMGATE, promgate.pid!),
  measure('prom-jwt', PROMGATE_JWT, promgateJwt.pid!, BEARER),
];
for (const r of rows) {
  console.log(
    `${r.name.padEnd(9)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  cpu/req ${r.cpuUs.toFixed(0).padStart(4)} us  errors ${r.errors}`,
  );
}
const [up, fl, pg, jwt] = rows as [Figures, Figures, Figures, Figures];
console.log(
  `promgate/floor: cpu/req ${(pg.cpuUs / fl.cpuUs).toFixed(2)}  req/s ${(pg.rps / fl.rps).toFixed(2)}  p99 ${(pg.p99 / fl.p99).toFixed(2)}   ` +
    `promgate/upstream: req/s ${(pg.rps / up.rps).toFixed(2)}  p99 ${(pg.p99 / up.p99).toFixed(2)}`,
);
console.log(`jwt/basic: cpu/req ${(jwt.cpuUs / pg.cpuUs).toFixed(2)}  req/s ${(jwt.rps / pg.rps).toFixed(2)}  p99 ${(jwt.p99 / pg.p99).toFixed(2)}`);
const tlsErrors = process.env.TLS === '0' ? 0 : await benchTls();
const gatewayErrors = process.env.GATEWAY === '0' ? 0 : await benchGateway();
process.exit(pg.errors + jwt.errors + tlsErrors + gatewayErrors > 0 ? 1 : 0);

/** Resolves once the server on `port` completes a TLS handshake (any certificate: a readiness probe, as wrk checks none). */
async function waitForHandshake(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing completes a TLS handshake on port ${port}`);
}

/** promgate and the floor over HTTPS: keep-alive, then a full handshake a request. Returns the errors seen. */
async function benchTls(): Promise<number> {
  const certificates = new Certificates(join(dir, 'pki'));
  const ca = certificates.authority('bench-ca');
  const server = certificates.server(ca, 'server');
  const [FLOOR_TLS, PROMGATE_TLS, INTERNAL_TLS] = (await freePorts(3)) as [number, number, number];
  const floorTls = start(['--import', 'tsx', 'scripts/bench/node-floor.ts', String(FLOOR_TLS), `http://127.0.0.1:${UPSTREAM}`, server.cert, server.key]);
  const promgateTls = start([...promgateArgs(PROMGATE_TLS, INTERNAL_TLS), '--auth-config', users, '--tls-cert-file', server.cert, '--tls-key-file', server.key]);
  await waitFor(`http://127.0.0.1:${INTERNAL_TLS}/readyz`);
  await waitForHandshake(FLOOR_TLS);
  const tls = [
    measure('floor-tls', FLOOR_TLS, floorTls.pid!, BASIC, { https: true }),
    measure('pg-tls', PROMGATE_TLS, promgateTls.pid!, BASIC, { https: true }),
    measure('floor-hs', FLOOR_TLS, floorTls.pid!, BASIC, { https: true, close: true }),
    measure('pg-hs', PROMGATE_TLS, promgateTls.pid!, BASIC, { https: true, close: true }),
  ];
  for (const r of tls) {
    console.log(
      `${r.name.padEnd(9)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  cpu/req ${r.cpuUs.toFixed(0).padStart(4)} us  errors ${r.errors}`,
    );
  }
  const [floorKeep, pgKeep, floorClose, pgClose] = tls as [Figures, Figures, Figures, Figures];
  console.log(
    `TLS keep-alive: promgate/floor cpu/req ${(pgKeep.cpuUs / floorKeep.cpuUs).toFixed(2)}  req/s ${(pgKeep.rps / floorKeep.rps).toFixed(2)}   ` +
      `promgate TLS/plain cpu/req ${(pgKeep.cpuUs / pg.cpuUs).toFixed(2)}`,
  );
  console.log(
    `full handshake a request: promgate +${(pgClose.cpuUs - pgKeep.cpuUs).toFixed(0)} us cpu/req, floor +${(floorClose.cpuUs - floorKeep.cpuUs).toFixed(0)} us   ` +
      `promgate/floor cpu/req ${(pgClose.cpuUs / floorClose.cpuUs).toFixed(2)}`,
  );
  // Connection: close ends each connection on purpose: wrk counts none of that as an error, but non-2xx answers are.
  return pgKeep.errors + pgClose.errors;
}

/** nginx proxying to the upstream and setting X-Scope-OrgID, in one process (no master) so that its CPU is counted. */
function startNginx(port: number): ChildProcess | undefined {
  if (spawnSync('nginx', ['-v']).error) return undefined;
  const prefix = mkdtempSync(join(dir, 'nginx-'));
  writeFileSync(join(prefix, 'nginx.conf'), [
    'master_process off; daemon off; worker_processes 1; pid nginx.pid; error_log stderr warn;',
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off; keepalive_requests 1000000;',
    `  upstream static { server 127.0.0.1:${UPSTREAM}; keepalive 64; }`,
    `  server { listen 127.0.0.1:${port}; location / {`,
    '    proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Scope-OrgID tenant-a; proxy_pass http://static;',
    '  } }',
    '}',
  ].join('\n'));
  return start(['-p', prefix, '-c', 'nginx.conf'], {}, 'nginx');
}

/**
 * Gateway mode: a `header` route to the upstream beside the floor and nginx setting the header, untraced and
 * traced. Returns the errors seen.
 */
async function benchGateway(): Promise<number> {
  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, [
    'basic:',
    '  alice: {password: alice-pass, tenant: tenant-a}',
    'routes:',
    '  - {path: /api/v1/query, target: query-frontend}',
    'targets:',
    `  query-frontend: "http://127.0.0.1:${UPSTREAM}"`,
  ].join('\n'));
  const [NGINX, GW, GW_INTERNAL, TRACED, TRACED_INTERNAL, SINK] = (await freePorts(6)) as [number, number, number, number, number, number];
  const gatewayArgs = (port: number, internal: number) => [
    'dist/cli.js', 'run', '--config', config, '--port', String(port), '--internal-port', String(internal), '--log-level', process.env.LOG ?? 'info',
  ];
  const nginx = startNginx(NGINX);
  start(['--import', 'tsx', 'scripts/bench/otlp-sink.ts', String(SINK)]);
  const untraced = start(gatewayArgs(GW, GW_INTERNAL));
  const traced = start(gatewayArgs(TRACED, TRACED_INTERNAL), { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${SINK}`, OTEL_TRACES_SAMPLER: 'always_on' });
  await waitFor(`http://127.0.0.1:${GW_INTERNAL}/readyz`);
  await waitFor(`http://127.0.0.1:${TRACED_INTERNAL}/readyz`);
  if (nginx !== undefined) await waitFor(`http://127.0.0.1:${NGINX}/`);
  // The floor again, beside the gateway rows: the machine's load drifts over a run.
  const rows = [
    measure('floor', FLOOR, floor.pid!),
    ...(nginx === undefined ? [] : [measure('nginx', NGINX, nginx.pid!)]),
    measure('gw-header', GW, untraced.pid!),
    measure('gw-traced', TRACED, traced.pid!),
  ];
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(9)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  cpu/req ${r.cpuUs.toFixed(0).padStart(4)} us  errors ${r.errors}`,
    );
  }
  const byName = new Map(rows.map((r) => [r.name, r]));
  const [floorRow, header, tracedRow] = [byName.get('floor')!, byName.get('gw-header')!, byName.get('gw-traced')!];
  const nginxRow = byName.get('nginx');
  console.log(
    `header route/floor: cpu/req ${(header.cpuUs / floorRow.cpuUs).toFixed(2)}  req/s ${(header.rps / floorRow.rps).toFixed(2)}   ` +
      (nginxRow === undefined ? 'nginx: not installed (apt-get install nginx-light)' : `header route/nginx: cpu/req ${(header.cpuUs / nginxRow.cpuUs).toFixed(2)}  req/s ${(header.rps / nginxRow.rps).toFixed(2)}`),
  );
  console.log(`traced/untraced: cpu/req ${(tracedRow.cpuUs / header.cpuUs).toFixed(2)}  req/s ${(tracedRow.rps / header.rps).toFixed(2)}  p99 ${(tracedRow.p99 / header.p99).toFixed(2)}`);
  return header.errors + tracedRow.errors;
}
