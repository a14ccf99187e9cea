// Gateway mode's X-Scope-OrgID on every route. Nothing in Debian honours the header (no Cortex, Mimir or Loki), so
// a recording upstream stands in for the cluster's components: it shows exactly what promgate sends each one.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';

// cortex-gateway's README token: HS512, secret "test", {"tenant_id":"demo","version":1}.
const README_TOKEN =
  'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0ZW5hbnRfaWQiOiJkZW1vIiwidmVyc2lvbiI6MX0.UnM-5mDK24xDkNPes4VMLzC1xBQ9tx3GKoEjrbdd4beY510t9Oj1w2IIfNO10Fe9QEowFchceJ95X-j30mO1Iw';

/** Starts promgate on a config file written beside its log. */
async function startWith(config: (dir: string) => string): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'promgate-gwconf-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, config(dir));
  return startGateway({ args: ['--config', file] });
}

describe('gateway mode: X-Scope-OrgID on every route (cortex-gateway config)', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startWith(() =>
      [
        'secret: "test"',
        'basic:',
        '  demo: {password: "demo-password", tenant: "demo"}',
        'routes:',
        '  - {path: "/api/v1/push", target: "distributor"}',
        '  - {path: "/prometheus", prefix: true, target: "query-frontend"}',
        '  - {path: "/api/v1/rules", prefix: true, target: "ruler"}',
        '  - {path: "/alertmanager", prefix: true, target: "alertmanager"}',
        'targets:',
        ...['distributor', 'query-frontend', 'ruler', 'alertmanager'].map((t) => `  ${t}: "${upstream.url}"`),
      ].join('\n'),
    );
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  const last = () => upstream.requests[upstream.requests.length - 1]!;

  it('sets the tenant of the basic user on each route, replacing the client\'s own header', async () => {
    for (const path of ['/prometheus/api/v1/query?query=up', '/api/v1/rules/ns', '/alertmanager/api/v2/status']) {
      const res = await fetch(gateway.base + path, { headers: { ...basicAuth('demo', 'demo-password'), 'x-scope-orgid': 'someone-else' } });
      assert.equal(res.status, 200, path);
      assert.equal(last().headers['x-scope-orgid'], 'demo', path);
      assert.equal(last().url, path, path);
      assert.equal(last().headers.authorization, undefined, 'the client\'s credentials stay with promgate');
    }
  });

  it("cortex-gateway's README token reaches the query-frontend as tenant demo", async () => {
    const res = await fetch(`${gateway.base}/prometheus/api/v1/labels`, { headers: { authorization: `Bearer ${README_TOKEN}`, 'x-scope-orgid': 'other' } });
    assert.equal(res.status, 200);
    assert.equal(last().headers['x-scope-orgid'], 'demo');
    assert.equal(last().url, '/prometheus/api/v1/labels');
  });

  it('refuses a wrong password, no credentials, and anything unmatched', async () => {
    const before = upstream.requests.length;
    assert.equal((await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: basicAuth('demo', 'wrong') })).status, 401);
    assert.equal((await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`)).status, 401);
    const unmatched = await fetch(`${gateway.base}/all_user_stats`, { headers: basicAuth('demo', 'demo-password') });
    assert.equal(unmatched.status, 404);
    assert.equal(((await unmatched.json()) as { errorType: string }).errorType, 'not_found');
    assert.equal((await fetch(`${gateway.base}/prometheusx/api/v1/query`, { headers: basicAuth('demo', 'demo-password') })).status, 404);
    assert.equal(upstream.requests.length, before, 'nothing reached the upstream');
  });

  it('streams a push body through untouched with its remote-write headers', async () => {
    const body = Buffer.from([0xff, 0x00, 0x10, 0x80, 0x7f, 0x01]);
    const res = await fetch(`${gateway.base}/api/v1/push`, {
      method: 'POST',
      body,
      headers: {
        ...basicAuth('demo', 'demo-password'),
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
      },
    });
    assert.equal(res.status, 200);
    const pushed = last();
    assert.equal(pushed.method, 'POST');
    assert.deepEqual(Buffer.from(pushed.body, 'latin1').length, body.length);
    assert.equal(pushed.headers['content-encoding'], 'snappy');
    assert.equal(pushed.headers['content-type'], 'application/x-protobuf');
    assert.equal(pushed.headers['x-prometheus-remote-write-version'], '0.1.0');
    assert.equal(pushed.headers['x-scope-orgid'], 'demo');
    assert.equal((await fetch(`${gateway.base}/api/v1/push`, { headers: basicAuth('demo', 'demo-password') })).status, 405);
  });
});

describe('gateway mode: auth-gateway tenants, passthrough and bad ids', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;
  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startWith(() =>
      [
        'tenants:',
        '  - {authentication: basic, username: alice, password: alice-password, id: team-a}',
        '  - {authentication: basic, username: alice, password: alice-password-next, id: team-a}',
        '  - {authentication: basic, username: relay, password: relay-password, passthrough: true}',
        'frontend:',
        `  url: ${upstream.url}`,
        'distributor:',
        `  url: ${upstream.url}`,
      ].join('\n'),
    );
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  const last = () => upstream.requests[upstream.requests.length - 1]!;
  const query = (headers: Record<string, string>) => fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers });

  it("serves auth-gateway's default paths with the tenant's id, under either of a user's passwords", async () => {
    assert.equal((await query(basicAuth('alice', 'alice-password'))).status, 200);
    assert.equal(last().headers['x-scope-orgid'], 'team-a');
    assert.equal((await query(basicAuth('alice', 'alice-password-next'))).status, 200);
    assert.equal(last().headers['x-scope-orgid'], 'team-a');
    assert.equal((await fetch(`${gateway.base}/api/prom/api/v1/series?match[]=up`, { headers: basicAuth('alice', 'alice-password') })).status, 200);
    assert.equal(last().url, '/api/prom/api/v1/series?match%5B%5D=up');
  });

  it("forwards a passthrough tenant's own X-Scope-OrgID, and logs that it did", async () => {
    assert.equal((await query({ ...basicAuth('relay', 'relay-password'), 'x-scope-orgid': 'team-z' })).status, 200);
    assert.equal(last().headers['x-scope-orgid'], 'team-z');
    await gateway.logMatching(/passthrough tenant: the client's X-Scope-OrgID team-z forwarded/);
  });

  it('refuses | and bad ids from a client, and a passthrough tenant that sends none', async () => {
    const before = upstream.requests.length;
    for (const id of ['team-a|team-b', '..', 'a b', 'x'.repeat(151)]) {
      const res = await query({ ...basicAuth('relay', 'relay-password'), 'x-scope-orgid': id });
      assert.equal(res.status, 400, id);
    }
    assert.equal((await query(basicAuth('relay', 'relay-password'))).status, 400);
    assert.equal(upstream.requests.length, before);
  });
});
