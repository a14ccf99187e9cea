import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { A, principalWith } from '../../test/support/routes.js';
import type { Principal } from '../auth/types.js';
import { EnforcedCache } from '../enforce/params.js';
import { RouteTable } from '../routes/table.js';
import { parseGatewayConfig } from './load.js';
import { gatewayRoutes } from './routes.js';

const CONFIGS = fileURLToPath(new URL('../../configs/', import.meta.url));
const cache = new EnforcedCache({ maxBytes: 1 << 20, maxParamLength: 4096 });

function table(text: string, file = 'gw.yaml'): RouteTable {
  const config = parseGatewayConfig(text, file);
  assert.ok(config.ok, config.ok ? '' : config.error);
  const routes = gatewayRoutes(config.value);
  assert.ok(routes.ok, routes.ok ? '' : routes.error);
  return new RouteTable(routes.value);
}

const seed = (name: string): RouteTable => table(readFileSync(CONFIGS + name, 'utf8'), name);

function decide(t: RouteTable, path: string, principal: Principal, params: [string, string][] = []) {
  const match = t.find(path);
  assert.ok(match, `no route for ${path}`);
  return { route: match.route, decided: match.route.handler({ principal, path, params, segments: match.segments, cache }) };
}

const tenant = (tenantId: string): Principal => ({ ...principalWith([]), grant: { namespaces: [], labels: {}, tenantId } });

describe('gateway routes', () => {
  it('cortex-gateway: exact and prefix routes by whole segments, the longest match, anything else unmatched', () => {
    const t = seed('cortex-gateway/config.yaml');
    assert.equal(t.find('/prometheus/api/v1/query')?.route.upstream, 'query-frontend');
    assert.equal(t.find('/prometheus')?.route.upstream, 'query-frontend');
    assert.equal(t.find('/prometheusx/api/v1/query'), undefined);
    assert.equal(t.find('/api/v1/rules/ns/group')?.route.upstream, 'ruler');
    assert.equal(t.find('/api/v1/alerts')?.route.upstream, 'ruler');
    assert.equal(t.find('/api/v1/alerts/x'), undefined, 'an exact route matches only itself');
    assert.equal(t.find('/all_user_stats'), undefined, 'cortex-gateway serves it openly; promgate does not serve it at all');
    const push = t.find('/api/v1/push')!.route;
    assert.deepEqual([push.methods, push.body, push.enforcement, push.maxBodySize], [['POST'], 'raw', 'header', 16 * 1024 ** 2]);
  });

  it("auth-gateway: a path ending in / is a prefix that does not match itself without the slash, as Go's ServeMux", () => {
    const t = seed('auth-gateway/configuration.yaml');
    assert.equal(t.find('/prometheus/api/v1/label/job/values')?.route.path, '/prometheus/api/v1/label/');
    assert.equal(t.find('/prometheus/api/v1/label'), undefined);
    assert.equal(t.find('/alertmanager/api/v2/status')?.route.upstream, 'alertmanager');
    assert.equal(t.find('/alertmanager'), undefined);
  });

  it('a header route passes the whole path and re-encoded parameters; it refuses a credential with matchers', () => {
    const t = seed('cortex-gateway/config.yaml');
    const { decided } = decide(t, '/prometheus/api/v1/query', tenant('demo'), [['query', 'up{a="b c"}']]);
    assert.deepEqual(decided, { ok: true, value: { kind: 'stream', call: { path: '/prometheus/api/v1/query', params: 'query=up%7Ba%3D%22b%20c%22%7D' } } });
    const confined = decide(t, '/prometheus/api/v1/query', principalWith(A)).decided;
    assert.equal(confined.ok, false);
    assert.match(!confined.ok ? confined.error.message : '', /confined to \{namespace="tenant-a"\}, which .* cannot apply/);
  });

  it('a push goes to one tenant: a federated grant is refused', () => {
    const t = seed('cortex-gateway/config.yaml');
    assert.equal(decide(t, '/api/v1/push', tenant('a')).decided.ok, true);
    const federated = decide(t, '/api/v1/push', tenant('a|b')).decided;
    assert.equal(!federated.ok && federated.error.status, 403);
  });

  it('a labels route serves the query APIs below its prefix, enforced and moved below it, and refuses the rest', () => {
    const t = table('components: {p: {url: "http://p"}, q: {url: "http://q"}}\nroutes:\n  - {path: /, match: prefix, component: q, enforcement: header}\n  - {path: /plain, match: prefix, component: p, enforcement: labels}\n');
    const { route, decided } = decide(t, '/plain/api/v1/query', principalWith(A), [['query', 'up']]);
    assert.deepEqual([route.upstream, route.enforcement, route.body], ['p', 'labels', 'form']);
    assert.deepEqual(decided, { ok: true, value: { kind: 'stream', call: { path: '/plain/api/v1/query', params: 'query=up%7Bnamespace%3D%22tenant-a%22%7D' } } });
    const values = decide(t, '/plain/api/v1/label/job/values', principalWith(A)).decided;
    assert.equal(values.ok && values.value.kind === 'stream' && values.value.call.path, '/plain/api/v1/label/job/values');
    const other = decide(t, '/plain/api/v1/admin/tsdb/delete_series', principalWith(A)).decided;
    assert.deepEqual(!other.ok && [other.error.status, other.error.errorType], [404, 'not_found']);
    assert.equal(t.find('/elsewhere')?.route.upstream, 'q');
  });

  it('an exact labels route must be one of the query APIs', () => {
    const config = parseGatewayConfig('components: {p: {url: "http://p"}}\nroutes:\n  - {path: /x/api/v1/admin, component: p, enforcement: both}\n', 'gw.yaml');
    assert.ok(config.ok);
    const routes = gatewayRoutes(config.value);
    assert.match(routes.ok ? '' : routes.error, /^gw\.yaml:3: \/x\/api\/v1\/admin is not one of Prometheus's query APIs/);
    assert.ok(table('components: {p: {url: "http://p"}}\nroutes:\n  - {path: /x/api/v1/query, component: p, enforcement: both}\n').find('/x/api/v1/query'));
  });
});
