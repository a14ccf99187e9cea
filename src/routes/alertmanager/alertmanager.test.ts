import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Matcher } from 'promql-parser-wasm';
import { parse as parseYaml } from 'yaml';
import { A, principalWith, scripted } from '../../../test/support/routes.js';
import { REDACTED_CONFIG } from '../../enforce/alertmanager.js';
import { EnforcedCache } from '../../enforce/params.js';
import type { Param } from '../../http/form.js';
import type { Result } from '../../result.js';
import type { JsonAnswer } from '../../upstream/json.js';
import type { Action, Method, Refusal } from '../route.js';
import { ALERTMANAGER_ROUTES, RouteTable } from '../table.js';

const TABLE = new RouteTable(ALERTMANAGER_ROUTES);
const CACHE = new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 4096 });
const AB: Matcher[] = [{ name: 'namespace', type: '=~', value: 'tenant-a|tenant-b' }];
const ID = '5c0e1b64-3d5b-4c8e-9a51-3f1b1a2e4d6f';

function decide(method: Method, path: string, options: { params?: Param[]; json?: unknown; matchers?: readonly Matcher[] } = {}): Result<Action, Refusal> {
  const match = TABLE.find(path);
  assert.ok(match, `no route for ${path}`);
  assert.ok(match.route.methods.includes(method), `${method} ${path}`);
  const { params = [], json, matchers = A } = options;
  return match.route.handler({ principal: principalWith(matchers), path, method, params, segments: match.segments, ...(json !== undefined && { json }), cache: CACHE });
}

const refusedWith = (decided: Result<Action, Refusal>): Refusal => {
  assert.equal(decided.ok, false, JSON.stringify(decided));
  if (decided.ok) throw new Error('unreachable');
  return decided.error;
};

const amAlert = (namespace?: string) => ({
  labels: { alertname: 'Errors', ...(namespace !== undefined && { namespace }) },
  annotations: {},
  fingerprint: namespace ?? 'none',
  receivers: [{ name: 'team' }],
  status: { state: 'active', silencedBy: [], inhibitedBy: [] },
});

const silence = (id: string, matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[]) => ({
  id,
  status: { state: 'active' },
  matchers,
  startsAt: '2026-01-01T00:00:00Z',
  endsAt: '2026-01-02T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  createdBy: 'someone',
  comment: 'c',
});
const m = (name: string, value: string, isRegex = false, isEqual = true) => ({ name, value, isRegex, isEqual });
const ALICE_SILENCE = silence(ID, [m('namespace', 'tenant-a'), m('alertname', 'Errors')]);

async function run(decided: Result<Action, Refusal>, ...answers: JsonAnswer[]) {
  assert.ok(decided.ok, JSON.stringify(decided));
  const client = scripted(...answers);
  const action = decided.value;
  if (action.kind === 'answer') return { answer: await action.run(client), asked: client.asked };
  assert.equal(action.kind, 'checked');
  if (action.kind !== 'checked') throw new Error('unreachable');
  return { checked: await action.check(client), asked: client.asked };
}

describe('Alertmanager: /api/v2/alerts and /api/v2/alerts/groups', () => {
  it('adds the tenant’s matchers to filter, keeps the caller’s parameters, and filters the answer again', async () => {
    const decided = decide('GET', '/api/v2/alerts', { params: [['silenced', 'false'], ['filter', 'alertname="Errors"']], matchers: [...AB, { name: 'team', type: '=', value: 'a "b" \\ c' }] });
    const { answer, asked } = await run(decided, { status: 200, body: [amAlert('tenant-a'), amAlert('tenant-c'), amAlert()] });
    assert.deepEqual(asked, [
      {
        path: '/api/v2/alerts',
        params: [['silenced', 'false'], ['filter', 'alertname="Errors"'], ['filter', 'namespace=~"tenant-a|tenant-b"'], ['filter', 'team="a \\"b\\" \\\\ c"']],
      },
    ]);
    // Alertmanager would have selected none of these; the second guard keeps none that are not the tenant's.
    assert.deepEqual(answer!.body, []);
  });

  it('keeps the tenant’s alerts of each group and drops the groups left empty', async () => {
    const groups = [
      { labels: { alertname: 'Errors' }, receiver: { name: 'team' }, alerts: [amAlert('tenant-a'), amAlert('tenant-b')] },
      { labels: { alertname: 'Node' }, receiver: { name: 'ops' }, alerts: [amAlert()] },
    ];
    const { answer } = await run(decide('GET', '/api/v2/alerts/groups'), { status: 200, body: groups });
    assert.deepEqual(answer!.body, [{ ...groups[0], alerts: [amAlert('tenant-a')] }]);
  });

  it('refuses pushed alerts with 403, asking nothing', () => {
    const refusal = refusedWith(decide('POST', '/api/v2/alerts'));
    assert.equal(refusal.status, 403);
  });

  it('passes an error on, refuses an answer that is not a list, and streams a tenant known by id', async () => {
    const error = { status: 400, body: 'bad matcher format: x' };
    assert.deepEqual((await run(decide('GET', '/api/v2/alerts'), error)).answer, error);
    await assert.rejects(run(decide('GET', '/api/v2/alerts'), { status: 200, body: { alerts: [] } }), /not a list/);
    const byId = decide('GET', '/api/v2/alerts', { matchers: [], params: [['filter', 'a="b"']] });
    assert.ok(byId.ok && byId.value.kind === 'stream');
    assert.deepEqual(byId.value.call, { path: '/api/v2/alerts', params: 'filter=a%3D%22b%22' });
  });
});

