// The request pipeline of createApp over real HTTP, with a route table of hand-made routes: the body policies, the
// answer action, the upstream's signer and prefix, refusals by a handler, and the request metrics' user label.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startRecordingUpstream, type RecordingUpstream } from '../../test/support/recording-upstream.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../../test/support/scripted-upstream.js';
import { principalOf } from '../auth/grant.js';
import type { Authenticator, Principal } from '../auth/types.js';
import { EnforcedCache } from '../enforce/params.js';
import type { Deps } from '../observability/deps.js';
import { createGatewayMetrics } from '../observability/metrics.js';
import { stream, type Action, type Handler, type Refusal, type Route } from '../routes/route.js';
import { RouteTable } from '../routes/table.js';
import type { Result } from '../result.js';
import { filterAnswer, type DataFilter, type Envelope } from '../upstream/json.js';
import { createUpstream, type RequestSigner, type Upstream } from '../upstream/upstream.js';
import { createApp, type AppOptions } from './app.js';
import { listen, portOf } from './listen.js';

const MAX_BODY = 1024;
const MAX_RAW_BODY = 256 * 1024;
/** A bound for tests whose failure would be an answer that never comes: not a measure of speed. */
const HANG = 30_000;

const PRINCIPAL: Principal = (() => {
  const made = principalOf('alice', 'tenant-metrics', { namespaces: ['team-a'], labels: {} }, 'namespace');
  assert.ok(made);
  return made;
})();

