import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from './config.js';
import { parseGatewayConfig } from './load.js';

const CONFIGS = fileURLToPath(new URL('../../configs/', import.meta.url));

function load(name: string): GatewayConfig {
  const parsed = parseGatewayConfig(readFileSync(CONFIGS + name, 'utf8'), name);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

function refusal(text: string): string {
  const parsed = parseGatewayConfig(text, 'gw.yaml');
  assert.equal(parsed.ok, false, 'should be refused');
  return (parsed as { error: string }).error;
}

const routesOf = (config: GatewayConfig) => config.routes.map((r) => `${r.match} ${r.path} → ${r.component} (${r.enforcement})`);

describe('gateway configuration: the seed shapes load unchanged', () => {
  it("cortex-gateway's config.yaml: secret, basic users, exact and prefix routes to named targets", () => {
    const config = load('cortex-gateway/config.yaml');
    assert.equal(config.shape, 'cortex-gateway');
    assert.deepEqual(config.jwt, { secret: 'test' });
    assert.deepEqual(
      config.tenants.map((t) => [t.username, t.tenantIds, t.passthrough]),
      [['demo', ['demo'], false], ['ops', ['ops'], false]],
    );
    assert.deepEqual(routesOf(config), [
      'exact /api/v1/alerts → ruler (header)',
      'prefix /api/v1/rules → ruler (header)',
      'prefix /alertmanager → alertmanager (header)',
      'exact /api/v1/push → distributor (header)',
      'prefix /prometheus → query-frontend (header)',
    ]);
    assert.equal(config.components.get('query-frontend')?.url.href, 'http://127.0.0.1:9010/');
    assert.equal(config.routes[0]!.maxBodySize, 16 * 1024 ** 2);
  });

  it("auth-gateway's configuration under its implementation's names (admin, http_server_*_timeout)", () => {
    const config = load('auth-gateway/configuration.yaml');
    assert.equal(config.shape, 'auth-gateway');
    assert.deepEqual(config.server, { address: 'localhost', port: 8080, readTimeoutMs: 20_000, writeTimeoutMs: 15_000, idleTimeoutMs: 90_000 });
    assert.deepEqual(config.debug, { address: 'localhost', port: 8081, readTimeoutMs: 20_000, writeTimeoutMs: 15_000, idleTimeoutMs: 120_000 });
    // A username listed twice: two passwords of one user.
    assert.deepEqual(config.tenants.map((t) => t.username), ['writer', 'reader', 'reader']);
    const distributor = config.components.get('distributor')!;
    assert.deepEqual(
      [distributor.dnsRefreshMs, distributor.timeoutMs, distributor.dialTimeoutMs, distributor.responseHeaderTimeoutMs],
      [3000, 10_000, 5000, 5000],
    );
    assert.equal(config.components.get('frontend')!.timeoutMs, 60_000);
    assert.equal(config.components.get('ruler')!.responseHeaderTimeoutMs, 10_000);
    const routes = routesOf(config);
    assert.ok(routes.includes('prefix /prometheus/api/v1/label/ → frontend (header)'), routes.join('\n'));
    assert.ok(routes.includes('exact /api/v1/push → distributor (header)'));
    // The alertmanager lists no paths: auth-gateway's defaults.
    assert.ok(routes.includes('prefix /alertmanager/ → alertmanager (header)'));
    assert.ok(routes.includes('exact /multitenant_alertmanager/delete_tenant_config → alertmanager (header)'));
    assert.ok(routes.includes('prefix /api/prom/rules/ → ruler (header)'));
    assert.ok(!routes.some((r) => r.includes('query_exemplars')), 'the frontend lists its own paths, which replace the defaults');
  });

  it("auth-gateway's proposal names: debug, read/write/idle timeouts in bare seconds, passthrough, a '...' end", () => {
    const config = load('auth-gateway/proposal.yaml');
    assert.equal(config.shape, 'auth-gateway');
    assert.equal(config.debug.port, 8090);
    const distributor = config.components.get('distributor')!;
    assert.deepEqual([distributor.timeoutMs, distributor.responseHeaderTimeoutMs, distributor.writeTimeoutMs, distributor.idleTimeoutMs], [20_000, 5000, 5000, 7000]);
    assert.deepEqual(config.tenants.find((t) => t.username === 'relay'), {
      username: 'relay',
      password: { kind: 'plain', text: 'relay-password' },
      tenantIds: [],
      passthrough: true,
      where: 'auth-gateway/proposal.yaml:19',
    });
    // The frontend lists no paths: every default one, under both prefixes.
    const frontend = config.routes.filter((r) => r.component === 'frontend').map((r) => r.path);
    assert.equal(frontend.length, 18);
    assert.ok(frontend.includes('/api/prom/api/v1/query_exemplars') && frontend.includes('/prometheus/api/v1/status/buildinfo'));
  });

  it("promgate's own shape: auth sources, components, per-route enforcement, k8spin settings", () => {
    const config = load('promgate/gateway.yaml');
    assert.equal(config.shape, 'promgate');
    assert.equal(config.usersFile, '../users.yaml');
    assert.deepEqual(config.jwt, { secret: 'test', tenantClaim: 'tenant_id' });
    assert.deepEqual(config.settings, { namespaceLabel: 'namespace', reloadIntervalMinutes: 5, enableProfiling: false });
    assert.deepEqual(
      config.tenants.map((t) => [t.username, t.tenantIds.join('|')]),
      [['grafana', 'team-a|team-b'], ['grafana', 'team-a|team-b'], ['writer', 'team-a']],
    );
    assert.deepEqual(routesOf(config), [
      'exact /api/v1/push → distributor (header)',
      'prefix /prometheus → query-frontend (header)',
      'prefix /plain → prometheus (labels)',
    ]);
    assert.equal(config.debug.address, '127.0.0.1');
  });
});

describe('gateway configuration: refusals name the file, the line and the key', () => {
  it('an unknown key, as UnmarshalStrict refuses it', () => {
    assert.match(refusal('server:\n  port: 8080\n  prot: 1\n'), /^gw\.yaml:3: server\.prot: unknown key/);
    assert.match(refusal('distributor:\n  url: http://d\n  pathz: [/x]\n'), /^gw\.yaml:3: distributor\.pathz: unknown key/);
    assert.match(refusal('targets: {a: "http://a"}\nroutes:\n  - {path: /x, target: a, prefx: true}\n'), /^gw\.yaml:3: routes\[0\]\.prefx: unknown key/);
  });

  it('keys of two shapes in one file', () => {
    assert.match(refusal('secret: x\ntargets: {}\nserver: {port: 1}\n'), /^gw\.yaml:1: server: not keys of a cortex-gateway configuration/);
    assert.match(refusal('what: 1\n'), /what: not keys of a/);
    assert.match(refusal(''), /^gw\.yaml:1: the file is empty/);
  });

  it('a bad tenant id, a | among them, a route to nothing, a label-enforced push', () => {
    assert.match(refusal('basic:\n  u:\n    password: p\n    tenant: "a|b"\n'), /^gw\.yaml:4: basic\.u\.tenant: "a\|b" is not a tenant id/);
    assert.match(refusal('tenants:\n  - {authentication: basic, username: u, password: p, id: ".."}\n'), /tenants\[0\]\.id: "\.\." is not a tenant id/);
    assert.match(refusal('tenants:\n  - {authentication: basic, username: u, password: p}\n'), /^gw\.yaml:2: tenants\[0\]: id is required/);
    assert.match(refusal('tenants:\n  - {authentication: digest, username: u, password: p, id: a}\n'), /authentication must be basic/);
    assert.match(refusal('routes:\n  - path: /x\n    target: nowhere\ntargets: {}\n'), /^gw\.yaml:3: routes\[0\]\.target: names no target/);
    const push = refusal('components: {d: {url: "http://d"}}\nroutes:\n  - {path: /api/v1/push, component: d, enforcement: labels}\n');
    assert.match(push, /^gw\.yaml:3: \/api\/v1\/push is a remote-write push, which promgate cannot enforce labels on yet/);
  });

  it('a path routed twice, a non-canonical path, both names of one setting, a bad duration', () => {
    assert.match(refusal('targets: {a: "http://a"}\nroutes:\n  - {path: /x, target: a}\n  - {path: /x, target: a}\n'), /^gw\.yaml:4: \/x is routed twice \(also at gw\.yaml:3\)/);
    assert.match(refusal('targets: {a: "http://a"}\nroutes:\n  - {path: /x/../y, target: a}\n'), /routes\[0\]\.path: "\/x\/\.\.\/y" is not a canonical path/);
    assert.match(refusal('debug: {port: 1}\nadmin: {port: 2}\n'), /debug and admin are the same setting: give one/);
    assert.match(refusal('server: {read_timeout: 5s, http_server_read_timeout: 6s}\n'), /^gw\.yaml:1: server\.http_server_read_timeout: read_timeout and http_server_read_timeout/);
    assert.match(refusal('distributor: {url: "http://d", http_client_timeout: soon}\n'), /distributor\.http_client_timeout: "soon" is not a duration/);
    assert.match(refusal('frontend: {url: "ftp://f"}\n'), /frontend\.url: must be an http or https URL/);
    assert.match(refusal('components: {d: {url: "http://d", tls: {ca_file: x}}}\n'), /components\.d\.tls: unknown key/);
    assert.match(refusal('secret: [1]\n'), /^gw\.yaml:1: secret: must be a string/);
  });

  it("TLS: the listener's server.tls and a component's tls_config, Prometheus's names, files relative to the file", () => {
    const parsed = parseGatewayConfig(
      [
        'server:',
        '  port: 8443',
        '  tls: {cert_file: tls/server.crt, key_file: /keys/server.key, client_auth_type: VerifyClientCertIfGiven, client_ca_file: tls/ca.crt, min_version: TLS13}',
        'tenants: [{username: w, password: p, id: t}]',
        'components:',
        '  d: {url: "https://d:8080", tls_config: {ca_file: ca.crt, cert_file: c.crt, key_file: c.key, server_name: d.internal}}',
        'routes: [{path: /api/v1/push, component: d, enforcement: header}]',
      ].join('\n'),
      '/etc/promgate/gw.yaml',
    );
    if (!parsed.ok) assert.fail(parsed.error);
    assert.deepEqual(parsed.value.server.tls, {
      certFile: '/etc/promgate/tls/server.crt',
      keyFile: '/keys/server.key',
      clientCaFile: '/etc/promgate/tls/ca.crt',
      clientAuth: 'VerifyClientCertIfGiven',
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: true,
    });
    assert.equal(parsed.value.server.port, 8443);
    assert.deepEqual(parsed.value.components.get('d')?.tls, {
      caFile: '/etc/promgate/ca.crt',
      certFile: '/etc/promgate/c.crt',
      keyFile: '/etc/promgate/c.key',
      serverName: 'd.internal',
      insecureSkipVerify: false,
    });
    assert.equal(parsed.value.debug.tls, undefined);
  });

  it('TLS blocks refused with the line and the key path', () => {
    // `components` makes it promgate's shape, the one with TLS blocks.
    const server = (tls: string) => refusal(`components: {}\nserver:\n  tls:${tls}\n`);
    assert.match(server(' {cert_file: a}'), /^gw\.yaml:3: server\.tls: key_file is required/);
    assert.match(server('\n    cert_file: a\n    key_file: b\n    min_version: TLS9'), /^gw\.yaml:6: server\.tls\.min_version: must be one of TLS12, TLS13/);
    assert.match(server(' {cert_file: a, key_file: b, client_auth_type: RequireAndVerifyClientCert}'), /server\.tls: .*needs server\.tls\.client_ca_file: promgate never verifies client certificates against public CAs/);
    assert.match(server(' {cert_file: a, key_file: b, cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]}'), /server\.tls\.cipher_suites: unknown or insecure cipher suite/);
    assert.match(server(' {cert_file: a, key_file: b, cert: x}'), /server\.tls\.cert: unknown key/);
    assert.match(refusal('components:\n  d: {url: "https://d", tls_config: {cert_file: c.crt}}\n'), /^gw\.yaml:2: components\.d\.tls_config: key_file is required with cert_file/);
    assert.match(refusal('components:\n  d: {url: "http://d", tls_config: {ca_file: ca.crt}}\n'), /components\.d\.tls_config: needs an https url/);
    assert.match(refusal('components:\n  d: {url: "https://d", tls_config: {insecure_skip_verify: yes-please}}\n'), /components\.d\.tls_config\.insecure_skip_verify: must be true or false/);
    assert.match(refusal('components:\n  d: {url: "https://d", tls_config: {ca: x}}\n'), /components\.d\.tls_config\.ca: unknown key/);
  });

  it('duplicate keys and YAML syntax errors', () => {
    assert.match(refusal('secret: a\nsecret: b\n'), /^gw\.yaml:2: /);
    assert.match(refusal('routes: [\n'), /^gw\.yaml:\d+: /);
  });
});
