// Profiling on the debug listener: a CPU profile through node:inspector and a V8 heap snapshot, served with
// --enable-profiling only, and then only to connections made to a loopback address. The components are a recording
// stand-in (nothing in Debian honours X-Scope-OrgID): the requests served while a profile is taken.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';

function configFile(upstream: RecordingUpstream): string {
  const file = join(mkdtempSync(join(tmpdir(), 'promgate-profiling-')), 'config.yaml');
  writeFileSync(
    file,
    ['basic:', '  demo: {password: "demo-password", tenant: "demo"}', 'routes:', '  - {path: "/prometheus", prefix: true, target: "qf"}', 'targets:', `  qf: "${upstream.url}"`].join('\n'),
  );
  return file;
}

/** This machine's first address that is not a loopback one, if it has any. */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** A `.cpuprofile` as Chrome DevTools reads it: a call tree, and samples naming its nodes. */
function assertCpuProfile(profile: CpuProfile, seconds: number): void {
  assert.ok(Array.isArray(profile.nodes) && profile.nodes.length > 1, 'call tree nodes');
  assert.ok(profile.nodes.some((n) => n.callFrame.functionName === '(root)'));
  assert.ok(Array.isArray(profile.samples) && profile.samples.length > 0, 'samples');
  const ids = new Set(profile.nodes.map((n) => n.id));
  assert.ok(profile.samples.every((s) => ids.has(s)), 'each sample names a node');
  assert.ok(profile.endTime - profile.startTime >= seconds * 900_000, 'as long as asked, in microseconds');
}

describe('gateway mode: --enable-profiling', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGateway({ args: ['--config', configFile(upstream), '--enable-profiling'] });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it('takes a CPU profile over loopback, in .cpuprofile form, while requests are served', async () => {
    const profiling = fetch(`${gateway.internal}/debug/pprof/profile?seconds=1`);
    for (let i = 0; i < 20; i++) {
      assert.equal((await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: basicAuth('demo', 'demo-password') })).status, 200);
    }
    const res = await profiling;
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(res.headers.get('content-disposition') ?? '', /promgate\.cpuprofile/);
    assertCpuProfile((await res.json()) as CpuProfile, 1);
  });

  it('refuses a bad duration, and a second profile while one is taken', async () => {
    for (const seconds of ['0', '301', 'x', '1.5', '-1']) {
      const res = await fetch(`${gateway.internal}/debug/pprof/profile?seconds=${seconds}`);
      assert.equal(res.status, 400, seconds);
      assert.equal(((await res.json()) as { errorType: string }).errorType, 'bad_data');
    }
    const first = fetch(`${gateway.internal}/debug/pprof/profile?seconds=1`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fetch(`${gateway.internal}/debug/pprof/profile?seconds=1`)).status, 503);
    assert.equal((await first).status, 200);
  });

  it('takes a heap snapshot over loopback', async () => {
    const res = await fetch(`${gateway.internal}/debug/pprof/heap`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /promgate\.heapsnapshot/);
    const snapshot = (await res.json()) as { snapshot: { meta: { node_fields: string[] }; node_count: number }; nodes: number[]; strings: string[] };
    assert.ok(snapshot.snapshot.node_count > 1000);
    assert.equal(snapshot.nodes.length, snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length);
    assert.ok(snapshot.strings.includes('demo-password'), 'it holds the secrets in memory: why it stays on loopback');
  });

  it('answers 404 to profiling over any other address, /metrics still served there', async (t) => {
    const address = outsideAddress();
    if (address === undefined) return t.skip('this machine has no address but loopback ones');
    const port = new URL(gateway.internal).port;
    assert.equal((await fetch(`http://${address}:${port}/metrics`)).status, 200);
    for (const path of ['/debug/pprof/profile?seconds=1', '/debug/pprof/heap']) {
      const res = await fetch(`http://${address}:${port}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { errorType: string }).errorType, 'not_found');
    }
  });
});

describe('gateway mode: profiling off by default', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGateway({ args: ['--config', configFile(upstream)] });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it('serves no profile and no heap snapshot, even over loopback', async () => {
    for (const path of ['/debug/pprof/profile?seconds=1', '/debug/pprof/heap']) assert.equal((await fetch(gateway.internal + path)).status, 404, path);
    assert.equal((await fetch(`${gateway.internal}/metrics`)).status, 200);
  });
});

describe('k8spin mode: --enable-profiling on --internal-port', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGateway({
      upstream: upstream.url,
      authConfig: 'users:\n  - {username: alice, password: alice-password, namespace: tenant-a}\n',
      args: ['--enable-profiling'],
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it('takes a CPU profile over loopback', async () => {
    const res = await fetch(`${gateway.internal}/debug/pprof/profile?seconds=1`);
    assert.equal(res.status, 200);
    assertCpuProfile((await res.json()) as CpuProfile, 1);
  });
});
