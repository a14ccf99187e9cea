// Rules, alerts and Alertmanager silences per tenant, against real parts: Prometheus 2.42 servers evaluating the same
// rules every second (test/support/alerting.ts), the shared one on every tenant's series and sending its alerts to a
// real Alertmanager 0.25, each tenant's own on its series only. What a tenant gets of /api/v1/rules and
// /api/v1/alerts through promgate must be what its own server gives (timestamps and durations aside), and of
// Alertmanager's alerts what its own server fires. Then silences, refusals, the redacted status, the requests
// Grafana's Prometheus and Alertmanager data sources send, and the same behind path prefixes, in gateway mode and
// through k8spin mode's endpoint flags.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Matcher } from 'promql-parser-wasm';
import { parse as parseYaml } from 'yaml';
import { labelSetTest } from '../src/enforce/label-set.js';
import { tenantAlerts, tenantRules } from '../src/enforce/rules.js';
import {
  alertingSeries,
  alertmanagerConfig,
  QUEUE_FOR_SECONDS,
  startExposition,
  startRulesPrometheus,
  TEAM_B_TOKEN,
  writeRules,
  type Exposition,
} from './support/alerting.js';
import { startAlertmanager, type AlertmanagerServer } from './support/alertmanager.js';
import { basicAuth, startGateway, type Gateway } from './support/gateway.js';
import type { PromServer } from './support/prometheus.js';
import type { Labels } from './support/tenant-data.js';

type Json = any;

interface Tenant {
  /** The exposition subset its own server scrapes. */
  readonly id: string;
  /** Its user in the users file; none for matchers no users file grant makes (checked through the filter itself). */
  readonly user?: string;
  readonly matchers: Matcher[];
  /** What its own server holds: the series these matchers select. */
  readonly owns: (labels: Labels) => boolean;
}

const TENANTS: Readonly<Record<string, Tenant>> = {
  'one namespace': { id: 'a', user: 'alice', matchers: [{ name: 'namespace', type: '=', value: 'tenant-a' }], owns: (l) => l['namespace'] === 'tenant-a' },
  'two namespaces': {
    id: 'ab',
    user: 'carol',
    matchers: [{ name: 'namespace', type: '=~', value: 'tenant-a|tenant-b' }],
    owns: (l) => l['namespace'] === 'tenant-a' || l['namespace'] === 'tenant-b',
  },
  'a label': { id: 'america', user: 'dave', matchers: [{ name: 'team', type: '=', value: 'america' }], owns: (l) => l['team'] === 'america' },
  'namespace!=': {
    id: 'not-kube-system',
    matchers: [{ name: 'namespace', type: '!=', value: 'kube-system' }, { name: 'namespace', type: '!=', value: '' }],
    owns: (l) => l['namespace'] !== undefined && l['namespace'] !== '' && l['namespace'] !== 'kube-system',
  },
};

const USERS = `users:
  - {username: alice, password: alice-pw, namespace: tenant-a}
  - {username: bob, password: bob-pw, namespace: tenant-b}
  - {username: carol, password: carol-pw, namespaces: [tenant-a, tenant-b]}
  - {username: dave, password: dave-pw, labels: {team: america}}
`;
const as = (user: string) => basicAuth(user, `${user}-pw`);

