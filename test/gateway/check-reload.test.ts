import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, cliCommand, ROOT, startGateway, type Gateway } from '../support/gateway.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';

function check(file: string): { status: number | null; stdout: string; stderr: string } {
  const [bin, args] = cliCommand(['check', 'config', file]);
  return spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8' });
}

describe('promgate check config', () => {
  it('prints the effective routes and the tenants without their secrets', () => {
    const out = check('configs/auth-gateway/proposal.yaml');
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /an auth-gateway configuration/);
    assert.match(out.stdout, /\/prometheus\/api\/v1\/label\/\s+prefix\s+frontend\s+http:\/\/frontend:9010\/\s+header/);
    assert.match(out.stdout, /relay\s+passthrough/);
    assert.doesNotMatch(out.stdout, /alice-password|relay-password/);
  });

  it("says what is wrong with a bad file, and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), 'promgate-check-'));
    writeFileSync(join(dir, 'bad.yaml'), 'targets: {a: "http://a"}\nroutes:\n  - {path: /x, target: b}\n');
    const out = check(join(dir, 'bad.yaml'));
    assert.equal(out.status, 1);
    assert.match(out.stderr, /bad\.yaml:3: routes\[0\]\.target: names no target/);
  });
});

describe('gateway mode: the file re-read on change, a bad one keeping the last good', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  let file: string;
  const config = (users: string) => `secret: "test"\nbasic:\n${users}routes:\n  - {path: /prometheus, prefix: true, target: qf}\ntargets:\n  qf: "${upstream.url}"\n`;

  before(async () => {
    upstream = await startRecordingUpstream();
    file = join(mkdtempSync(join(tmpdir(), 'promgate-gwconf-')), 'config.yaml');
    writeFileSync(file, config('  old: {password: old-password, tenant: old}\n'));
    gateway = await startGateway({ args: ['--config', file] });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  const status = async (user: string, password: string) =>
    (await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: basicAuth(user, password) })).status;

  it("serves /metrics, /ready and /healthz on the debug listener, nothing proxied there", async () => {
    for (const path of ['/metrics', '/ready', '/healthz']) assert.equal((await fetch(gateway.internal + path)).status, 200, path);
    assert.equal((await fetch(`${gateway.internal}/prometheus/api/v1/query?query=up`)).status, 404);
  });

  it('applies new tenants, and keeps them when the next file is bad', async () => {
    writeFileSync(file, config('  new: {password: new-password, tenant: new}\n'));
    await gateway.logMatching(/gateway config applied/);
    assert.equal(await status('new', 'new-password'), 200);
    assert.equal(upstream.requests.at(-1)!.headers['x-scope-orgid'], 'new');
    assert.equal(await status('old', 'old-password'), 401);
    writeFileSync(file, config('  bad: {password: p, tenant: "a|b"}\n'));
    await gateway.logMatching(/gateway config rejected, still serving the last good one/);
    assert.equal(await status('new', 'new-password'), 200);
    assert.equal(await status('bad', 'p'), 401);
  });
});
