// Gateway mode with TLS on both sides: the listener's server.tls and a component's tls_config (promgate's client
// certificate to a real Prometheus 2.42 serving HTTPS with RequireAndVerifyClientCert), files relative to the file.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callApi, difference, normalise } from '../support/compare.js';
import { testPki, type Pair, type TestPki } from '../support/certificates.js';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { startPrometheus, type PromServer } from '../support/prometheus.js';
import { END, tenantData, toOpenMetrics } from '../support/tenant-data.js';
import { httpsGet, tlsAgent } from '../support/tls-client.js';

describe('gateway mode: server.tls and a component tls_config', () => {
  let pki: TestPki;
  let promgateCert: Pair;
  let prometheus: PromServer;
  let dir: string;
  let gateway: Gateway;

  /** A gateway file in `dir`: certificate files named relative to it. */
  const config = (tlsConfig: string) =>
    [
      'server:',
      '  tls: {cert_file: server.crt, key_file: server.key}',
      'tenants:',
      '  - {username: writer, password: writer-password, id: team-a}',
      'components:',
      // A header route passes the whole path on: the component's URL has no prefix of its own.
      `  frontend: {url: "${prometheus.url}", tls_config: ${tlsConfig}}`,
      'routes:',
      '  - {path: /prometheus, match: prefix, component: frontend, enforcement: header}',
      '',
    ].join('\n');

  async function gatewayWith(tlsConfig: string): Promise<Gateway> {
    const file = join(dir, `gateway-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, config(tlsConfig));
    return startGateway({ args: ['--config', file], https: true });
  }

  before(async () => {
    pki = testPki();
    promgateCert = pki.certificates.issue(pki.ca, 'promgate', { cn: 'promgate', usage: 'client' });
    dir = mkdtempSync(join(tmpdir(), 'promgate-gwtls-'));
    for (const [from, to] of [[pki.server.cert, 'server.crt'], [pki.server.key, 'server.key'], [pki.ca.cert, 'ca.crt'], [promgateCert.cert, 'promgate.crt'], [promgateCert.key, 'promgate.key']] as const) {
      copyFileSync(from, join(dir, to));
    }
    prometheus = await startPrometheus(toOpenMetrics(tenantData(['tenant-a', 'tenant-b'])), {
      routePrefix: '/prometheus',
      tls: {
        webConfig: `tls_server_config:\n  cert_file: ${pki.server.cert}\n  key_file: ${pki.server.key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.ca.cert}\n`,
        client: { ca: pki.ca.cert, cert: promgateCert.cert, key: promgateCert.key },
      },
    });
    gateway = await gatewayWith('{ca_file: ca.crt, cert_file: promgate.crt, key_file: promgate.key}');
  });
  after(async () => {
    await gateway?.stop();
    await prometheus?.stop();
  });

  it('serves HTTPS, and reaches the component with its client certificate: answers as the component gives them', async () => {
    const agent = tlsAgent({ ca: pki.ca.cert });
    try {
      const params = { query: 'sum by (namespace) (http_requests_total)', time: String(END) };
      const through = await callApi(gateway.base, '/prometheus/api/v1/query', params, { headers: basicAuth('writer', 'writer-password'), dispatcher: agent });
      assert.equal(through.status, 200, JSON.stringify(through.body));
      assert.equal(through.body.data.result.length, 2);
      const again = await callApi(gateway.base, '/prometheus/api/v1/query', params, { method: 'POST', headers: basicAuth('writer', 'writer-password'), dispatcher: agent });
      assert.equal(difference(normalise(again.body), normalise(through.body)), null);
    } finally {
      await agent.close();
    }
    const plain = await fetch(gateway.base.replace('https:', 'http:') + '/prometheus/api/v1/query').catch((e: Error) => e);
    assert.ok(plain instanceof Error || plain.status === 400, 'plain HTTP to the TLS port is refused');
  });

  it('gets a 502 that says what failed when the component refuses the lack of a client certificate', async () => {
    const without = await gatewayWith('{ca_file: ca.crt}');
    try {
      const got = await httpsGet(`${without.base}/prometheus/api/v1/query?query=up`, { ca: pki.ca.cert }, basicAuth('writer', 'writer-password'));
      assert.ok(!('failed' in got), JSON.stringify(got));
      assert.equal(got.status, 502);
      assert.match(JSON.parse(got.body).error, /TLS: the upstream refused promgate's client certificate/);
    } finally {
      await without.stop();
    }
  });

  it('refuses to start on tls_config files that do not load, naming the component', async () => {
    writeFileSync(join(dir, 'broken.crt'), 'not a certificate');
    await assert.rejects(gatewayWith('{ca_file: ca.crt, cert_file: broken.crt, key_file: promgate.key}'), /gateway-\w+\.yaml:6: component frontend: .*broken\.crt: no PEM certificate in it/);
  });
});
