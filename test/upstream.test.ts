// The proxied answer: streamed (200 MB through a gateway whose memory stays flat), gzip untouched, a dead upstream
// (502), a slow one (504), a client that leaves (the upstream request is aborted), and a graceful SIGTERM.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { basicAuth, startGateway, type Gateway } from './support/gateway.js';
import { freePort } from './support/prometheus.js';
import { rawRequest } from './support/raw-http.js';

const USERS = 'users:\n  - username: alice\n    password: alice-pw\n    namespace: tenant-a\n';
const ALICE = basicAuth('alice', 'alice-pw');
const BIG_BYTES = 200 * 1024 * 1024;
const GZIPPED = gzipSync(Buffer.from(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] }, pad: 'x'.repeat(10_000) })));

/** Writes `total` bytes in 64 KiB chunks, at the pace the reader takes them. */
function streamBytes(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

/** The upstream's behaviour is chosen by a `mode` parameter, which promgate passes through unchanged. */
function upstreamHandler(events: string[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const mode = new URL(req.url ?? '/', 'http://x').searchParams.get('mode');
    req.resume();
    if (mode === 'big') {
      res.writeHead(200, { 'content-type': 'application/json' });
      streamBytes(res, BIG_BYTES);
    } else if (mode === 'gzip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': GZIPPED.length });
      res.end(GZIPPED);
    } else if (mode === 'slow') {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":[]}'), 1500);
    } else if (mode === 'endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write('x'.repeat(1024)), 20);
      res.on('close', () => {
        clearInterval(timer);
        events.push('endless closed');
      });
    } else if (req.url?.startsWith('/api/v1/targets/')) {
      // Like Thanos or Mimir, which keep no per-target metadata.
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    } else if (req.url?.startsWith('/api/v1/query?')) {
      const sample = { metric: { __name__: 'up', job: 'j', instance: 'i' }, value: [1, '1'] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [sample] } }));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":[]}');
    }
  };
}

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

describe('proxying answers', () => {
  const events: string[] = [];
  let upstream: Server;
  let gateway: Gateway;

  before(async () => {
    upstream = createServer(upstreamHandler(events));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gateway = await startGateway({ upstream: url, authConfig: USERS, args: ['--upstream-timeout', '700ms'] });
  });
  after(async () => {
    await gateway?.stop();
    upstream?.closeAllConnections();
    upstream?.close();
  });

  it('streams a 200 MB answer without growing its memory by more than a few MB', async () => {
    const streamBig = () =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(gateway.base);
        request({ host: url.hostname, port: url.port, path: '/api/v1/query?query=up&mode=big', headers: ALICE }, (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () => resolve(bytes));
          res.on('error', reject);
        }).on('error', reject).end();
      });
    // The first large answer takes V8 from start-up sizes to its working sizes (it frees the chunks' memory lazily,
    // up to a bound that does not depend on the answer's size). After it, a gateway that streams grows by next to
    // nothing, though a garbage collection landing mid-answer can blur one measure: the best of three counts.
    // A gateway that buffered would grow by the answer's size every time.
    assert.equal(await streamBig(), BIG_BYTES);
    const pid = gateway.child.pid!;
    const growths: number[] = [];
    for (let run = 0; run < 3 && !(growths.length > 0 && Math.min(...growths) < 8); run++) {
      const baseline = rssKiB(pid);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 10);
      const received = await streamBig();
      clearInterval(sampler);
      assert.equal(received, BIG_BYTES);
      growths.push((peak - baseline) / 1024);
    }
    assert.ok(Math.min(...growths) < 8, `RSS grew by ${growths.map((g) => g.toFixed(1)).join(', ')} MiB while streaming 200 MiB`);
  });

  it('passes a gzip body through untouched', async () => {
    const res = await new Promise<{ headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const url = new URL(gateway.base);
      request({ host: url.hostname, port: url.port, path: '/api/v1/query?query=up&mode=gzip', headers: { ...ALICE, 'accept-encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.ok(res.body.equals(GZIPPED));
  });

  it('answers 504 in Prometheus\'s error shape when the upstream is too slow', async () => {
    const res = await rawRequest(gateway.base, 'GET', '/api/v1/query?query=up&mode=slow', ALICE);
    assert.equal(res.status, 504);
    assert.deepEqual({ ...res.json(), error: undefined }, { status: 'error', errorType: 'timeout', error: undefined });
  });

  it('aborts the upstream request when the client goes away', async () => {
    await new Promise<void>((resolve) => {
      const url = new URL(gateway.base);
      const req = request({ host: url.hostname, port: url.port, path: '/api/v1/query?query=up&mode=endless', headers: ALICE }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.end();
    });
    for (let i = 0; i < 100 && !events.includes('endless closed'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(events.includes('endless closed'), 'the upstream request was not aborted');
  });

  it('answers 502 to a metadata call when the upstream keeps no per-target metadata, rather than guess', async () => {
    const res = await rawRequest(gateway.base, 'GET', '/api/v1/metadata', ALICE);
    assert.equal(res.status, 502);
    assert.equal(res.json().errorType, 'unavailable');
    assert.match(res.json().error, /\/api\/v1\/targets\/metadata/);
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const inFlight = rawRequest(gateway.base, 'GET', '/api/v1/query?query=up&mode=slow', ALICE);
    await new Promise((r) => setTimeout(r, 200));
    const exited = gateway.stop();
    // The timeout is 700 ms and the answer takes 1500 ms: a 504 proves the request ran to its end after SIGTERM.
    assert.equal((await inFlight).status, 504);
    assert.equal(await exited, 0);
    await assert.rejects(rawRequest(gateway.base, 'GET', '/api/v1/query?query=up', ALICE));
  });
});

describe('a dead upstream', () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await startGateway({ upstream: `http://127.0.0.1:${await freePort()}`, authConfig: USERS });
  });
  after(async () => {
    await gateway?.stop();
  });

  it("answers 502 in Prometheus's error shape", async () => {
    const res = await rawRequest(gateway.base, 'GET', '/api/v1/query?query=up', ALICE);
    assert.equal(res.status, 502);
    assert.equal(res.json().status, 'error');
    assert.equal(res.json().errorType, 'unavailable');
    const metrics = await (await fetch(`${gateway.internal}/metrics`)).text();
    assert.match(metrics, /promgate_upstream_errors_total\{kind="unavailable"\} 1/);
    assert.match(metrics, /promgate_http_requests_total\{endpoint="\/api\/v1\/query",code="502",user="alice"\} 1/);
  });

  it('answers 502 to a metadata call, which promgate makes of several upstream calls', async () => {
    const res = await rawRequest(gateway.base, 'GET', '/api/v1/metadata', ALICE);
    assert.deepEqual([res.status, res.json().errorType], [502, 'unavailable']);
  });

  it('keeps its own endpoints on the internal port, where nothing is proxied', async () => {
    assert.equal((await fetch(`${gateway.internal}/healthz`)).status, 200);
    assert.equal((await fetch(`${gateway.internal}/readyz`)).status, 200);
    assert.equal((await fetch(`${gateway.internal}/api/v1/query?query=up`, { headers: ALICE })).status, 404);
    assert.equal((await rawRequest(gateway.base, 'GET', '/metrics', ALICE)).status, 404);
  });
});
