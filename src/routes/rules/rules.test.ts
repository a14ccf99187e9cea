import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Matcher } from 'promql-parser-wasm';
import { A, AB, decide, principalWith, refusal, scripted, sent } from '../../../test/support/routes.js';
import { EnforcedCache } from '../../enforce/params.js';
import { WITHHELD } from '../../enforce/rules.js';
import type { Param } from '../../http/form.js';
import type { JsonAnswer } from '../../upstream/json.js';
import { mountedAt } from '../mount.js';
import { PROMETHEUS_ROUTES } from '../table.js';

const alert = (namespace: string | undefined, state: string) => ({
  labels: { alertname: 'Errors', ...(namespace !== undefined && { namespace }) },
  annotations: { summary: `errors in ${namespace}` },
  state,
  activeAt: '2026-01-01T00:00:00Z',
  value: '1e+01',
});

/** A rules answer of every kind of rule: shown by labels, by alerts, or hidden, in three groups. */
const rulesData = () => ({
  groups: [
    {
      name: 'apps',
      file: '/rules/apps.yml',
      interval: 30,
      limit: 0,
      evaluationTime: 0.001,
      lastEvaluation: '2026-01-01T00:00:01Z',
      rules: [
        { name: 'ns:errors:sum', query: 'sum by (namespace) (errors)', health: 'ok', type: 'recording' },
        { name: 'a:errors:sum', query: 'sum(errors{namespace="tenant-a"})', labels: { namespace: 'tenant-a' }, health: 'ok', type: 'recording' },
        {
          state: 'firing',
          name: 'Errors',
          query: 'errors > 5',
          duration: 0,
          labels: { severity: 'page' },
          annotations: {},
          alerts: [alert('tenant-a', 'pending'), alert('tenant-b', 'firing'), alert(undefined, 'firing')],
          health: 'ok',
          type: 'alerting',
        },
        {
          state: 'firing',
          name: 'Broken',
          query: 'a / on() b',
          duration: 0,
          labels: { namespace: 'tenant-a' },
          annotations: {},
          alerts: [],
          health: 'err',
          lastError: 'found duplicate series for the match group {namespace="tenant-b"}',
          type: 'alerting',
        },
      ],
    },
    {
      name: 'tenant-b',
      file: '/rules/b.yml',
      interval: 30,
      rules: [{ state: 'inactive', name: 'Quiet', query: 'x > 1', duration: 60, labels: { namespace: 'tenant-b' }, annotations: {}, alerts: [], health: 'ok', type: 'alerting' }],
    },
  ],
  groupNextToken: 'next',
});

const success = (data: unknown): JsonAnswer => ({ status: 200, body: { status: 'success', data } });

async function answered(path: string, params: Param[], matchers: readonly Matcher[], ...answers: JsonAnswer[]) {
  const decided = decide(path, params, matchers);
  assert.ok(decided.ok && decided.value.kind === 'answer', JSON.stringify(decided));
  const client = scripted(...answers);
  const answer = await decided.value.run(client);
  return { answer, asked: client.asked, data: (answer.body as { data: Record<string, unknown> }).data };
}

const names = (data: Record<string, unknown>) =>
  (data['groups'] as { name: string; rules: { name: string }[] }[]).map((g) => `${g.name}: ${g.rules.map((r) => r.name).join(', ')}`);