async function getJson(url: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  let body: Json = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` (a sentence when it fails) until it passes, for what two servers evaluating apart settle on. */
async function eventually(what: string, check: () => Promise<string | null>, seconds = 30): Promise<void> {
  let failure: string | null = null;
  for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; await sleep(500)) {
    failure = await check();
    if (failure === null) return;
  }
  assert.fail(`${what}: ${failure}`);
}

/** Stable JSON: object keys sorted, so that two answers compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

const differs = (got: unknown, want: unknown): string | null => {
  const [g, w] = [canonical(got), canonical(want)];
  return g === w ? null : `got ${g.slice(0, 1500)}\n want ${w.slice(0, 1500)}`;
};

const omit = (object: Json, ...keys: string[]): Json => Object.fromEntries(Object.entries(object).filter(([k]) => !keys.includes(k)));
const byLabels = (a: Json, b: Json) => (canonical(a.labels) < canonical(b.labels) ? -1 : 1);
const comparableAlerts = (alerts: Json[] | null) => (alerts === null ? null : [...alerts].sort(byLabels).map((a) => omit(a, 'activeAt')));

/** A rules answer's data without what differs between two servers evaluating apart: times and alert order. */
const comparableRules = (data: Json) =>
  data.groups.map((g: Json) => ({
    ...omit(g, 'evaluationTime', 'lastEvaluation'),
    rules: g.rules.map((r: Json) => ({ ...omit(r, 'evaluationTime', 'lastEvaluation'), ...('alerts' in r && { alerts: comparableAlerts(r.alerts) }) })),
  }));

/**
 * What a tenant's own server shows that the tenant sees: every alert there is the tenant's, so an alerting rule
 * with alerts is shown, and any rule whose labels it owns; groups left empty go.
 */
const ownView = (data: Json, owns: (labels: Labels) => boolean) => ({
  ...data,
  groups: data.groups
    .map((g: Json) => ({ ...g, rules: g.rules.filter((r: Json) => owns(r.labels ?? {}) || (r.type === 'alerting' && r.alerts.length > 0)) }))
    .filter((g: Json) => g.rules.length > 0),
});

describe('rules, alerts and silences per tenant, against Prometheus 2.42 and Alertmanager 0.25', () => {
  let exposition: Exposition;
  let alertmanager: AlertmanagerServer;
  let prefixedAlertmanager: AlertmanagerServer;
  let shared: PromServer;
  let prefixed: PromServer;
  const own: Record<string, PromServer> = {};
  let gateway: Gateway;
  let gatewayMode: Gateway;
  /** k8spin mode with endpoints that have path prefixes. */
  let prefixedEndpoints: Gateway;

  /** The data of an API answer, which must be a success. */
  const data = async (url: string, headers?: Record<string, string>): Promise<Json> => {
    const { status, body } = await getJson(url, headers);
    assert.equal(status, 200, `${url}: ${JSON.stringify(body).slice(0, 500)}`);
    return body.data;
  };

  /** The state of QueueStuck's alert for a namespace on a server, if it has one. */
  const queueState = async (server: PromServer, namespace: string): Promise<string | undefined> => {
    const { alerts } = await data(`${server.url}/api/v1/alerts`);
    return alerts.find((a: Json) => a.labels.alertname === 'QueueStuck' && a.labels.namespace === namespace)?.state;
  };

  /** A tenant's rules through promgate, or for a tenant without a user, the shared server's filtered as promgate filters. */
  const tenantRulesView = async (tenant: Tenant, query = ''): Promise<Json> => {
    if (tenant.user !== undefined) return data(`${gateway.base}/api/v1/rules${query}`, as(tenant.user));
    const filtered = tenantRules(await data(`${shared.url}/api/v1/rules${query}`), labelSetTest(tenant.matchers), { excludeAlerts: false });
    assert.ok(filtered.ok);
    return filtered.value;
  };

  const tenantAlertsView = async (tenant: Tenant): Promise<Json> => {
    if (tenant.user !== undefined) return data(`${gateway.base}/api/v1/alerts`, as(tenant.user));
    const filtered = tenantAlerts(await data(`${shared.url}/api/v1/alerts`), labelSetTest(tenant.matchers));
    assert.ok(filtered.ok);
    return filtered.value;
  };

  before(async () => {
    const tenants = Object.values(TENANTS);
    exposition = await startExposition(alertingSeries(), Object.fromEntries(tenants.map((t) => [t.id, t.owns])));
    const rules = writeRules();
    [alertmanager, prefixedAlertmanager] = await Promise.all([
      startAlertmanager(alertmanagerConfig(exposition.url)),
      startAlertmanager(alertmanagerConfig(exposition.url), { routePrefix: '/alertmanager' }),
    ]);
    const servers = await Promise.all([
      startRulesPrometheus(exposition, 'all', rules, { alertmanager }),
      startRulesPrometheus(exposition, 'all', rules, { alertmanager: prefixedAlertmanager, routePrefix: '/prometheus' }),
      ...tenants.map((t) => startRulesPrometheus(exposition, t.id, rules)),
    ]);
    [shared, prefixed] = servers as [PromServer, PromServer];
    tenants.forEach((t, i) => (own[t.id] = servers[i + 2]!));
    gateway = await startGateway({ upstream: shared.url, authConfig: USERS, args: ['--alertmanager-endpoint', alertmanager.url] });

    // Gateway mode: a plain Prometheus and an Alertmanager below their prefixes, enforced by label.
    const dir = mkdtempSync(join(tmpdir(), 'promgate-alerting-gw-'));
    writeFileSync(join(dir, 'users.yaml'), USERS);
    writeFileSync(
      join(dir, 'gateway.yaml'),
      [
        'auth:',
        '  users_file: users.yaml',
        'components:',
        `  prometheus: {url: "${new URL(prefixed.url).origin}"}`,
        `  alertmanager: {url: "${new URL(prefixedAlertmanager.url).origin}"}`,
        'routes:',
        '  - {path: /prometheus, match: prefix, component: prometheus, enforcement: labels}',
        '  - {path: /alertmanager, match: prefix, component: alertmanager, enforcement: labels}',
      ].join('\n'),
    );
    gatewayMode = await startGateway({ args: ['--config', join(dir, 'gateway.yaml')] });
    prefixedEndpoints = await startGateway({
      upstream: `${prefixed.url}/prometheus`,
      authConfig: USERS,
      args: ['--alertmanager-endpoint', prefixedAlertmanager.url],
    });

    // tenant-b's queue is stuck from the start: once QueueStuck fires for it everywhere, tenant-a's fills up, so
    // that the rule is firing (tenant-b) and pending (tenant-a) at once on the shared server.
    const holdingB = [shared, own['ab']!, own['america']!, own['not-kube-system']!];
    await eventually('QueueStuck firing for tenant-b', async () => {
      const states = await Promise.all(holdingB.map((s) => queueState(s, 'tenant-b')));
      return states.every((s) => s === 'firing') ? null : `states ${states.join(', ')}`;
    }, 3 * QUEUE_FOR_SECONDS);
    exposition.series.find((s) => s.name === 'app_queue_depth' && s.labels['namespace'] === 'tenant-a')!.value = 500;
    await eventually('QueueStuck pending for tenant-a', async () => {
      const states = await Promise.all([shared, own['a']!].map((s) => queueState(s, 'tenant-a')));
      return states.every((s) => s === 'pending') ? null : `states ${states.join(', ')}`;
    });
  });

  after(async () => {
    await Promise.all([gateway?.stop(), gatewayMode?.stop(), prefixedEndpoints?.stop()]);
    await Promise.all([shared, prefixed, ...Object.values(own)].map((s) => s?.stop()));
    await Promise.all([alertmanager?.stop(), prefixedAlertmanager?.stop(), exposition?.close()]);
  });

  it("works out a rule's state from the tenant's alerts: QueueStuck is pending for alice while the shared server says firing", async () => {
    const rule = (d: Json) => d.groups.flatMap((g: Json) => g.rules).find((r: Json) => r.name === 'QueueStuck');
    const [mine, all] = await Promise.all([data(`${gateway.base}/api/v1/rules`, as('alice')), data(`${shared.url}/api/v1/rules`)]);
    assert.equal(rule(all).state, 'firing');
    assert.equal(rule(mine).state, 'pending');
    assert.deepEqual(rule(mine).alerts.map((a: Json) => `${a.labels.namespace} ${a.state}`), ['tenant-a pending']);
  });

  describe("/api/v1/rules and /api/v1/alerts: a tenant's own server's answer", () => {
    for (const [name, tenant] of Object.entries(TENANTS)) {
      it(`${name} (${tenant.user ?? tenant.matchers.map((m) => `${m.name}${m.type}"${m.value}"`).join(',')}): rules`, async () => {
        await eventually('rules', async () => {
          const [got, want] = await Promise.all([tenantRulesView(tenant), data(`${own[tenant.id]!.url}/api/v1/rules`)]);
          return differs(comparableRules(got), comparableRules(ownView(want, tenant.owns)));
        });
      });

      it(`${name}: alerts`, async () => {
        await eventually('alerts', async () => {
          const [got, want] = await Promise.all([tenantAlertsView(tenant), data(`${own[tenant.id]!.url}/api/v1/alerts`)]);
          return differs(comparableAlerts(got.alerts), comparableAlerts(want.alerts));
        });
      });
    }

    it('shows each tenant something, and no tenant the series without a namespace or kube-system', async () => {
      for (const tenant of Object.values(TENANTS)) {
        const alerts = (await tenantAlertsView(tenant)).alerts as Json[];
        assert.ok(alerts.length >= 2, JSON.stringify(tenant.matchers));
        for (const a of alerts) assert.ok(tenant.owns(a.labels), JSON.stringify(a.labels));
        const rules = canonical(await tenantRulesView(tenant));
        assert.doesNotMatch(rules, /kube-system|node-exporter|NodeErrors|cluster:app_errors/);
      }
    });

    it('answers POST as GET, and with type and the rule filters (2.42 ignores rule_group[] and rule_name[]) as the tenant’s own server', async () => {
      const post = await getJson(`${gateway.base}/api/v1/rules`, { ...as('alice'), 'content-type': 'application/x-www-form-urlencoded' }, { method: 'POST', body: 'type=alert' });
      assert.equal(post.status, 200);
      assert.deepEqual(post.body.data.groups.flatMap((g: Json) => g.rules.map((r: Json) => r.type)), ['alerting', 'alerting']);
      const alerts = await getJson(`${gateway.base}/api/v1/alerts`, { ...as('alice'), 'content-type': 'application/x-www-form-urlencoded' }, { method: 'POST', body: '' });
      assert.equal(alerts.status, 200);
      const tenant = TENANTS['two namespaces']!;
      for (const query of ['?type=record', '?rule_group[]=apps', '?rule_name[]=AppErrors', '?type=alert&rule_name[]=TenantBQuiet']) {
        await eventually(query, async () => {
          const [got, want] = await Promise.all([tenantRulesView(tenant, query), data(`${own['ab']!.url}/api/v1/rules${query}`)]);
          return differs(comparableRules(got), comparableRules(ownView(want, tenant.owns)));
        });
      }
    });

    it('leaves alerts out for exclude_alerts, with the state still the tenant’s own', async () => {
      const d = await data(`${gateway.base}/api/v1/rules?exclude_alerts=true`, as('alice'));
      const rules = d.groups.flatMap((g: Json) => g.rules);
      assert.deepEqual(rules.map((r: Json) => [r.name, 'alerts' in r ? r.alerts : 'none']), [['tenant_a:app_errors:sum', 'none'], ['AppErrors', null], ['QueueStuck', null]]);
      assert.deepEqual(rules.map((r: Json) => r.state), [undefined, 'firing', 'pending']);
    });
  });

  describe("Alertmanager's alerts: what the tenant's own server fires", () => {
    const firing = async (server: PromServer) =>
      ((await data(`${server.url}/api/v1/alerts`)).alerts as Json[]).filter((a) => a.state === 'firing').map((a) => canonical(a.labels)).sort();

    for (const [name, tenant] of Object.entries(TENANTS)) {
      if (tenant.user === undefined) continue;
      it(`${name} (${tenant.user}): /api/v2/alerts and /api/v2/alerts/groups`, async () => {
        await eventually('alerts', async () => {
          const [alerts, groups, want] = await Promise.all([
            getJson(`${gateway.base}/api/v2/alerts`, as(tenant.user!)),
            getJson(`${gateway.base}/api/v2/alerts/groups`, as(tenant.user!)),
            firing(own[tenant.id]!),
          ]);
          assert.equal(alerts.status, 200);
          assert.equal(groups.status, 200);
          const inGroups = (groups.body as Json[]).flatMap((g) => g.alerts).map((a: Json) => canonical(a.labels)).sort();
          return differs(alerts.body.map((a: Json) => canonical(a.labels)).sort(), want) ?? differs(inGroups, want);
        });
      });
    }
  });

  describe('Alertmanager: silences against the real Alertmanager', () => {
    const silencePayload = (matchers: Json[], extra: Json = {}) => ({
      matchers,
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'maintenance',
      ...extra,
    });
    const post = (user: string, body: unknown) =>
      getJson(`${gateway.base}/api/v2/silences`, { ...as(user), 'content-type': 'application/json' }, { method: 'POST', body: JSON.stringify(body) });
    const appErrors = { name: 'alertname', value: 'AppErrors', isRegex: false, isEqual: true };
    /** `alertname/namespace` of every alert Alertmanager itself says the silence mutes. */
    const mutedBy = async (id: string): Promise<string[]> => {
      const { body } = await getJson(`${alertmanager.url}/api/v2/alerts?silenced=true&active=false&inhibited=false`);
      return (body as Json[]).filter((a) => a.status.silencedBy.includes(id)).map((a) => `${a.labels.alertname}/${a.labels.namespace ?? ''}`).sort();
    };
    const upstreamSilence = async (id: string) => (await getJson(`${alertmanager.url}/api/v2/silence/${id}`)).body;
    let alices: string;

    it('alice creates a silence: it carries her namespace, and she sees it; bob does not', async () => {
      const created = await post('alice', silencePayload([appErrors]));
      assert.equal(created.status, 200, JSON.stringify(created.body));
      alices = created.body.silenceID;
      assert.deepEqual((await upstreamSilence(alices)).matchers, [{ name: 'namespace', value: 'tenant-a', isRegex: false, isEqual: true }, appErrors]);
      const mine = await getJson(`${gateway.base}/api/v2/silences`, as('alice'));
      assert.ok((mine.body as Json[]).some((s) => s.id === alices));
      const bobs = await getJson(`${gateway.base}/api/v2/silences`, as('bob'));
      assert.equal(bobs.status, 200);
      assert.equal((bobs.body as Json[]).some((s) => s.id === alices), false);
      assert.equal((await getJson(`${gateway.base}/api/v2/silence/${alices}`, as('alice'))).body.id, alices);
    });

    it("mutes only tenant-a's alerts, as Alertmanager's own /api/v2/alerts?silenced=true shows", async () => {
      assert.deepEqual(await mutedBy(alices), ['AppErrors/tenant-a']);
    });

    it('bob cannot read it by id (404), update it, expire or delete it (403)', async () => {
      assert.equal((await getJson(`${gateway.base}/api/v2/silence/${alices}`, as('bob'))).status, 404);
      const update = await post('bob', silencePayload([appErrors], { id: alices, comment: 'mine now' }));
      assert.equal(update.status, 403);
      const deleted = await getJson(`${gateway.base}/api/v2/silence/${alices}`, as('bob'), { method: 'DELETE' });
      assert.equal(deleted.status, 403);
      const still = await upstreamSilence(alices);
      assert.equal(still.status.state, 'active');
      assert.equal(still.comment, 'maintenance');
    });

    it('alice updates and then expires her own', async () => {
      const update = await post('alice', silencePayload([appErrors], { id: alices, comment: 'longer' }));
      assert.equal(update.status, 200, JSON.stringify(update.body));
      alices = update.body.silenceID;
      assert.equal((await upstreamSilence(alices)).comment, 'longer');
      const expired = await getJson(`${gateway.base}/api/v2/silence/${alices}`, as('alice'), { method: 'DELETE' });
      assert.equal(expired.status, 200);
      assert.equal((await upstreamSilence(alices)).status.state, 'expired');
    });

    it("carol's silence (two namespaces, one =~ matcher) mutes both of her namespaces and nothing else", async () => {
      const created = await post('carol', silencePayload([appErrors]));
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = created.body.silenceID;
      assert.deepEqual((await upstreamSilence(id)).matchers[0], { name: 'namespace', value: 'tenant-a|tenant-b', isRegex: true, isEqual: true });
      assert.deepEqual(await mutedBy(id), ['AppErrors/tenant-a', 'AppErrors/tenant-b']);
      // Narrowed to one of them by the caller's own equality.
      const narrowed = await post('carol', silencePayload([{ ...appErrors, name: 'namespace', value: 'tenant-b' }, appErrors]));
      assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
      assert.deepEqual(await mutedBy(narrowed.body.silenceID), ['AppErrors/tenant-b']);
      // alice does not see carol's silences: they mute tenant-b's alerts too.
      const alicesView = (await getJson(`${gateway.base}/api/v2/silences`, as('alice'))).body as Json[];
      assert.equal(alicesView.some((s) => s.id === id || s.id === narrowed.body.silenceID), false);
      for (const s of [id, narrowed.body.silenceID]) assert.equal((await getJson(`${gateway.base}/api/v2/silence/${s}`, as('carol'), { method: 'DELETE' })).status, 200);
    });

    it('refuses bad input with 4xx in Prometheus’s error shape, forwarding nothing', async () => {
      const count = async () => ((await getJson(`${alertmanager.url}/api/v2/silences`)).body as Json[]).length;
      const before = await count();
      const json = { ...as('alice'), 'content-type': 'application/json' };
      const cases: [string, Promise<{ status: number; body: Json }>, number][] = [
        ['malformed JSON', getJson(`${gateway.base}/api/v2/silences`, json, { method: 'POST', body: '{"matchers": [' }), 400],
        ['no matchers', post('alice', silencePayload([])), 400],
        ['only the tenant’s matchers', post('alice', silencePayload([{ ...appErrors, name: 'namespace', value: 'tenant-a' }])), 400],
        ['a contradicting matcher', post('alice', silencePayload([{ ...appErrors, name: 'namespace', value: 'tenant-b' }, appErrors])), 400],
        ['an id that is not a UUID (body)', post('alice', silencePayload([appErrors], { id: '../../-/reload' })), 400],
        ['an id that is not a UUID (GET)', getJson(`${gateway.base}/api/v2/silence/not-a-uuid`, as('alice')), 400],
        ['an id that is not a UUID (DELETE)', getJson(`${gateway.base}/api/v2/silence/not-a-uuid`, as('alice'), { method: 'DELETE' }), 400],
        ['a body over the limit', getJson(`${gateway.base}/api/v2/silences`, json, { method: 'POST', body: JSON.stringify(silencePayload([appErrors], { comment: 'x'.repeat(2 * 1024 * 1024) })) }), 413],
        ['a body that is not JSON', getJson(`${gateway.base}/api/v2/silences`, { ...as('alice'), 'content-type': 'text/plain' }, { method: 'POST', body: 'x' }), 415],
      ];
      for (const [what, answer, status] of cases) {
        const { status: got, body } = await answer;
        assert.equal(got, status, `${what}: ${JSON.stringify(body)}`);
        assert.equal(body.status, 'error', what);
        assert.equal(typeof body.error, 'string', what);
      }
      assert.equal(await count(), before);
    });
  });

  describe('Alertmanager: everything else', () => {
    it('refuses pushed alerts with 403, and answers 404 to every other path (receivers, reload, the v1 API)', async () => {
      const pushed = await getJson(`${gateway.base}/api/v2/alerts`, { ...as('alice'), 'content-type': 'application/json' }, { method: 'POST', body: '[{"labels":{"alertname":"Fake"}}]' });
      assert.equal(pushed.status, 403);
      for (const [method, path] of [
        ['GET', '/api/v2/receivers'],
        ['POST', '/-/reload'],
        ['GET', '/api/v1/silences'],
        ['GET', '/api/v1/status'],
        ['GET', '/api/v1/receivers'],
        ['GET', '/alertmanager/api/v2/status'],
        ['GET', '/api/v2/silence'],
        ['GET', '/api/v2/alerts/groups/x'],
      ] as const) {
        const { status } = await getJson(`${gateway.base}${path}`, as('alice'), { method });
        assert.equal(status, 404, `${method} ${path}`);
      }
      // Alertmanager's v1 push goes to Prometheus's /api/v1/alerts route, which takes no JSON.
      const v1 = await getJson(`${gateway.base}/api/v1/alerts`, { ...as('alice'), 'content-type': 'application/json' }, { method: 'POST', body: '[]' });
      assert.equal(v1.status, 415);
      const { body } = await getJson(`${alertmanager.url}/api/v2/alerts?filter=alertname="Fake"`);
      assert.deepEqual(body, []);
    });

    it("redacts the status's configuration: neither the other tenant's receiver nor its webhook token reaches alice", async () => {
      const upstream = await getJson(`${alertmanager.url}/api/v2/status`);
      assert.match(upstream.body.config.original, /team-b-pager/);
      assert.ok(upstream.body.config.original.includes(TEAM_B_TOKEN));
      const { status, body } = await getJson(`${gateway.base}/api/v2/status`, as('alice'));
      assert.equal(status, 200);
      const text = JSON.stringify(body);
      assert.equal(text.includes('team-b'), false);
      assert.equal(text.includes(TEAM_B_TOKEN), false);
      assert.deepEqual(omit(body, 'config'), omit(upstream.body, 'config'));
      assert.equal(body.versionInfo.version, '0.25.0');
      assert.ok(parseYaml(body.config.original).route.receiver);
    });
  });

  describe("Grafana's requests, as its Prometheus and Alertmanager data sources send them", () => {
    interface Replayed {
      readonly what: string;
      readonly method?: string;
      readonly path: string;
      readonly body?: unknown;
      /** The status Grafana gets, which must be a 2xx or the 4xx it expects. */
      readonly status: number;
      readonly check?: (body: Json) => void;
    }
    const onlyTenantA = (body: Json) => assert.doesNotMatch(canonical(body), /tenant-b|kube-system|node-exporter/);

    // public/app/features/alerting/unified/api/buildInfo.ts, prometheus.ts, prometheusApi.ts, alertmanager.ts,
    // alertSilencesApi.ts and plugins/datasource/alertmanager/DataSource.ts: paths and parameters as they send them.
    const prometheus: Replayed[] = [
      { what: 'feature discovery: buildinfo', path: '/api/v1/status/buildinfo', status: 200, check: (b) => assert.equal(b.data.version, '2.42.0+ds') },
      { what: 'feature discovery: Thanos flags (404 means not Thanos)', path: '/api/v1/status/flags', status: 404 },
      { what: 'Save & test', path: '/api/v1/query?query=1%2B1&time=1767225600', status: 200 },
      { what: 'alert list panel: rules', path: '/api/v1/rules', status: 200, check: onlyTenantA },
      // Prometheus 2.42 has no rule_name[], rule_group[] or file[] yet (it answers every rule): what counts is that
      // the answer is the tenant's.
      {
        what: 'rule view: one rule',
        path: '/api/v1/rules?file=' + encodeURIComponent('x') + '&rule_group=apps&rule_group%5B%5D=apps&rule_name=AppErrors&rule_name%5B%5D=AppErrors',
        status: 200,
        check: (b) => {
          onlyTenantA(b);
          assert.ok(b.data.groups.flatMap((g: Json) => g.rules.map((r: Json) => r.name)).includes('AppErrors'));
        },
      },
      { what: 'rule list: a page of groups without alerts', path: '/api/v1/rules?exclude_alerts=true&group_limit=40', status: 200, check: onlyTenantA },
      { what: 'alerts', path: '/api/v1/alerts', status: 200, check: onlyTenantA },
    ];
    const alertmanagerRequests: Replayed[] = [
      { what: 'health check: Mimir’s path must not answer 200', path: '/alertmanager/api/v2/status', status: 404 },
      { what: 'health check: status', path: '/api/v2/status', status: 200 },
      { what: 'silences page', path: '/api/v2/silences?ruleMetadata=true&accesscontrol=true', status: 200, check: onlyTenantA },
      {
        what: 'silence editor: affected alerts',
        path: '/api/v2/alerts?silenced=true&active=true&inhibited=true&filter=' + encodeURIComponent('alertname="AppErrors"'),
        status: 200,
        check: (b) => {
          onlyTenantA(b);
          assert.ok(b.length > 0);
        },
      },
      { what: 'alert groups', path: '/api/v2/alerts/groups', status: 200, check: onlyTenantA },
    ];

    const replay = async (base: string, requests: readonly Replayed[]) => {
      for (const r of requests) {
        const headers: Record<string, string> = { ...as('alice'), ...(r.body !== undefined && { 'content-type': 'application/json' }) };
        const { status, body } = await getJson(`${base}${r.path}`, headers, { method: r.method ?? 'GET', ...(r.body !== undefined && { body: JSON.stringify(r.body) }) });
        assert.equal(status, r.status, `${r.what}: ${JSON.stringify(body).slice(0, 300)}`);
        r.check?.(body);
      }
    };

    it('the Prometheus data source: feature discovery, Save & test, the alert list panel and the rule view', () => replay(gateway.base, prometheus));

    it('the Alertmanager data source: its health check passes, the silences page lists, creates and expires', async () => {
      await replay(gateway.base, alertmanagerRequests);
      // DataSource.testDatasource (Prometheus implementation): success when the Mimir path is not 200 and /api/v2/status is.
      const mimir = await getJson(`${gateway.base}/alertmanager/api/v2/status`, as('alice'));
      const vanilla = await getJson(`${gateway.base}/api/v2/status`, as('alice'));
      assert.ok(mimir.status !== 200 && vanilla.status === 200, 'Save & test would fail');
      // feature discovery on the Alertmanager data source's URL: buildinfo, not Mimir.
      const build = await getJson(`${gateway.base}/api/v1/status/buildinfo`, as('alice'));
      assert.notEqual(build.body.data.application, 'Grafana Mimir');
      // createSilence, getSilence (with Grafana's parameters), expireSilence.
      const payload = { matchers: [{ name: 'alertname', value: 'AppErrors', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString(), createdBy: 'alice', comment: 'from Grafana' };
      const created = await getJson(`${gateway.base}/api/v2/silences`, { ...as('alice'), 'content-type': 'application/json' }, { method: 'POST', body: JSON.stringify(payload) });
      assert.equal(created.status, 200);
      const id = created.body.silenceID;
      const read = await getJson(`${gateway.base}/api/v2/silence/${id}?ruleMetadata=true&accesscontrol=true`, as('alice'));
      assert.equal(read.status, 200);
      // Editing sends the silence back with the tenant's own matcher in it.
      const edited = await getJson(`${gateway.base}/api/v2/silences`, { ...as('alice'), 'content-type': 'application/json' }, { method: 'POST', body: JSON.stringify({ ...payload, id, matchers: read.body.matchers }) });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.equal((await getJson(`${gateway.base}/api/v2/silence/${edited.body.silenceID}`, as('alice'), { method: 'DELETE' })).status, 200);
    });
  });

  describe('behind a path prefix (gateway mode, labels routes): filtered just the same', () => {
    it('the prefixed upstream holds other tenants’ rules and alerts (the test would see a skipped filter)', async () => {
      const all = canonical(await data(`${prefixed.url}/prometheus/api/v1/rules`));
      assert.match(all, /tenant-b/);
      assert.match(all, /kube-system/);
      await eventually('alerts in the prefixed Alertmanager', async () => {
        const { body } = await getJson(`${prefixedAlertmanager.url}/api/v2/alerts`);
        return canonical(body).includes('kube-system') ? null : canonical(body).slice(0, 300);
      });
    });

    for (const [where, base] of [
      ['gateway mode, below /prometheus', () => `${gatewayMode.base}/prometheus`],
      ['k8spin mode, --prometheus-endpoint with a path prefix', () => prefixedEndpoints.base],
    ] as const) {
      it(`alice's rules and alerts are her own server's (${where})`, async () => {
        const tenant = TENANTS['one namespace']!;
        await eventually('rules', async () => {
          const [got, want] = await Promise.all([data(`${base()}/api/v1/rules`, as('alice')), data(`${own['a']!.url}/api/v1/rules`)]);
          return differs(comparableRules(got), comparableRules(ownView(want, tenant.owns)));
        });
        await eventually('alerts', async () => {
          const [got, want] = await Promise.all([data(`${base()}/api/v1/alerts`, as('alice')), data(`${own['a']!.url}/api/v1/alerts`)]);
          return differs(comparableAlerts(got.alerts), comparableAlerts(want.alerts));
        });
      });
    }

    it("alice's Alertmanager through an --alertmanager-endpoint with a path prefix: her alerts, her status redacted", async () => {
      await eventually('alerts', async () => {
        const { status, body } = await getJson(`${prefixedEndpoints.base}/api/v2/alerts`, as('alice'));
        return status !== 200 ? `status ${status}` : differs([...new Set((body as Json[]).map((a) => a.labels.namespace))], ['tenant-a']);
      });
      const status = await getJson(`${prefixedEndpoints.base}/api/v2/status`, as('alice'));
      assert.equal(status.status, 200);
      assert.equal(JSON.stringify(status.body).includes(TEAM_B_TOKEN), false);
    });

    it("alice's Alertmanager below /alertmanager: her alerts, her silences, the redacted status, no other path", async () => {
      const base = `${gatewayMode.base}/alertmanager`;
      await eventually('alerts', async () => {
        const { status, body } = await getJson(`${base}/api/v2/alerts`, as('alice'));
        if (status !== 200) return `status ${status}`;
        const namespaces = [...new Set((body as Json[]).map((a) => a.labels.namespace))];
        return differs(namespaces, ['tenant-a']);
      });
      const created = await getJson(`${base}/api/v2/silences`, { ...as('alice'), 'content-type': 'application/json' }, {
        method: 'POST',
        body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'AppErrors', isRegex: false }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString(), createdBy: 'a', comment: 'c' }),
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = created.body.silenceID;
      assert.equal((await getJson(`${prefixedAlertmanager.url}/api/v2/silence/${id}`)).body.matchers[0].value, 'tenant-a');
      assert.equal((await getJson(`${base}/api/v2/silence/${id}`, as('bob'), { method: 'DELETE' })).status, 403);
      assert.equal((await getJson(`${base}/api/v2/silence/${id}`, as('alice'), { method: 'DELETE' })).status, 200);
      const status = await getJson(`${base}/api/v2/status`, as('alice'));
      assert.equal(status.status, 200);
      assert.equal(JSON.stringify(status.body).includes(TEAM_B_TOKEN), false);
      // Grafana's health check against the data source URL ${base}: Mimir's path is not 200, the vanilla one is.
      assert.equal((await getJson(`${base}/alertmanager/api/v2/status`, as('alice'))).status, 404);
      for (const path of ['/api/v2/receivers', '/-/reload', '/api/v1/alerts']) {
        assert.equal((await getJson(`${base}${path}`, as('alice'), { method: path === '/-/reload' ? 'POST' : 'GET' })).status, 404, path);
      }
    });
  });
});
