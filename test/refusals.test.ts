// What promgate refuses, and how it rebuilds what it forwards: against an upstream that records every request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { SignJWT } from 'jose';
import { enforce, enforceSelector, PromQLError, type Matcher } from 'promql-parser-wasm';
import { basicAuth, startGateway, type Gateway } from './support/gateway.js';
import { rawRequest } from './support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/recording-upstream.js';

const USERS = `users:
  - username: alice
    password: alice-pw
    namespace: tenant-a
  - username: dave
    password: dave-pw
`;
const ALICE = basicAuth('alice', 'alice-pw');
const ALICE_MATCHERS: Matcher[] = [{ name: 'namespace', type: '=', value: 'tenant-a' }];
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function parserMessage(run: () => string): string {
  try {
    run();
  } catch (e) {
    if (e instanceof PromQLError) return e.message;
    throw e;
  }
  throw new Error('the parser accepted it');
}

/** The upstream request's parameters (URL query, or form body for POST). */
function paramsOf(recorded: { method: string; url: string; body: string }): [string, string][] {
  const text = recorded.method === 'POST' ? recorded.body : (recorded.url.split('?')[1] ?? '');
  return [...new URLSearchParams(text)];
}

describe('refusals and rebuilt requests', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;

  before(async () => {
    upstream = await startRecordingUpstream();
    // Credentials in the endpoint URL are promgate's own, for the upstream.
    const endpoint = `${upstream.url.replace('http://', 'http://promgate:up%20secret@')}/prefix/`;
    gateway = await startGateway({ upstream: endpoint, authConfig: USERS, args: ['--max-body-size', '1KiB'] });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  /** Sends a request and checks that promgate answered it itself, in Prometheus's error shape. */
  async function refused(status: number, method: string, path: string, headers: Record<string, string> = ALICE, body?: string) {
    const before = upstream.requests.length;
    const res = await rawRequest(gateway.base, method, path, headers, body);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    assert.equal(upstream.requests.length, before, `${method} ${path} reached the upstream`);
    const answer = res.json();
    assert.equal(answer.status, 'error');
    assert.equal(typeof answer.error, 'string');
    return { ...res, answer };
  }

  it('404 for any path it cannot enforce, 405 for a wrong method', async () => {
    // Alertmanager's API is served only with --alertmanager-endpoint, which this gateway has not.
    for (const path of ['/api/v1/targets', '/api/v1/status/config', '/api/v1/status/flags', '/api/v2/alerts', '/api/v2/silences', '/graph', '/', '/api/v2/query']) {
      const { answer } = await refused(404, 'GET', path);
      assert.equal(answer.errorType, 'not_found');
    }
    await refused(404, 'POST', '/api/v1/admin/tsdb/delete_series?match[]=up', ALICE);
    const del = await refused(405, 'DELETE', '/api/v1/series?match[]=up');
    assert.equal(del.headers.allow, 'GET, POST');
    await refused(405, 'PUT', '/api/v1/query?query=up');
    await refused(405, 'POST', '/api/v1/label/job/values', { ...ALICE, ...FORM }, '');
    await refused(405, 'PATCH', '/federate');
  });

  it('415 for a POST body that is not a form, 413 beyond --max-body-size', async () => {
    await refused(415, 'POST', '/api/v1/query', { ...ALICE, 'content-type': 'application/json' }, '{"query":"up"}');
    await refused(415, 'POST', '/api/v1/query', ALICE, 'query=up');
    await refused(413, 'POST', '/api/v1/query', { ...ALICE, ...FORM }, `query=${'x'.repeat(2000)}`);
    // Without Content-Length (chunked), the limit applies as the body arrives.
    await refused(413, 'POST', '/api/v1/query', { ...ALICE, ...FORM, 'transfer-encoding': 'chunked' }, `query=${'x'.repeat(2000)}`);
  });

  it('401 with a challenge only when no credentials were sent, 403 for a user granted nothing', async () => {
    const none = await refused(401, 'GET', '/api/v1/query?query=up', {});
    assert.match(String(none.headers['www-authenticate']), /^Basic/);
    const wrong = await refused(401, 'GET', '/api/v1/query?query=up', basicAuth('alice', 'wrong'));
    assert.equal(wrong.headers['www-authenticate'], undefined);
    const unknown = await refused(401, 'GET', '/api/v1/query?query=up', basicAuth('mallory', 'alice-pw'));
    assert.equal(unknown.headers['www-authenticate'], undefined);
    const dave = await refused(403, 'GET', '/api/v1/query?query=up', basicAuth('dave', 'dave-pw'));
    assert.equal(dave.headers['www-authenticate'], undefined);
    // Authentication comes before routing: an unknown path tells a stranger nothing.
    await refused(401, 'GET', '/api/v1/targets', {});
  });

  it('400 for a parameter Prometheus reads once given twice, URL and body together', async () => {
    await refused(400, 'POST', '/api/v1/query?query=up', { ...ALICE, ...FORM }, 'query=node_load1');
    await refused(400, 'GET', '/api/v1/query?query=up&time=1&time=2');
    await refused(400, 'POST', '/api/v1/query_range?start=1', { ...ALICE, ...FORM }, 'query=up&start=2&end=3&step=1');
    await refused(400, 'GET', '/api/v1/series?match[]=up&limit=1&limit=2');
  });

  it("400 bad_data with the parser's message for a bad query or selector", async () => {
    const bad = await refused(400, 'GET', `/api/v1/query?query=${encodeURIComponent('sum(up{')}`);
    assert.equal(bad.answer.errorType, 'bad_data');
    assert.equal(bad.answer.error, `invalid parameter "query": ${parserMessage(() => enforce('sum(up{', ALICE_MATCHERS))}`);
    const selector = await refused(400, 'GET', `/api/v1/series?match[]=${encodeURIComponent('rate(up[5m])')}`);
    assert.equal(selector.answer.error, `invalid parameter "match[]": ${parserMessage(() => enforceSelector('rate(up[5m])', ALICE_MATCHERS))}`);
    const missing = await refused(400, 'GET', '/api/v1/query');
    assert.equal(missing.answer.errorType, 'bad_data');
    await refused(400, 'GET', '/api/v1/series');
    await refused(400, 'GET', '/api/v1/query?query=%zz');
    await refused(400, 'GET', '/api/v1/query?query=up;time=1');
  });

  it('400 for a non-canonical path, 404 for one that is merely unknown', async () => {
    for (const path of [
      '//api/v1/query?query=up',
      '/api/v1//query?query=up',
      '/api/v1/query/../targets',
      '/api/v1/./query?query=up',
      '/api/v1/query/..',
      '/api/v1/query%2F..%2Ftargets',
      '/api/v1/query%2f..%2ftargets',
      '/api/v1/%2e%2e/v1/targets',
      '/api/v1/%2E/query?query=up',
      '/api/v1/query%5c',
      '/api/v1/label/job%2F..%2F..%2Ftargets/values',
      '/api/v1/label/..%2Fseries/values',
    ]) {
      await refused(400, 'GET', path);
    }
    for (const path of ['/api/v1/%71uery?query=up', '/api/v1/query/?query=up', '/API/v1/query?query=up', '/api/v1/query;x=1', '/api/v1/label//values', '/api/v1/label/a/b/values']) {
      await refused(path.includes('//') ? 400 : 404, 'GET', path);
    }
    await refused(400, 'GET', '/api/v1/label/bad-name/values');
    await refused(400, 'GET', '/api/v1/label/%ff/values');
  });

  it('rebuilds a GET from the parsed parameters: query enforced, unknown ones unchanged, path prefix kept', async () => {
    const res = await rawRequest(gateway.base, 'GET', '/api/v1/query?query=up&time=12&x=1&x=2&empty', ALICE);
    assert.equal(res.status, 200);
    const sent = upstream.requests.at(-1)!;
    assert.equal(sent.method, 'GET');
    assert.ok(sent.url.startsWith('/prefix/api/v1/query?'), sent.url);
    assert.deepEqual(paramsOf(sent), [['query', enforce('up', ALICE_MATCHERS)], ['time', '12'], ['x', '1'], ['x', '2'], ['empty', '']]);
  });

  it('takes a GET query as long as Prometheus takes (a 1 MiB request line), not only Node\'s 16 KiB', async () => {
    const query = `up{pod=~"${Array.from({ length: 5000 }, (_, i) => `pod-${i}`).join('|')}"}`;
    const res = await rawRequest(gateway.base, 'GET', `/api/v1/query?query=${encodeURIComponent(query)}`, ALICE);
    assert.equal(res.status, 200);
    assert.deepEqual(paramsOf(upstream.requests.at(-1)!), [['query', enforce(query, ALICE_MATCHERS)]]);
    const tooLong = await rawRequest(gateway.base, 'GET', `/api/v1/query?query=${'a'.repeat(1 << 20)}`, ALICE);
    assert.equal(tooLong.status, 431);
  });

    it('rebuilds a POST as a form body with an empty URL query; match[] from URL and body are all enforced', async () => {
    const res = await rawRequest(gateway.base, 'POST', `/api/v1/series?match[]=${encodeURIComponent('{namespace="tenant-b"}')}`, { ...ALICE, ...FORM }, 'match[]=up&start=1');
    assert.equal(res.status, 200);
    const sent = upstream.requests.at(-1)!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/prefix/api/v1/series');
    assert.equal(sent.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(paramsOf(sent), [
      ['match[]', enforceSelector('{namespace="tenant-b"}', ALICE_MATCHERS)],
      ['match[]', enforceSelector('up', ALICE_MATCHERS)],
      ['start', '1'],
    ]);
  });

  it("adds the tenant's selector to label calls without match[]; label names are forwarded decoded", async () => {
    await rawRequest(gateway.base, 'GET', '/api/v1/labels?start=1', ALICE);
    assert.deepEqual(paramsOf(upstream.requests.at(-1)!), [['start', '1'], ['match[]', '{namespace="tenant-a"}']]);
    await rawRequest(gateway.base, 'GET', '/api/v1/label/%6Aob/values', ALICE);
    assert.equal(upstream.requests.at(-1)!.url.split('?')[0], '/prefix/api/v1/label/job/values');
  });

  it('forwards only allow-listed headers, and strips hop-by-hop headers from the answer', async () => {
    const res = await rawRequest(gateway.base, 'GET', '/api/v1/query?query=up', {
      ...ALICE,
      cookie: 'session=1',
      token: 'secret',
      'x-scope-orgid': 'someone-else',
      'x-forwarded-for': '10.0.0.1',
      'accept-encoding': 'gzip',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'user-agent': 'Grafana/11',
    });
    const sent = upstream.requests.at(-1)!.headers;
    for (const name of ['cookie', 'token', 'x-scope-orgid', 'x-forwarded-for']) assert.equal(sent[name], undefined, name);
    assert.equal(sent.authorization, `Basic ${Buffer.from('promgate:up secret').toString('base64')}`);
    // Once the request's own line is out, with the start-up lines before it.
    const log = await gateway.logMatching(new RegExp(`"id":"${res.headers['x-request-id']}"`));
    assert.doesNotMatch(log, /up%20secret|up secret/);
    assert.equal(sent['accept-encoding'], 'gzip');
    assert.equal(sent['user-agent'], 'Grafana/11');
    assert.equal(sent.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(res.headers['x-kept'], 'yes');
    assert.equal(res.headers['x-hop'], undefined);
    assert.equal(res.headers['keep-alive'], undefined);
    assert.equal(typeof res.headers['x-request-id'], 'string');
  });

  it('logs one JSON line per request, with the id it answers with; queries only when debugging', async () => {
    const res = await rawRequest(gateway.base, 'GET', '/api/v1/query?query=up', { ...ALICE, 'x-request-id': 'trace-42' });
    assert.equal(res.headers['x-request-id'], 'trace-42');
    const log = await gateway.logMatching(/"id":"trace-42"/);
    const line = log.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.id === 'trace-42');
    assert.ok(line, 'no log line for the request');
    assert.deepEqual(
      { user: line.user, method: line.method, path: line.path, status: line.status, msg: line.msg },
      { user: 'alice', method: 'GET', path: '/api/v1/query', status: 200, msg: 'request' },
    );
    for (const field of ['ms', 'upstreamMs', 'bytes']) assert.equal(typeof line[field], 'number', field);
    // The same level and time fields as the lines pino writes.
    assert.equal(line.level, 'info');
    assert.equal(new Date(line.time).toISOString(), line.time);
    assert.equal(line.params, undefined);
    assert.equal(line.enforced, undefined);
  });

  it('serves unprotected endpoints without credentials, GET and HEAD only', async () => {
    const before = upstream.requests.length;
    assert.equal((await rawRequest(gateway.base, 'GET', '/-/healthy', {})).status, 200);
    assert.equal((await rawRequest(gateway.base, 'HEAD', '/-/ready', {})).status, 200);
    assert.equal(upstream.requests.length, before + 2);
    await refused(401, 'POST', '/-/healthy', {});
  });
});

describe('a flood of wrong passwords for a bcrypt user', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;

  before(async () => {
    upstream = await startRecordingUpstream();
    const hash = bcrypt.hashSync('erin-pw', 10);
    gateway = await startGateway({ upstream: upstream.url, authConfig: `${USERS}  - username: erin\n    password: '${hash}'\n    namespace: tenant-e\n` });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it('gets 429 with Retry-After beyond the bcrypt queue, while a known credential is still served', async () => {
    const guesses = await Promise.all(
      Array.from({ length: 120 }, (_, i) => rawRequest(gateway.base, 'GET', '/api/v1/query?query=up', basicAuth('erin', `guess-${i}`))),
    );
    const busy = guesses.filter((r) => r.status === 429);
    // One check runs (tens of ms) and 32 wait: 120 sent at once leave many beyond the queue; the rest are 401s.
    assert.ok(busy.length > 0, `statuses: ${guesses.map((r) => r.status).join(',')}`);
    assert.ok(guesses.every((r) => r.status === 401 || r.status === 429));
    assert.deepEqual(busy[0]!.json(), { status: 'error', errorType: 'unavailable', error: 'too many password checks in progress; retry shortly' });
    assert.equal(busy[0]!.headers['retry-after'], '1');
    assert.equal((await rawRequest(gateway.base, 'GET', '/api/v1/query?query=up', ALICE)).status, 200);
  });
});

// The recording upstream stands in for Cortex or Mimir, which honour X-Scope-OrgID and cannot run here.
describe('tenant-id principals (X-Scope-OrgID) under --enforce header', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;

  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGateway({
      upstream: upstream.url,
      args: ['--auth-type', 'jwt', '--jwt-secret', 'test-secret', '--enforce', 'header', '--log-level', 'debug'],
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it("sets X-Scope-OrgID from the token, never from the client, and sends the query as parsed", async () => {
    const token = await new SignJWT({ tenant_id: 'acme' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('test-secret'));
    const res = await rawRequest(gateway.base, 'GET', `/api/v1/query?query=${encodeURIComponent('sum(rate(x[5m]))')}`, {
      authorization: `Bearer ${token}`,
      'x-scope-orgid': 'evil',
    });
    assert.equal(res.status, 200, res.text);
    const sent = upstream.requests.at(-1)!;
    assert.equal(sent.headers['x-scope-orgid'], 'acme');
    assert.deepEqual(paramsOf(sent), [['query', enforce('sum(rate(x[5m]))', [])]]);
    const log = await gateway.logMatching(/"msg":"request"/);
    const line = log.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.msg === 'request');
    assert.deepEqual(line.params, [['query', 'sum(rate(x[5m]))']]);
    assert.equal(line.enforced, `query=${encodeURIComponent(enforce('sum(rate(x[5m]))', []))}`);
  });
});

describe('--protected-endpoints', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;

  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGateway({
      upstream: upstream.url,
      authConfig: USERS,
      args: ['--protected-endpoints', '/api/v1/query,/api/v1/targets,/api/v1/label/:name/values'],
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it('narrows the endpoints served, and never adds one promgate cannot enforce', async () => {
    assert.equal((await rawRequest(gateway.base, 'GET', '/api/v1/query?query=up', ALICE)).status, 200);
    assert.equal((await rawRequest(gateway.base, 'GET', '/api/v1/label/job/values', ALICE)).status, 200);
    for (const path of ['/api/v1/targets', '/api/v1/series?match[]=up', '/api/v1/labels', '/federate?match[]=up']) {
      assert.equal((await rawRequest(gateway.base, 'GET', path, ALICE)).status, 404, path);
    }
    assert.match(gateway.log(), /protected endpoint ignored.*\/api\/v1\/targets|\/api\/v1\/targets.*protected endpoint ignored/);
  });
});
