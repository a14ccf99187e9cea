// Certificates rotated with no restart, under load: the listener's certificate, key and client CAs (mounted as
// Kubernetes mounts a Secret) and promgate's client certificate to an upstream Prometheus that requires one. No
// request fails, and afterwards the new certificates are the ones in use. A bad new pair keeps the old one serving.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetch } from 'undici';
import { Certificates, SecretMount, testPki, type Authority, type Pair, type TestPki } from '../support/certificates.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startPrometheus, type PromServer } from '../support/prometheus.js';
import { tenantData, toOpenMetrics } from '../support/tenant-data.js';
import { httpsGet, servedCertificate, tlsAgent } from '../support/tls-client.js';

const USERS = 'users:\n  - username: alice\n    namespace: tenant-a\n';
const QUERY = '/api/v1/query?query=count(up)';

const webConfig = (server: Pair, clientCa: string) =>
  `tls_server_config:\n  cert_file: ${server.cert}\n  key_file: ${server.key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${clientCa}\n`;

const serialOf = (pair: Pair) => new X509Certificate(readFileSync(pair.cert)).serialNumber;

/** Metric values from promgate's /metrics, by name with labels as written. */
async function metrics(gateway: Gateway): Promise<Map<string, number>> {
  const text = await (await fetch(`${gateway.internal}/metrics`)).text();
  return new Map(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('certificate rotation with no restart', () => {
  let pki: TestPki;
  let certificates: Certificates;
  let ca2: Authority;
  let listener: SecretMount;
  let clientDir: string;
  let prometheus: PromServer;
  let prometheusDir: string;
  let gateway: Gateway;
  let port: number;
  const data = toOpenMetrics(tenantData(['tenant-a', 'tenant-b']));

  before(async () => {
    pki = testPki();
    certificates = pki.certificates;
    ca2 = certificates.authority('ca-2');
    // The listener's files as kubelet mounts a Secret; promgate's client files in a plain directory, replaced by rename.
    listener = new SecretMount(join(certificates.dir, 'listener'), { 'tls.crt': pki.server.cert, 'tls.key': pki.server.key, 'ca.crt': pki.ca.cert });
    clientDir = certificates.dir;
    const first = certificates.issue(pki.ca, 'promgate-1', { cn: 'promgate', usage: 'client' });
    writeFileSync(join(clientDir, 'client.crt'), readFileSync(first.cert));
    writeFileSync(join(clientDir, 'client.key'), readFileSync(first.key));
    // Prometheus takes client certificates of either CA for now.
    const bothCas = certificates.bundle('both-cas.crt', pki.ca.cert, ca2.cert);
    // A data directory of the test's own, so that Prometheus can be restarted on it.
    prometheusDir = mkdtempSync(join(tmpdir(), 'promgate-prom-'));
    prometheus = await startPrometheus(data, {
      dataDir: prometheusDir,
      tls: { webConfig: webConfig(pki.server, bothCas), client: { ca: pki.ca.cert, cert: first.cert, key: first.key } },
    });
    gateway = await startGateway({
      upstream: prometheus.url,
      authConfig: USERS,
      https: true,
      args: [
        '--auth-type', 'mtls',
        '--tls-cert-file', listener.path('tls.crt'), '--tls-key-file', listener.path('tls.key'),
        '--tls-client-ca-file', listener.path('ca.crt'), '--tls-client-auth', 'RequireAndVerifyClientCert',
        '--prometheus-ca-file', pki.ca.cert,
        '--prometheus-cert-file', join(clientDir, 'client.crt'), '--prometheus-key-file', join(clientDir, 'client.key'),
        // Only file events reload: the test sees what the watchers do.
        '--reload-interval', '0',
      ],
    });
    port = Number(new URL(gateway.base).port);
  });
  after(async () => {
    await gateway?.stop();
    await prometheus?.stop();
    rmSync(prometheusDir, { recursive: true, force: true });
  });

  it('replaces the server and client certificates under load: no failed request, the new ones in use afterwards', async () => {
    const keepAlive = tlsAgent({ ca: pki.ca.cert, pair: pki.alice }, 4);
    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const record = (outcome: string | undefined) => (outcome === undefined ? served++ : failures.push(outcome));
    const keptAlive = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${gateway.base}${QUERY}`, { dispatcher: keepAlive });
          const body = await res.text();
          record(res.status === 200 ? undefined : `keep-alive: ${res.status} ${body}`);
        } catch (error) {
          record(`keep-alive: ${(error as Error).message} ${String((error as Error).cause)}`);
        }
      }
    };
    // A new connection, and so a new handshake, for every request.
    const fresh = async () => {
      while (!stop) {
        const outcome = await httpsGet(`${gateway.base}${QUERY}`, { ca: pki.ca.cert, pair: pki.alice });
        record('failed' in outcome ? `new connection: ${outcome.failed}` : outcome.status === 200 ? undefined : `new connection: ${outcome.status} ${outcome.body}`);
      }
    };
    const load = Promise.all([keptAlive(), keptAlive(), keptAlive(), fresh(), fresh()]);
    try {
      await new Promise((r) => setTimeout(r, 1000));

      // The listener: a new server certificate, and client CAs that take ca-2's certificates too, in one ..data swap.
      const server2 = certificates.server(pki.ca, 'server-2');
      listener.update({ 'tls.crt': server2.cert, 'tls.key': server2.key, 'ca.crt': certificates.bundle('listener-cas.crt', pki.ca.cert, ca2.cert) });
      await gateway.logMatching(/TLS listener: new certificate files in use/);

      // promgate's client certificate: one of ca-2, each file renamed into place as an editor saves it.
      const client2 = certificates.issue(ca2, 'promgate-2', { cn: 'promgate', usage: 'client' });
      for (const [from, to] of [[client2.key, 'client.key'], [client2.cert, 'client.crt']] as const) {
        writeFileSync(join(clientDir, `${to}.tmp`), readFileSync(from));
        renameSync(join(clientDir, `${to}.tmp`), join(clientDir, to));
      }
      await gateway.logMatching(/upstream prometheus: new TLS files in use/);

      // From now on Prometheus takes ca-2's client certificates only: requests pass only on the new pool's certificate.
      writeFileSync(join(prometheus.dataDir, 'web.yml'), webConfig(pki.server, ca2.cert));
      await new Promise((r) => setTimeout(r, 1500));
      const servedBefore = served;
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(served > servedBefore, 'requests still served after Prometheus stopped taking the old client certificate');

      stop = true;
      await load;
      assert.deepEqual(failures, []);
      assert.ok(served > 50, `only ${served} requests served`);
      // Connections kept alive from before would still pass (Go checks a certificate at the handshake only):
      // restarted, Prometheus has none, and only the new client certificate gets a new one.
      await prometheus.stop();
      prometheus = await startPrometheus(data, {
        port: Number(new URL(prometheus.url).port),
        dataDir: prometheusDir,
        tls: { webConfig: webConfig(pki.server, ca2.cert), client: { ca: pki.ca.cert, cert: client2.cert, key: client2.key } },
      });
      const afterRestart = await httpsGet(`${gateway.base}${QUERY}`, { ca: pki.ca.cert, pair: pki.alice });
      assert.ok(!('failed' in afterRestart) && afterRestart.status === 200, JSON.stringify(afterRestart));
      assert.equal((await servedCertificate(port, { ca: pki.ca.cert, pair: pki.alice })).serialNumber, serialOf(server2), 'the new server certificate is served');
      // The new client CAs: an alice certificate of ca-2 is taken now.
      const alice2 = certificates.issue(ca2, 'alice-2', { cn: 'alice', usage: 'client' });
      const outcome = await httpsGet(`${gateway.base}${QUERY}`, { ca: pki.ca.cert, pair: alice2 });
      assert.ok(!('failed' in outcome) && outcome.status === 200, JSON.stringify(outcome));
      const m = await metrics(gateway);
      assert.equal(m.get('promgate_tls_config_last_reload_successful'), 1);
      assert.equal(
        m.get(`promgate_tls_certificate_expiry_timestamp_seconds{file="${listener.path('tls.crt')}"}`),
        Date.parse(new X509Certificate(readFileSync(server2.cert)).validTo) / 1000,
      );
    } finally {
      stop = true;
      await load;
      await keepAlive.close();
    }
  });

  it('keeps the old pair serving when the new one is bad, says why, and takes the next good one', async () => {
    const before = (await servedCertificate(port, { ca: pki.ca.cert, pair: pki.alice })).serialNumber;
    const server3 = certificates.server(pki.ca, 'server-3');
    // A certificate with another certificate's key.
    listener.update({ 'tls.crt': server3.cert, 'tls.key': pki.bob.key, 'ca.crt': pki.ca.cert });
    await eventually('the rejection', async () => (await metrics(gateway)).get('promgate_tls_config_last_reload_successful') === 0);
    await gateway.logMatching(/TLS listener certificate files rejected, still serving the last good one: .*is not the key of the certificate/);
    assert.equal((await servedCertificate(port, { ca: pki.ca.cert, pair: pki.alice })).serialNumber, before);
    const outcome = await httpsGet(`${gateway.base}${QUERY}`, { ca: pki.ca.cert, pair: pki.alice });
    assert.ok(!('failed' in outcome) && outcome.status === 200, JSON.stringify(outcome));

    listener.update({ 'tls.crt': server3.cert, 'tls.key': server3.key, 'ca.crt': pki.ca.cert });
    await eventually('the recovery', async () => (await metrics(gateway)).get('promgate_tls_config_last_reload_successful') === 1);
    assert.equal((await servedCertificate(port, { ca: pki.ca.cert, pair: pki.alice })).serialNumber, serialOf(server3));
  });
});
