// match[] against real Prometheus 2.42, on every endpoint that takes it: what enforceSelector sends for a tenant to the
// server holding every tenant's series answers exactly what the selector as written answers on a server holding only
// the tenant's series, and enforceSelector refuses, with Prometheus's message, exactly what that server refuses.
// Without matchers (a principal known by tenant id only), what it sends answers what the selector as written does.
// /federate answers the last samples within five minutes of now, so the data here ends at the current minute.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { enforceSelector, PromQLError, type Matcher, type SelectorEndpoint } from 'promql-parser-wasm';
import { TENANTS } from '../parser/test/support/tenants.js';
import { difference, normalise } from './support/compare.js';
import { startPrometheus, type PromServer } from './support/prometheus.js';
import { tenantData, toOpenMetrics } from './support/tenant-data.js';

const END = Math.floor(Date.now() / 60_000) * 60;
const WINDOW = { start: String(END - 1800), end: String(END) };

const SELECTORS = [
  'up', 'node_load1', '{__name__=~"up|node_load1"}', '{job!=""}', 'http_requests_total{code="500"}', 'up{namespace="tenant-b"}',
  'up{}', '{namespace=~".*"}',
  // A second metric name: Prometheus's selector parser takes it, and selects nothing.
  'up{__name__="node_load1"}',
  // Matchers that all match the empty string: refused by the API endpoints, taken by /federate.
  '{job=~".*"}', '{__name__=~".*"}', '{container=""}', '{pod!~".+", namespace=~"tenant-a|"}',
  // No matcher at all: refused by the API endpoints; selects nothing on /federate.
  '{}',
  // Not a series selector.
  'up offset 5m', 'rate(up[5m])', 'up{', '',
];

const ENDPOINTS: readonly [path: string, use: SelectorEndpoint][] = [
  ['/api/v1/series', 'api'], ['/api/v1/labels', 'api'], ['/api/v1/label/pod/values', 'api'], ['/federate', 'federate'],
];

interface Answer {
  readonly status: number;
  /** Prometheus's error text, as the API puts it in `error` and /federate in a text/plain body. */
  readonly error?: string;
  /** What a successful answer says, in a form two servers' answers compare in. */
  readonly data?: unknown;
}

/** GET `path` with one match[]: the answer, or its error text. */
async function ask(server: PromServer, path: string, selector: string): Promise<Answer> {
  const params = new URLSearchParams(path === '/federate' ? { 'match[]': selector } : { 'match[]': selector, ...WINDOW });
  const res = await fetch(`${server.url}${path}?${params}`);
  const text = await res.text();
  if (path === '/federate') {
    if (res.status !== 200) return { status: res.status, error: text.replace(/\n$/, '') };
    return { status: res.status, data: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).sort() };
  }
  const body = JSON.parse(text);
  return body.status === 'success' ? { status: res.status, data: normalise(body) } : { status: res.status, error: body.error };
}

/** The message enforceSelector gives where Prometheus refuses `match[]` on `path` with `error`. */
function parserMessage(path: string, error: string): string {
  // Only /api/v1/series wraps the parser's message.
  const prefix = 'invalid parameter "match[]": ';
  if (path !== '/api/v1/series') return error;
  assert.ok(error.startsWith(prefix), `series error ${JSON.stringify(error)} lacks ${JSON.stringify(prefix)}`);
  return error.slice(prefix.length);
}

/** enforceSelector's output, or its PromQLError's message. */
function enforced(selector: string, matchers: readonly Matcher[], use: SelectorEndpoint): { sent?: string; refusal?: string } {
  try {
    return { sent: enforceSelector(selector, matchers, use) };
  } catch (e) {
    if (!(e instanceof PromQLError)) throw e;
    return { refusal: e.message };
  }
}

function assertSameAnswer(got: Answer, want: Answer, what: string): void {
  assert.equal(got.status, want.status, what);
  if (want.error !== undefined) return assert.equal(got.error, want.error, what);
  const diff = Array.isArray(want.data) ? (JSON.stringify(got.data) === JSON.stringify(want.data) ? null : `got ${JSON.stringify(got.data)}`) : difference(got.data, want.data);
  assert.equal(diff, null, `${what}: ${diff}`);
}

let all: PromServer;
const own: Record<string, PromServer> = {};

before(async () => {
  const data = tenantData(['tenant-a', 'tenant-b', 'kube-system']);
  const names = Object.keys(TENANTS);
  const servers = await Promise.allSettled([
    startPrometheus(toOpenMetrics(data, END)),
    ...names.map((name) => startPrometheus(toOpenMetrics(data.filter((s) => TENANTS[name]!.owns(s.labels)), END))),
  ]);
  const started = servers.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = servers.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  [all] = started as [PromServer];
  names.forEach((name, i) => { own[name] = started[i + 1]!; });
});

after(async () => {
  await Promise.all([all, ...Object.values(own)].filter((s) => s !== undefined).map((s) => s.stop()));
});

describe('match[] on Prometheus 2.42', () => {
  test('/federate has samples to answer with (the data is recent)', async () => {
    const answer = await ask(all, '/federate', 'up');
    assert.ok((answer.data as string[]).length > 0, JSON.stringify(answer));
  });

  for (const selector of SELECTORS) {
    test(JSON.stringify(selector), async () => {
      for (const [path, use] of ENDPOINTS) {
        for (const [name, tenant] of Object.entries(TENANTS)) {
          const what = `${name}: ${path} with match[]=${selector}`;
          const want = await ask(own[name]!, path, selector);
          const { sent, refusal } = enforced(selector, tenant.matchers, use);
          if (sent !== undefined) {
            assertSameAnswer(await ask(all, path, sent), want, `${what}, sent as ${sent}`);
          } else if (selector === '{}' && use === 'federate') {
            // {} selects nothing there; with the tenant's matchers it would select all their series: refused instead.
            assert.deepEqual(want, { status: 200, data: [] }, what);
          } else {
            assert.equal(want.status, 400, `${what}: refused (${refusal}), Prometheus answers ${JSON.stringify(want)}`);
            assert.equal(refusal, parserMessage(path, want.error!), what);
          }
        }
        const asWritten = await ask(all, path, selector);
        const { sent, refusal } = enforced(selector, [], use);
        if (sent !== undefined) {
          assertSameAnswer(await ask(all, path, sent), asWritten, `without matchers: ${path} with match[]=${selector}, sent as ${sent}`);
        } else {
          assert.equal(asWritten.status, 400, `without matchers: ${path} with match[]=${selector} refused (${refusal}): ${JSON.stringify(asWritten)}`);
          assert.equal(refusal, parserMessage(path, asWritten.error!));
        }
      }
    });
  }
});