const fixedAuthenticator: Authenticator = {
  authenticate: () => ({ ok: true, principal: PRINCIPAL }),
  close: () => Promise.resolve(),
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Signs method, full path and body, as SigV4 does (in spirit): the upstream can check what it got. */
const signer: RequestSigner = async (request, origin) => {
  const body = request.body === null ? '' : typeof request.body === 'string' ? request.body : '<stream>';
  return { ...request, headers: { ...request.headers, 'x-signature': sha256(`${request.method}\n${request.path}\n${body}`), 'x-signed-for': origin } };
};

/** Keeps the even numbers of a list; anything else cannot be filtered. */
const evens: DataFilter = (data) =>
  Array.isArray(data) ? { ok: true, value: data.filter((n) => typeof n === 'number' && n % 2 === 0) } : { ok: false, error: 'data is not a list' };

const answering =
  (path: string, filter: DataFilter, envelope?: Envelope): Handler =>
  () => ({ ok: true, value: { kind: 'answer', run: async (client) => filterAnswer(await client.get(path, 'match%5B%5D=up'), filter, envelope) } });

/** Reads `/api/v1/owner/<id>` first (the id from the path or the JSON body); the call goes on only when alice owns it. */
const ownerChecked: Handler = ({ segments, json }) => {
  const id = segments[0] ?? (json as { id?: string }).id;
  return {
    ok: true,
    value: {
      kind: 'checked',
      check: async (client) => {
        const read = await client.get(`/api/v1/owner/${id}`, '');
        if (read.status === 404) return { ok: false, error: { status: 404, errorType: 'not_found', message: `nothing named ${id}` } };
        if ((read.body as { owner?: unknown } | null)?.owner !== 'alice') return { ok: false, error: { status: 403, errorType: 'forbidden', message: 'not yours' } };
        return { ok: true, value: { path: `/api/v1/thing/${id}`, params: 'checked=1' } };
      },
    },
  };
};

/** What the handlers were given, by route. */
const given = new Map<string, unknown>();

const route = (path: string, methods: Route['methods'], body: Route['body'], upstream: string, handler: Handler): Route => ({
  path,
  methods,
  body,
  upstream,
  readsSeries: true,
  handler,
});

const recordingJson: Handler = (request) => {
  given.set('json', request.json);
  return stream({ path: '/api/v1/json', params: 'x=1' });
};

const ROUTES: Route[] = [
  route('/api/v1/json', ['POST', 'PUT'], 'json', 'recording', recordingJson),
  route('/api/v1/json-rewritten', ['POST'], 'json', 'recording', (request) =>
    stream({ path: '/api/v1/json', params: '', json: { rewritten: true, was: request.json } }),
  ),
  route('/api/v1/write', ['POST'], 'raw', 'scripted', () => stream({ path: '/api/v1/push', params: 'tenant=a' })),
  route('/api/v1/filtered', ['GET'], 'none', 'scripted', answering('/api/v1/upstream-list', evens)),
  route('/api/v2/filtered-bare', ['GET'], 'none', 'scripted', answering('/api/v2/upstream-list', evens, 'bare')),
  route('/api/v2/thing/<id>', ['GET', 'DELETE'], 'none', 'scripted', ownerChecked),
  route('/api/v2/things', ['POST'], 'json', 'scripted', ownerChecked),
  route('/api/v1/signed', ['POST'], 'json', 'signed', () => stream({ path: '/api/v1/signed', params: 'x=1' })),
  route('/api/v1/signed-answer', ['GET'], 'none', 'signed', answering('/api/v1/list', evens)),
  route('/api/v1/plain', ['GET'], 'none', 'recording', () => stream({ path: '/api/v1/plain', params: '' })),
  route('/api/v1/trap', ['GET'], 'none', 'recording', (): Result<Action, Refusal> => ({
    ok: false,
    error: { status: 500, errorType: 'internal', message: 'the parser failed on this query' },
  })),
];

/** Waits until `probe` holds: for what happens on another connection after the answer (a generous bound, no timing). */
async function until(what: string, probe: () => boolean): Promise<void> {
  for (let waited = 0; !probe(); waited += 10) {
    if (waited > 15_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const jsonOf = (answer: Answer): unknown => JSON.parse(answer.body.toString('utf8'));

function readAnswer(res: import('node:http').IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    res.on('error', reject);
  });
}

describe('createApp', () => {
  let recording: RecordingUpstream;
  let scripted: ScriptedUpstream;
  let upstreams: Map<string, Upstream>;
  let deps: Deps;
  let server: Server;
  let port: number;

  const options = (overrides: Partial<AppOptions> = {}): AppOptions => {
    const base = {
      routes: new RouteTable(ROUTES),
      upstreams,
      authenticator: fixedAuthenticator,
      unprotected: new Set<string>(),
      unprotectedUpstream: 'recording',
      maxBodySize: MAX_BODY,
      maxRawBodySize: MAX_RAW_BODY,
      cache: new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 4096 }),
      // Isolation by matchers only (a plain Prometheus), which the principal's namespace grant satisfies. Not typed
      // against AppOptions here, so that the test reads the same with and without this option.
      enforcement: 'labels',
      metrics: createGatewayMetrics(deps.registry),
    };
    return { ...base, ...overrides } as AppOptions;
  };

  before(async () => {
    recording = await startRecordingUpstream();
    scripted = await startScriptedUpstream();
    upstreams = new Map([
      ['recording', createUpstream({ url: new URL(recording.url), timeoutMs: 10_000 })],
      ['scripted', createUpstream({ url: new URL(scripted.url), timeoutMs: 10_000 })],
      ['signed', createUpstream({ url: new URL(`${recording.url}/prefix`), timeoutMs: 10_000, sign: signer })],
    ]);
    deps = { logger: pino({ level: 'silent' }), registry: new Registry() };
    server = await listen(createApp(options(), deps), 0);
    port = portOf(server);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...upstreams.values()].map((u) => u.close()));
    await Promise.all([recording.close(), scripted.close()]);
  });

  beforeEach(() => {
    recording.requests.length = 0;
    scripted.received.length = 0;
    scripted.answer = { status: 200, body: JSON.stringify({ status: 'success', data: [] }) };
    given.clear();
  });

  /** A whole request, its body sent with a Content-Length. */
  function send(method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: string | Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => readAnswer(res).then(resolve, reject));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Headers declaring a body (Content-Length) that is never sent: the answer must come before any byte of it. */
  function declareOnly(path: string, headers: OutgoingHttpHeaders): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false }, (res) =>
        readAnswer(res).then((answer) => {
          req.destroy();
          resolve(answer);
        }, reject),
      );
      req.on('error', reject);
      req.flushHeaders();
    });
  }

  /**
   * A chunked body (no Content-Length), `chunk` sent up to `max` times, each once the last has been flushed, until
   * an answer comes. Resolves with the answer, or with the error the client got instead.
   */
  function sendChunked(path: string, headers: OutgoingHttpHeaders, chunk: Buffer, max: number): Promise<{ answer?: Answer; error?: Error; sent: number }> {
    return new Promise((resolve) => {
      let sent = 0;
      let settled = false;
      const settle = (outcome: { answer?: Answer; error?: Error }): void => {
        if (settled) return;
        settled = true;
        resolve({ ...outcome, sent });
      };
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false }, (res) => {
        readAnswer(res).then(
          (answer) => settle({ answer }),
          (error: Error) => settle({ error }),
        );
      });
      req.on('error', (error) => settle({ error }));
      const pump = (): void => {
        if (settled || req.destroyed) return;
        if (sent === max) {
          req.end();
          return;
        }
        sent += 1;
        // On to the next chunk only after a turn of the event loop, so that an answer that came early is seen
        // (a write callback alone can chain writes without ever reading the socket).
        req.write(chunk, (error) => {
          if (error === undefined || error === null) setImmediate(pump);
        });
      };
      pump();
    });
  }

  describe('body policy json', () => {
    it('decodes the body for the handler and sends it upstream as JSON', async () => {
      const document = { matchers: [{ name: 'job', value: 'api' }], comment: 'ünïcode', n: 1.5 };
      const answer = await send('POST', '/api/v1/json', { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(document, null, 2));
      assert.equal(answer.status, 200, answer.body.toString());
      assert.deepEqual(given.get('json'), document);
      assert.equal(recording.requests.length, 1);
      const [sent] = recording.requests;
      assert.equal(sent!.method, 'POST');
      assert.equal(sent!.url, '/api/v1/json?x=1');
      assert.equal(sent!.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(sent!.body), document);
      // Re-encoded from the decoded document, not the client's bytes.
      assert.equal(sent!.body, JSON.stringify(document));
    });

    it('keeps the method the client used (PUT)', async () => {
      const answer = await send('PUT', '/api/v1/json', { 'content-type': 'application/json' }, '[1,2]');
      assert.equal(answer.status, 200);
      assert.equal(recording.requests[0]?.method, 'PUT');
      assert.equal(recording.requests[0]?.body, '[1,2]');
    });

    it('sends the JSON body the handler made in place of the client’s', async () => {
      const answer = await send('POST', '/api/v1/json-rewritten', { 'content-type': 'application/json' }, '{"a":1}');
      assert.equal(answer.status, 200);
      assert.deepEqual(JSON.parse(recording.requests[0]!.body), { rewritten: true, was: { a: 1 } });
    });

    for (const malformed of ['{"a":', 'not json', '', '{"a":1}}']) {
      it(`refuses malformed JSON ${JSON.stringify(malformed)} with 400 bad_data, forwarding nothing`, async () => {
        const answer = await send('POST', '/api/v1/json', { 'content-type': 'application/json' }, malformed);
        assert.equal(answer.status, 400);
        assert.equal(answer.headers['content-type'], 'application/json');
        const body = jsonOf(answer) as Record<string, unknown>;
        assert.equal(body.status, 'error');
        assert.equal(body.errorType, 'bad_data');
        assert.match(String(body.error), /not valid JSON/);
        assert.equal(given.has('json'), false);
        assert.equal(recording.requests.length, 0);
      });
    }

    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', undefined]) {
      it(`refuses a body of content type ${String(contentType)} with 415`, async () => {
        const headers: OutgoingHttpHeaders = contentType === undefined ? {} : { 'content-type': contentType };
        const answer = await send('POST', '/api/v1/json', headers, '{"a":1}');
        assert.equal(answer.status, 415);
        assert.equal((jsonOf(answer) as { errorType: string }).errorType, 'bad_data');
        assert.equal(recording.requests.length, 0);
      });
    }

    it('refuses a body declared larger than maxBodySize with 413 before reading it', { timeout: HANG }, async () => {
      const answer = await declareOnly('/api/v1/json', { 'content-type': 'application/json', 'content-length': String(MAX_BODY + 1) });
      assert.equal(answer.status, 413);
      assert.equal(answer.headers.connection, 'close');
      assert.equal((jsonOf(answer) as { errorType: string }).errorType, 'bad_data');
      assert.equal(recording.requests.length, 0);
    });

    it('refuses a body of maxBodySize + 1 bytes with 413, and takes one of maxBodySize', async () => {
      const fits = JSON.stringify({ pad: 'x'.repeat(MAX_BODY - 10) });
      assert.equal(fits.length, MAX_BODY);
      assert.equal((await send('POST', '/api/v1/json', { 'content-type': 'application/json' }, fits)).status, 200);
      const over = JSON.stringify({ pad: 'x'.repeat(MAX_BODY - 9) });
      assert.equal((await send('POST', '/api/v1/json', { 'content-type': 'application/json' }, over)).status, 413);
      assert.equal(recording.requests.length, 1);
    });

    it('refuses a chunked body that outgrows maxBodySize with 413', async () => {
      const { answer, error } = await sendChunked('/api/v1/json', { 'content-type': 'application/json' }, Buffer.alloc(512, 0x20), 16);
      assert.ok(answer, `no answer: ${error?.message}`);
      assert.equal(answer.status, 413);
      assert.equal(recording.requests.length, 0);
    });
  });

  describe('body policy raw', () => {
    const RAW_HEADERS = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    };

    it('streams the client’s bytes upstream byte for byte, with their content type and encoding', async () => {
      const body = randomBytes(200 * 1024);
      const answer = await send('POST', '/api/v1/write', { ...RAW_HEADERS, authorization: 'Basic YWxpY2U6c2VjcmV0', cookie: 'c=1' }, body);
      assert.equal(answer.status, 200, answer.body.toString());
      assert.equal(scripted.received.length, 1);
      const [got] = scripted.received;
      assert.equal(got!.complete, true);
      assert.equal(got!.method, 'POST');
      assert.equal(got!.url, '/api/v1/push?tenant=a');
      assert.equal(got!.body.length, body.length);
      assert.ok(got!.body.equals(body), 'the bytes differ');
      assert.equal(got!.headers['content-type'], 'application/x-protobuf');
      assert.equal(got!.headers['content-encoding'], 'snappy');
      assert.equal(got!.headers['x-prometheus-remote-write-version'], '0.1.0');
      // The caller's credentials stay with promgate.
      assert.equal(got!.headers.authorization, undefined);
      assert.equal(got!.headers.cookie, undefined);
    });

    it('streams a chunked body under the limit byte for byte', async () => {
      const chunk = randomBytes(64 * 1024);
      const { answer, error } = await sendChunked('/api/v1/write', RAW_HEADERS, chunk, 3);
      assert.ok(answer, `no answer: ${error?.message}`);
      assert.equal(answer.status, 200);
      assert.equal(scripted.received.length, 1);
      assert.ok(scripted.received[0]!.body.equals(Buffer.concat([chunk, chunk, chunk])));
    });

    it('refuses a body declared larger than maxRawBodySize with 413, forwarding nothing', { timeout: HANG }, async () => {
      const answer = await declareOnly('/api/v1/write', { ...RAW_HEADERS, 'content-length': String(MAX_RAW_BODY + 1) });
      assert.equal(answer.status, 413);
      assert.equal(answer.headers.connection, 'close');
      assert.equal((jsonOf(answer) as { errorType: string }).errorType, 'bad_data');
      assert.equal(scripted.received.length, 0);
    });

    it('takes a raw body larger than maxBodySize (its own limit applies)', async () => {
      const answer = await send('POST', '/api/v1/write', RAW_HEADERS, randomBytes(MAX_BODY * 4));
      assert.equal(answer.status, 200);
    });

    it('refuses a chunked body that outgrows maxRawBodySize with 413', async () => {
      const chunk = randomBytes(64 * 1024);
      const { answer, error } = await sendChunked('/api/v1/write', RAW_HEADERS, chunk, 64);
      assert.ok(answer, `no answer: ${error?.message}`);
      assert.equal(answer.status, 413);
      assert.equal((jsonOf(answer) as { errorType: string }).errorType, 'bad_data');
      // The bytes under the limit were on their way upstream already: the upstream sees that request broken off,
      // never complete, and nothing past the limit.
      await until('the upstream to see the request end', () => scripted.received.length > 0);
      assert.equal(scripted.received.length, 1);
      assert.equal(scripted.received[0]!.complete, false);
      assert.ok(scripted.received[0]!.body.length <= MAX_RAW_BODY, String(scripted.received[0]!.body.length));
      assert.ok(scripted.received[0]!.body.equals(Buffer.concat(Array(4).fill(chunk)).subarray(0, scripted.received[0]!.body.length)));
    });
  });

  describe('the answer action with filterAnswer', () => {
    it('sends what the filter kept of a successful answer', async () => {
      scripted.answer = { status: 200, body: JSON.stringify({ status: 'success', data: [1, 2, 3, 4, 'x', 6] }) };
      const answer = await send('GET', '/api/v1/filtered');
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.deepEqual(jsonOf(answer), { status: 'success', data: [2, 4, 6] });
      assert.equal(scripted.received.length, 1);
      assert.equal(scripted.received[0]!.method, 'GET');
      assert.equal(scripted.received[0]!.url, '/api/v1/upstream-list?match%5B%5D=up');
    });

    for (const [status, body] of [
      [503, { status: 'error', errorType: 'unavailable', error: 'overloaded' }],
      [400, { status: 'error', errorType: 'bad_data', error: 'bad match[]' }],
      [404, { anything: ['at', 'all'] }],
      [301, { moved: true }],
    ] as const) {
      it(`passes a ${status} answer on unchanged`, async () => {
        scripted.answer = { status, body: JSON.stringify(body) };
        const answer = await send('GET', '/api/v1/filtered');
        assert.equal(answer.status, status);
        assert.deepEqual(jsonOf(answer), body);
      });
    }

    for (const [what, body] of [
      ['an error status', JSON.stringify({ status: 'error', data: [2] })],
      ['no data', JSON.stringify({ status: 'success' })],
      ['a list', JSON.stringify([2, 4])],
      ['null', 'null'],
      ['no JSON', 'not json at all'],
    ] as const) {
      it(`answers 502 to a 200 answer with ${what}, passing none of it`, async () => {
        scripted.answer = { status: 200, body };
        const answer = await send('GET', '/api/v1/filtered');
        assert.equal(answer.status, 502);
        const sent = jsonOf(answer) as Record<string, unknown>;
        assert.equal(sent.status, 'error');
        assert.equal(sent.errorType, 'unavailable');
        assert.equal('data' in sent, false);
      });
    }

    it('answers 502 when the filter cannot filter the data', async () => {
      scripted.answer = { status: 200, body: JSON.stringify({ status: 'success', data: { not: 'a list' } }) };
      const answer = await send('GET', '/api/v1/filtered');
      assert.equal(answer.status, 502);
      assert.deepEqual(jsonOf(answer), { status: 'error', errorType: 'unavailable', error: 'data is not a list' });
    });
  });

  describe('the answer action with filterAnswer, bare (Alertmanager v2)', () => {
    it('filters the answer itself, not a data field', async () => {
      scripted.answer = { status: 200, body: JSON.stringify([1, 2, 3, 4]) };
      const answer = await send('GET', '/api/v2/filtered-bare');
      assert.equal(answer.status, 200);
      assert.deepEqual(jsonOf(answer), [2, 4]);
      assert.equal(scripted.received[0]!.url, '/api/v2/upstream-list?match%5B%5D=up');
    });

    it('answers 502 to a 200 answer it cannot filter, and passes an empty 404 on as null', async () => {
      scripted.answer = { status: 200, body: JSON.stringify({ status: 'success', data: [2] }) };
      assert.equal((await send('GET', '/api/v2/filtered-bare')).status, 502);
      scripted.answer = { status: 404, body: '' };
      const missing = await send('GET', '/api/v2/filtered-bare');
      assert.equal(missing.status, 404);
      assert.equal(jsonOf(missing), null);
    });
  });

  describe('the checked action', () => {
    it('reads the upstream, then sends the call it decided on with the client’s method, and streams its answer', async () => {
      scripted.answer = { status: 200, body: JSON.stringify({ owner: 'alice' }) };
      const answer = await send('DELETE', '/api/v2/thing/x1');
      assert.equal(answer.status, 200);
      assert.deepEqual(jsonOf(answer), { owner: 'alice' });
      assert.deepEqual(scripted.received.map((r) => `${r.method} ${r.url}`), ['GET /api/v1/owner/x1', 'DELETE /api/v1/thing/x1?checked=1']);
    });

    it('sends the client’s JSON body with the call (POST)', async () => {
      scripted.answer = { status: 200, body: JSON.stringify({ owner: 'alice' }) };
      const answer = await send('POST', '/api/v2/things', { 'content-type': 'application/json' }, '{"id": "x1"}');
      assert.equal(answer.status, 200);
      assert.deepEqual(scripted.received.map((r) => `${r.method} ${r.url} ${r.body.toString()}`), ['GET /api/v1/owner/x1 ', 'POST /api/v1/thing/x1?checked=1 {"id":"x1"}']);
    });

    it('answers its refusal, sending nothing more upstream', async () => {
      scripted.answer = { status: 200, body: JSON.stringify({ owner: 'bob' }) };
      const refused = await send('DELETE', '/api/v2/thing/x1');
      assert.equal(refused.status, 403);
      assert.deepEqual(jsonOf(refused), { status: 'error', errorType: 'forbidden', error: 'not yours' });
      scripted.answer = { status: 404, body: '' };
      assert.equal((await send('GET', '/api/v2/thing/x2')).status, 404);
      assert.deepEqual(scripted.received.map((r) => `${r.method} ${r.url}`), ['GET /api/v1/owner/x1', 'GET /api/v1/owner/x2']);
    });

    it('answers 502 when the read is no JSON, sending nothing more upstream', async () => {
      scripted.answer = { status: 200, body: 'not json' };
      const answer = await send('DELETE', '/api/v2/thing/x1');
      assert.equal(answer.status, 502);
      assert.equal(scripted.received.length, 1);
    });
  });

  describe('UpstreamConfig.sign', () => {
    it('signs the final request: method, full path with the prefix, and body', async () => {
      const answer = await send('POST', '/api/v1/signed', { 'content-type': 'application/json' }, '{ "a": [1, 2] }');
      assert.equal(answer.status, 200, answer.body.toString());
      assert.equal(recording.requests.length, 1);
      const [got] = recording.requests;
      assert.equal(got!.url, '/prefix/api/v1/signed?x=1');
      assert.equal(got!.body, '{"a":[1,2]}');
      assert.equal(got!.headers['x-signature'], sha256('POST\n/prefix/api/v1/signed?x=1\n{"a":[1,2]}'));
      assert.equal(got!.headers['x-signature'], sha256(`${got!.method}\n${got!.url}\n${got!.body}`));
      assert.equal(got!.headers['x-signed-for'], new URL(recording.url).origin);
      // The signer was handed the request's own headers, and kept them.
      assert.equal(got!.headers['content-type'], 'application/json');
      assert.equal(typeof got!.headers['x-request-id'], 'string');
    });

    it('signs the calls an answer action makes too', async () => {
      const answer = await send('GET', '/api/v1/signed-answer');
      assert.equal(answer.status, 200, answer.body.toString());
      const [got] = recording.requests;
      assert.equal(got!.url, '/prefix/api/v1/list?match%5B%5D=up');
      assert.equal(got!.headers['x-signature'], sha256('GET\n/prefix/api/v1/list?match%5B%5D=up\n'));
    });
  });

  describe('start', () => {
    it('throws when a route names an upstream not in the map', () => {
      const routes = new RouteTable([...ROUTES, route('/api/v1/elsewhere', ['GET'], 'none', 'nowhere', recordingJson)]);
      assert.throws(() => createApp(options({ routes }), deps), /no upstream named "nowhere"/);
    });

    it('throws when the unprotected endpoints’ upstream is not in the map', () => {
      assert.throws(() => createApp(options({ unprotectedUpstream: 'nowhere' }), deps), /no upstream named "nowhere"/);
    });
  });

  describe('refusals and metrics', () => {
    const counted = async (name: string, labels: Record<string, string>): Promise<number | undefined> => {
      const metric = deps.registry.getSingleMetric(name);
      assert.ok(metric, `no metric ${name}`);
      const { values } = await metric.get();
      return values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value;
    };

    it('answers a handler’s 500 internal refusal as 500 internal, asking no upstream', async () => {
      const before = (await counted('promgate_enforcement_refusals_total', { reason: 'internal' })) ?? 0;
      const answer = await send('GET', '/api/v1/trap');
      assert.equal(answer.status, 500);
      assert.deepEqual(jsonOf(answer), { status: 'error', errorType: 'internal', error: 'the parser failed on this query' });
      assert.equal(recording.requests.length, 0);
      assert.equal(await counted('promgate_enforcement_refusals_total', { reason: 'internal' }), before + 1);
    });

    it('labels the request metrics with the principal’s metricsUser, never its user', async () => {
      const answer = await send('GET', '/api/v1/plain');
      assert.equal(answer.status, 200);
      assert.equal(await counted('promgate_http_requests_total', { endpoint: '/api/v1/plain', code: '200', user: 'tenant-metrics' }), 1);
      const metric = deps.registry.getSingleMetric('promgate_http_requests_total');
      const { values } = await metric!.get();
      assert.ok(values.length > 0);
      assert.ok(values.every((v) => v.labels.user !== 'alice'), JSON.stringify(values));
    });
  });
});
