// npm run bench:token-heap: the memory a gateway holds after many JWTs, each sending many distinct queries (the
// red-team repro of issue 17). It starts `CLI run --auth-type jwt` in front of a tiny upstream, mints TOKENS tokens
// (one grant for all, then one grant each), sends QUERIES queries of `x{a="<4089 random characters>"}` per token, waits
// for the gateway to fall idle, and prints its heap (nodejs_heap_size_used_bytes) before and after.
// Env: CLI (default dist/cli.js; another build's cli.js compares), TOKENS (default 200), QUERIES (default 1024).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { freePorts } from '../test/support/prometheus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = process.env.CLI ?? 'dist/cli.js';
const TOKENS = Number(process.env.TOKENS ?? 200);
const QUERIES = Number(process.env.QUERIES ?? 1024);
const SECRET = 'token-heap-secret';

const upstream = createServer((_req, res) => res.end('{"status":"success","data":{"resultType":"vector","result":[]}}'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const [port, internal] = await freePorts(2);
const gateway = spawn(
  process.execPath,
  [CLI, 'run', '--port', String(port), '--internal-port', String(internal), '--auth-type', 'jwt', '--auth-config', '', '--jwt-secret', SECRET,
    '--prometheus-endpoint', `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, '--log-level', 'warn'],
  { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
);
process.on('exit', () => gateway.kill());

async function heapMiB(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const text = await (await fetch(`http://127.0.0.1:${internal}/metrics`)).text();
      return Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(text)![1]) / 2 ** 20;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('the gateway did not come up');
}

const mint = (subject: string, namespace: string) =>
  new SignJWT({ namespaces: [namespace] }).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).sign(new TextEncoder().encode(SECRET));

async function drive(tokens: string[]): Promise<void> {
  for (const token of tokens) {
    const headers = { authorization: `Bearer ${token}` };
    for (let start = 0; start < QUERIES; start += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, QUERIES - start) }, async () => {
          const query = `x{a="${randomBytes(3072).toString('base64').slice(0, 4089)}"}`;
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`, { headers });
          if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
        }),
      );
    }
  }
}

const idle = async (): Promise<number> => {
  await new Promise((r) => setTimeout(r, 5000));
  return heapMiB();
};

const atStart = await heapMiB();
console.log(`${CLI}: ${TOKENS} tokens x ${QUERIES} queries each`);
console.log(`heap at start                 ${atStart.toFixed(1)} MiB`);
await drive(await Promise.all(Array.from({ length: TOKENS }, (_, i) => mint(`same-${i}`, 'tenant-a'))));
console.log(`after ${TOKENS} tokens, one grant  ${(await idle()).toFixed(1)} MiB`);
await drive(await Promise.all(Array.from({ length: TOKENS }, (_, i) => mint(`own-${i}`, `tenant-${i}`))));
console.log(`after ${TOKENS} more, a grant each ${(await idle()).toFixed(1)} MiB`);
gateway.kill();
upstream.close();