describe('/api/v1/rules', () => {
  it('shows rules by their labels or the alerts the tenant may see, with only those alerts, and the state worked out again', async () => {
    const { data, asked } = await answered('/api/v1/rules', [], A, success(rulesData()));
    assert.deepEqual(asked, [{ path: '/api/v1/rules', params: [] }]);
    assert.deepEqual(names(data), ['apps: a:errors:sum, Errors, Broken']);
    const [apps] = data['groups'] as { rules: Record<string, unknown>[]; limit: number; evaluationTime: number }[];
    // The group's own fields, and the upstream's pagination token, as written.
    assert.equal(apps!.limit, 0);
    assert.equal(apps!.evaluationTime, 0.001);
    assert.equal(data['groupNextToken'], 'next');
    const errors = apps!.rules[1]!;
    assert.deepEqual(errors['alerts'], [alert('tenant-a', 'pending')]);
    assert.equal(errors['state'], 'pending', 'the upstream said firing: that was tenant-b');
    assert.equal(errors['query'], 'errors > 5');
    // Shown by its labels: its state is what the tenant's alerts (none) make it, and its error is withheld.
    const broken = apps!.rules[2]!;
    assert.equal(broken['state'], 'inactive');
    assert.equal(broken['lastError'], WITHHELD);
    assert.equal(broken['health'], 'err');
  });

  it('shows a tenant of two namespaces both, and keeps a rule without alerts whose labels it may see', async () => {
    const { data } = await answered('/api/v1/rules', [], AB.slice(0, 1), success(rulesData()));
    assert.deepEqual(names(data), ['apps: a:errors:sum, Errors, Broken', 'tenant-b: Quiet']);
    const errors = (data['groups'] as { rules: Record<string, unknown>[] }[])[0]!.rules[1]!;
    assert.deepEqual(errors['alerts'], [alert('tenant-a', 'pending'), alert('tenant-b', 'firing')]);
    assert.equal(errors['state'], 'firing');
  });

  it('drops every group when nothing is the tenant’s', async () => {
    const { data } = await answered('/api/v1/rules', [], [{ name: 'namespace', type: '=', value: 'tenant-c' }], success(rulesData()));
    assert.deepEqual(data['groups'], []);
  });

  it('evaluates regular expressions and negative matchers as Prometheus does, a missing label being empty', async () => {
    const notKubeSystem: Matcher[] = [{ name: 'namespace', type: '!=', value: 'kube-system' }];
    const { data } = await answered('/api/v1/rules', [], notKubeSystem, success(rulesData()));
    // The recording rule without labels has namespace "", which is not kube-system; so has the alert without one.
    assert.deepEqual(names(data), ['apps: ns:errors:sum, a:errors:sum, Errors, Broken', 'tenant-b: Quiet']);
    const errors = (data['groups'] as { rules: Record<string, unknown>[] }[])[0]!.rules[2]!;
    assert.equal((errors['alerts'] as unknown[]).length, 3);
    const prefixed: Matcher[] = [{ name: 'namespace', type: '=~', value: 'tenant-.' }];
    assert.deepEqual(names((await answered('/api/v1/rules', [], prefixed, success(rulesData()))).data), ['apps: a:errors:sum, Errors, Broken', 'tenant-b: Quiet']);
  });

  it('asks with alerts whatever exclude_alerts says, and leaves them out itself', async () => {
    const { data, asked } = await answered('/api/v1/rules', [['exclude_alerts', 'TRUE'], ['rule_group[]', 'apps']], A, success(rulesData()));
    assert.deepEqual(asked[0]!.params, [['rule_group[]', 'apps']]);
    const errors = (data['groups'] as { rules: Record<string, unknown>[] }[])[0]!.rules[1]!;
    assert.equal(errors['alerts'], null);
    assert.equal(errors['state'], 'pending');
  });

  it('passes type, rule_name[], rule_group[], file[] and Mimir’s spellings on as given', () => {
    const params: Param[] = [['type', 'alert'], ['rule_name[]', 'Errors'], ['rule_group[]', 'apps'], ['file[]', '/rules/apps.yml'], ['rule_name', 'Errors'], ['group_limit', '10']];
    const decided = decide('/api/v1/rules', params, A);
    assert.ok(decided.ok && decided.value.kind === 'answer');
    const client = scripted(success({ groups: [] }));
    return decided.value.run(client).then(() => {
      assert.deepEqual(client.asked[0]!.params, [...params.slice(1), ['type', 'alert']]);
    });
  });

  it('checks match[] and sends it in canonical form: the tenant’s matchers join it only for recording rules', async () => {
    const alerting = await answered('/api/v1/rules', [['match[]', '{severity = "page"}']], A, success({ groups: [] }));
    assert.deepEqual(alerting.asked[0]!.params, [['match[]', '{severity="page"}']]);
    const recording = await answered('/api/v1/rules', [['type', 'record'], ['match[]', '{severity="page"}']], A, success({ groups: [] }));
    assert.deepEqual(recording.asked[0]!.params, [['match[]', '{namespace="tenant-a",severity="page"}'], ['type', 'record']]);
    const alone = await answered('/api/v1/rules', [['type', 'RECORD']], AB, success({ groups: [] }));
    assert.deepEqual(alone.asked[0]!.params, [['type', 'RECORD'], ['match[]', '{namespace=~"tenant-a|tenant-b",team="a \\"quoted\\" \\\\ value"}']]);
    assert.equal(refusal('/api/v1/rules', [['match[]', '{job=~".*"}']]), 'match[] must contain at least one non-empty matcher');
  });

  it('refuses exclude_alerts that is no boolean, and type or exclude_alerts given twice', () => {
    assert.equal(refusal('/api/v1/rules', [['exclude_alerts', 'yes']]), 'error converting exclude_alerts: strconv.ParseBool: parsing "yes": invalid syntax');
    assert.equal(refusal('/api/v1/rules', [['type', 'alert'], ['type', 'record']]), 'parameter "type" given more than once');
    assert.equal(refusal('/api/v1/rules', [['exclude_alerts', 'true'], ['exclude_alerts', 'false']]), 'parameter "exclude_alerts" given more than once');
  });

  it('passes an upstream error on, and refuses an answer it cannot read rather than pass it', async () => {
    const refused = { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'unsupported type "x"' } };
    assert.deepEqual((await answered('/api/v1/rules', [['type', 'x']], A, refused)).answer, refused);
    for (const data of [{ groups: {} }, { groups: [{ rules: [{ type: 'other', labels: {} }] }] }, { groups: [{ rules: [{ type: 'alerting', alerts: [{}] }] }] }]) {
      await assert.rejects(answered('/api/v1/rules', [], A, success(data)), /rule|alert/);
    }
  });

  it('streams the request of a tenant known by id, parameters as sent', () => {
    assert.deepEqual(sent('/api/v1/rules', [['exclude_alerts', 'true'], ['type', 'alert']], []), [['exclude_alerts', 'true'], ['type', 'alert']]);
  });

  it('filters just the same behind a path prefix (gateway mode’s labels routes), asking below it', async () => {
    const route = PROMETHEUS_ROUTES.find((r) => r.path === '/api/v1/rules')!;
    const mounted = mountedAt('/prometheus', route, { upstream: 'frontend' });
    assert.equal(mounted.path, '/prometheus/api/v1/rules');
    const cache = new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 4096 });
    const decided = mounted.handler({ principal: principalWith(A), path: mounted.path, method: 'GET', params: [], segments: [], cache });
    assert.ok(decided.ok && decided.value.kind === 'answer');
    const client = scripted(success(rulesData()));
    const answer = await decided.value.run(client);
    assert.equal(client.asked[0]!.path, '/prometheus/api/v1/rules');
    assert.deepEqual(names((answer.body as { data: Record<string, unknown> }).data), ['apps: a:errors:sum, Errors, Broken']);
  });
});

describe('/api/v1/alerts', () => {
  const alertsData = { alerts: [alert('tenant-a', 'firing'), alert('tenant-b', 'firing'), alert(undefined, 'pending')] };

  it('keeps only the alerts whose labels satisfy every matcher', async () => {
    assert.deepEqual((await answered('/api/v1/alerts', [], A, success(alertsData))).data, { alerts: [alert('tenant-a', 'firing')] });
    const both = await answered('/api/v1/alerts', [], [{ name: 'namespace', type: '=~', value: 'tenant-a|tenant-b' }, { name: 'alertname', type: '!~', value: 'Other|' }], success(alertsData));
    assert.deepEqual(both.data, { alerts: [alert('tenant-a', 'firing'), alert('tenant-b', 'firing')] });
  });

  it('refuses an answer without a list of alerts, and streams a tenant known by id', async () => {
    await assert.rejects(answered('/api/v1/alerts', [], A, success({ alerts: 'none' })), /alerts is not a list/);
    assert.deepEqual(sent('/api/v1/alerts', [], []), []);
  });
});
