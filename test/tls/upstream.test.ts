// TLS and mTLS to the upstream: a real Prometheus 2.42 serving HTTPS with its own --web.config.file
// (RequireAndVerifyClientCert). Through promgate's upstream mTLS the isolation answers are unchanged; a wrong CA,
// no client certificate, a name mismatch or an expired upstream certificate get a 502 that says which.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callApi, difference, normalise } from '../support/compare.js';
import { testPki, type Authority, type Pair, type TestPki } from '../support/certificates.js';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { startTenantFixture, type TenantFixture } from '../support/tenant-data.js';

const USERS = `users:
  - username: alice
    password: alice-pw
    namespace: tenant-a
  - username: bob
    password: bob-pw
    namespaces: [tenant-a, tenant-b]
  - username: carol
    password: carol-pw
    labels:
      team: america
`;
const SUBSETS = { alice: 'tenant-a', bob: 'tenant-a+tenant-b', carol: 'team=america' } as const;
const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' } as const;

/** Prometheus's own web configuration: its certificate, and client certificates required and verified. */
const webConfig = (server: Pair, clientCa: Authority) =>
  `tls_server_config:\n  cert_file: ${server.cert}\n  key_file: ${server.key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${clientCa.cert}\n`;

describe('TLS to the upstream: Prometheus behind RequireAndVerifyClientCert', () => {
  let pki: TestPki;
  let promgateCert: Pair;
  let fixture: TenantFixture;
  let gateway: Gateway;
  const mtlsArgs = () => ['--prometheus-ca-file', pki.ca.cert, '--prometheus-cert-file', promgateCert.cert, '--prometheus-key-file', promgateCert.key];

  before(async () => {
    pki = testPki();
    promgateCert = pki.certificates.issue(pki.ca, 'promgate', { cn: 'promgate', usage: 'client' });
    fixture = await startTenantFixture(undefined, undefined, {
      allTls: { webConfig: webConfig(pki.server, pki.ca), client: { ca: pki.ca.cert, cert: promgateCert.cert, key: promgateCert.key } },
    });
    assert.match(fixture.all.url, /^https:/);
    gateway = await startGateway({ upstream: fixture.all.url, authConfig: USERS, args: mtlsArgs() });
  });
  after(async () => {
    await gateway?.stop();
    await fixture?.stop();
  });

  it("gives each user what a Prometheus holding only their series answers, as over plain HTTP", async () => {
    const end = String(fixture.end);
    const failures: string[] = [];
    for (const user of ['alice', 'bob', 'carol'] as const) {
      const headers = basicAuth(user, PASSWORDS[user]);
      const want = fixture.subsets[SUBSETS[user]]!.url;
      const check = async (path: string, params: [string, string][], method: 'GET' | 'POST') => {
        const got = await callApi(gateway.base, path, params, { method, headers });
        assert.equal(got.status, 200, `${user} ${path}: ${JSON.stringify(got.body)}`);
        const diff = difference(normalise(got.body), normalise((await callApi(want, path, params, { method })).body));
        if (diff !== null) failures.push(`${user} ${method} ${path} ${JSON.stringify(params)}: ${diff}`);
      };
      for (const method of ['GET', 'POST'] as const) {
        for (const query of ['up', 'up{namespace="tenant-b"}', 'sum by (namespace) (rate(http_requests_total[5m]))', 'node_load1', 'absent(up{namespace="tenant-b"})']) {
          await check('/api/v1/query', [['query', query], ['time', end]], method);
          await check('/api/v1/query_range', [['query', query], ['start', String(fixture.end - 3600)], ['end', end], ['step', '60']], method);
        }
        await check('/api/v1/series', [['match[]', '{job=~".+"}'], ['start', String(fixture.end - 600)], ['end', end]], method);
        await check('/api/v1/labels', [], method);
      }
      await check('/api/v1/label/namespace/values', [], 'GET');
    }
    assert.deepEqual(failures, []);
  });

  it('gets a 502 that says what failed: an unknown CA, no client certificate, a name mismatch', async () => {
    const cases = [
      { args: ['--prometheus-ca-file', pki.foreignCa.cert, '--prometheus-cert-file', promgateCert.cert, '--prometheus-key-file', promgateCert.key], error: /TLS: the upstream's certificate is not signed by a trusted CA/ },
      // Without --prometheus-ca-file: the system's CAs, which do not know the test CA either.
      { args: ['--prometheus-cert-file', promgateCert.cert, '--prometheus-key-file', promgateCert.key], error: /TLS: the upstream's certificate is not signed by a trusted CA/ },
      { args: ['--prometheus-ca-file', pki.ca.cert], error: /TLS: the upstream refused promgate's client certificate \(or its lack of one\)/ },
      { args: ['--prometheus-ca-file', pki.ca.cert, '--prometheus-cert-file', pki.foreign.cert, '--prometheus-key-file', pki.foreign.key], error: /TLS: the upstream refused promgate's client certificate/ },
      { args: [...mtlsArgs(), '--prometheus-server-name', 'prometheus.example'], error: /TLS: the upstream's certificate does not name the host asked for .*prometheus\.example/ },
    ];
    // One at a time: a handful of gateways starting together on a busy machine is what start-up bounds are not for.
    for (const { args, error } of cases) {
      const failing = await startGateway({ upstream: fixture.all.url, authConfig: USERS, args });
      try {
        const got = await callApi(failing.base, '/api/v1/query', [['query', 'up']], { headers: basicAuth('alice', 'alice-pw') });
        assert.equal(got.status, 502, JSON.stringify(got.body));
        assert.equal(got.body.errorType, 'unavailable');
        assert.match(got.body.error, error);
      } finally {
        await failing.stop();
      }
    }
    // A matching --prometheus-server-name is checked, and passes.
    const named = await startGateway({ upstream: fixture.all.url, authConfig: USERS, args: [...mtlsArgs(), '--prometheus-server-name', 'localhost'] });
    try {
      assert.equal((await callApi(named.base, '/api/v1/query', [['query', 'up']], { headers: basicAuth('alice', 'alice-pw') })).status, 200);
    } finally {
      await named.stop();
    }
  });

  it("gets a 502 that says the upstream's certificate has expired", async () => {
    const expired = pki.certificates.server(pki.ca, 'server-expired', -1);
    const file = join(fixture.all.dataDir, 'web.yml');
    // Prometheus reads its web configuration at each new connection: a new gateway meets the expired certificate.
    writeFileSync(file, webConfig(expired, pki.ca));
    const fresh = await startGateway({ upstream: fixture.all.url, authConfig: USERS, args: mtlsArgs() });
    try {
      const got = await callApi(fresh.base, '/api/v1/query', [['query', 'up']], { headers: basicAuth('alice', 'alice-pw') });
      assert.equal(got.status, 502);
      assert.match(got.body.error, /TLS: the upstream's certificate has expired \(CERT_HAS_EXPIRED/);
    } finally {
      writeFileSync(file, webConfig(pki.server, pki.ca));
      await fresh.stop();
    }
  });
});