describe('Alertmanager: silences', () => {
  const others = silence('6c0e1b64-3d5b-4c8e-9a51-3f1b1a2e4d6f', [m('namespace', 'tenant-b'), m('alertname', 'Errors')]);
  const negated = silence('7c0e1b64-3d5b-4c8e-9a51-3f1b1a2e4d6f', [m('namespace', 'tenant-a', false, false), m('alertname', 'Errors')]);
  const carols = silence('8c0e1b64-3d5b-4c8e-9a51-3f1b1a2e4d6f', [m('namespace', 'tenant-a|tenant-b', true), m('alertname', 'Errors')]);

  it('lists only the silences that carry every matcher of the tenant (namespace!="tenant-a" is not one)', async () => {
    const all = [ALICE_SILENCE, others, negated, carols];
    assert.deepEqual((await run(decide('GET', '/api/v2/silences'), { status: 200, body: all })).answer!.body, [ALICE_SILENCE]);
    assert.deepEqual((await run(decide('GET', '/api/v2/silences', { matchers: AB }), { status: 200, body: all })).answer!.body, [carols]);
  });

  it('answers a silence by id only when it is the tenant’s: 404 for another’s as for none', async () => {
    const path = `/api/v2/silence/${ID}`;
    assert.deepEqual((await run(decide('GET', path), { status: 200, body: ALICE_SILENCE })).answer, { status: 200, body: ALICE_SILENCE });
    for (const read of [{ status: 200, body: others }, { status: 404, body: null }]) {
      const { answer, asked } = await run(decide('GET', path), read);
      assert.equal(answer!.status, 404);
      assert.deepEqual(asked, [{ path, params: [] }]);
    }
  });

  it('deletes (expires) only the tenant’s own silence: 403 for another’s, 404 for none', async () => {
    const path = `/api/v2/silence/${ID}`;
    assert.deepEqual((await run(decide('DELETE', path), { status: 200, body: ALICE_SILENCE })).checked, { ok: true, value: { path, params: '' } });
    assert.equal(refusedWith((await run(decide('DELETE', path), { status: 200, body: others })).checked!).status, 403);
    assert.equal(refusedWith((await run(decide('DELETE', path), { status: 404, body: null })).checked!).status, 404);
    await assert.rejects(run(decide('DELETE', path), { status: 500, body: 'oops' }), /answered 500/);
  });

  it('refuses an id that is not a UUID, asking nothing', () => {
    for (const id of ['abc', `${ID}x`, '..', '%2e%2e', ID.replace(/-/g, '')]) {
      const refusal = refusedWith(decide('GET', `/api/v2/silence/${id}`));
      assert.equal(refusal.status, 400, id);
      assert.match(refusal.message, /not a UUID/);
    }
  });

  const posted = (matchers: unknown, extra: Record<string, unknown> = {}) => ({
    matchers,
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '2026-01-02T00:00:00Z',
    createdBy: 'alice',
    comment: 'deploy',
    ...extra,
  });

  it('gives a new silence the tenant’s matchers first, drops repeats of them, and drops unknown fields', () => {
    const decided = decide('POST', '/api/v2/silences', { json: posted([m('namespace', 'tenant-a'), m('alertname', 'Errors')], { status: { state: 'x' } }) });
    assert.ok(decided.ok && decided.value.kind === 'stream');
    assert.deepEqual(decided.value.call, {
      path: '/api/v2/silences',
      params: '',
      json: posted([m('namespace', 'tenant-a'), m('alertname', 'Errors')]),
    });
  });

  it('writes a grant of several namespaces as one regex matcher, and lets the caller narrow to one of them', () => {
    const decided = decide('POST', '/api/v2/silences', { json: posted([{ name: 'namespace', value: 'tenant-b', isRegex: false }, m('alertname', 'Errors')]), matchers: AB });
    assert.ok(decided.ok && decided.value.kind === 'stream');
    assert.deepEqual((decided.value.call.json as { matchers: unknown }).matchers, [m('namespace', 'tenant-a|tenant-b', true), m('namespace', 'tenant-b'), m('alertname', 'Errors')]);
  });

  it('refuses a matcher that contradicts or widens the tenant’s, a silence of no matchers of its own, and bad matchers', () => {
    const cases: [unknown, RegExp][] = [
      [posted([m('namespace', 'tenant-b'), m('alertname', 'Errors')]), /namespace="tenant-b" contradicts or widens the tenant's namespace="tenant-a"/],
      [posted([m('namespace', 'tenant-.*', true), m('alertname', 'Errors')]), /namespace=~"tenant-\.\*" contradicts/],
      [posted([m('namespace', 'kube-system', false, false), m('alertname', 'Errors')]), /namespace!="kube-system" contradicts/],
      [posted([m('namespace', 'tenant-a')]), /needs a matcher of its own besides the tenant's namespace="tenant-a"/],
      [posted([]), /no matchers/],
      [posted(undefined), /no matchers/],
      [posted([{ name: 'alertname', value: 'x' }]), /each matcher must have/],
      [posted([{ name: '', value: 'x', isRegex: false }]), /each matcher must have/],
      [posted([{ name: 'a', value: 1, isRegex: false }]), /each matcher must have/],
      [posted([{ name: 'a', value: 'x', isRegex: false, isEqual: 'yes' }]), /each matcher must have/],
      [posted([m('alertname', 'Errors')], { id: 'not-a-uuid' }), /id must be a UUID/],
      [[m('alertname', 'Errors')], /must be a JSON object/],
      ['text', /must be a JSON object/],
    ];
    for (const [json, message] of cases) {
      const refusal = refusedWith(decide('POST', '/api/v2/silences', { json }));
      assert.equal(refusal.status, 400, JSON.stringify(json));
      assert.match(refusal.message, message);
    }
  });

  it('updates a silence (with id) only once the one it replaces is read and found the tenant’s', async () => {
    const body = posted([m('alertname', 'Errors')], { id: ID });
    const mine = await run(decide('POST', '/api/v2/silences', { json: body }), { status: 200, body: ALICE_SILENCE });
    assert.deepEqual(mine.asked, [{ path: `/api/v2/silence/${ID}`, params: [] }]);
    assert.ok(mine.checked!.ok);
    assert.deepEqual(mine.checked.value.json, { id: ID, ...posted([m('namespace', 'tenant-a'), m('alertname', 'Errors')]) });
    assert.equal(refusedWith((await run(decide('POST', '/api/v2/silences', { json: body }), { status: 200, body: others })).checked!).status, 403);
    assert.equal(refusedWith((await run(decide('POST', '/api/v2/silences', { json: body }), { status: 404, body: null })).checked!).status, 404);
  });
});

describe('Alertmanager: /api/v2/status', () => {
  it('keeps version, uptime and cluster, and redacts the configuration to one Alertmanager (and Grafana) can parse', async () => {
    const status = {
      cluster: { name: 'c', status: 'ready', peers: [{ name: 'p', address: '10.0.0.1:9094' }] },
      config: { original: 'receivers:\n- name: team-b\n  webhook_configs:\n  - url: http://hook/?token=s3cret\n' },
      uptime: '2026-01-01T00:00:00.000Z',
      versionInfo: { version: '0.25.0' },
      extra: 'not passed',
    };
    const { answer } = await run(decide('GET', '/api/v2/status'), { status: 200, body: status });
    assert.deepEqual(answer!.body, { cluster: status.cluster, config: { original: REDACTED_CONFIG }, uptime: status.uptime, versionInfo: status.versionInfo });
    assert.doesNotMatch(JSON.stringify(answer!.body), /team-b|s3cret/);
    assert.deepEqual(parseYaml(REDACTED_CONFIG), { route: { receiver: 'redacted' }, receivers: [{ name: 'redacted' }] });
  });
});
