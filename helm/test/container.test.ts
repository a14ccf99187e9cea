// The image and the chart's pod, with no container engine and no cluster: the image's contents are built as the
// Dockerfile says (see support/image.ts), and each rendered Deployment's container runs from them as kubelet would run
// it (support/pod.ts): read-only root filesystem, the security context's user, Secret volumes with `..data` swaps,
// against a real Prometheus holding several tenants' series.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { testPki, type TestPki } from '../../test/support/certificates.js';
import { callApi, difference, normalise } from '../../test/support/compare.js';
import { basicAuth } from '../../test/support/gateway.js';
import { servedCertificate, tlsAgent } from '../../test/support/tls-client.js';
import { freePorts, startPrometheus, type PromServer } from '../../test/support/prometheus.js';
import { END, startTenantFixture, tenantData, toOpenMetrics, type TenantFixture } from '../../test/support/tenant-data.js';
import { find, render, REPO, TEST_VALUES } from './support/chart.js';
import { buildImage, type BuiltImage } from './support/image.js';
import { IMAGE_USER, openTempDir, spawnConfined, startPod, type Pod } from './support/pod.js';

let built: BuiltImage | undefined;
const image = (): BuiltImage => (built ??= buildImage());

let fixture: TenantFixture;
before(async () => {
  fixture = await startTenantFixture();
  image();
});
after(async () => {
  await fixture?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The caller's answer equals the one of a Prometheus holding only `subset`'s series. */
async function assertSeesOnly(
  base: string,
  headers: Record<string, string>,
  subset: string,
  path = '/api/v1/query',
  dispatcher?: Dispatcher,
): Promise<void> {
  const params = { query: 'sum by (namespace, app) (rate(http_requests_total[5m]))', time: String(END) };
  const through = await callApi(base, path, params, { headers, ...(dispatcher !== undefined && { dispatcher }) });
  assert.equal(through.status, 200, JSON.stringify(through.body));
  const alone = await callApi(fixture.subsets[subset]!.url, '/api/v1/query', params);
  assert.equal(difference(normalise(through.body), normalise(alone.body)), null);
  assert.ok(through.body.data.result.length > 0, 'an empty answer proves nothing');
}

describe('the image', () => {
  it('builds from a context without tests, node_modules or dist, and installs without dev dependencies', () => {
    const { context, prefix } = image();
    for (const file of ['package.json', 'package-lock.json', 'src/cli.ts', 'parser/promql_parser.wasm', 'parser/ts/index.ts']) {
      assert.ok(context.includes(file), `${file} is not in the build context`);
    }
    const leaked = context.filter((f) => /^(node_modules|dist|test|helm|\.ci|scripts)\/|\.test\.ts$|^parser\/(src|test|target)\//.test(f));
    assert.deepEqual(leaked, []);
    const installed = join(prefix, 'node_modules');
    for (const dev of ['typescript', 'tsx']) assert.equal(existsSync(join(installed, dev)), false, `${dev} is installed`);
    assert.ok(existsSync(join(installed, 'promgate', 'node_modules', 'promql-parser-wasm', 'promql_parser.wasm')), 'the parser is not bundled');
  });

  it('confines for real: as its user, nothing outside the volumes can be written', async () => {
    const { user } = image();
    const dir = openTempDir('promgate-confined-');
    const log = join(dir, 'out.log');
    const probe = `const fs = require('node:fs'); try { fs.writeFileSync(${JSON.stringify(join(dir, 'x'))}, 'x'); console.log('wrote'); } catch (e) { console.log(e.code); } console.log(process.getuid());`;
    const child = spawnConfined([process.execPath, '-e', probe], { PATH: process.env.PATH }, { uid: user, gid: user, groups: [], readOnlyRoot: true }, log);
    await new Promise((resolve) => child.once('exit', resolve));
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['EROFS', String(IMAGE_USER)]);
  });

  it('runs `promgate run` read-only as its non-root user, enforces a tenant, and stops on SIGTERM with 0', async () => {
    const { cli, user } = image();
    const dir = openTempDir('promgate-image-run-');
    writeFileSync(join(dir, 'users.yaml'), 'users:\n  - {username: alice, password: alice-password, namespace: tenant-a}\n');
    const [port, internal] = (await freePorts(2)) as [number, number];
    const log = join(dir, 'promgate.log');
    const child = spawnConfined(
      [process.execPath, cli, 'run', '--port', String(port), '--internal-port', String(internal), '--prometheus-endpoint', fixture.all.url, '--auth-config', join(dir, 'users.yaml')],
      { PATH: process.env.PATH },
      { uid: user, gid: user, groups: [], readOnlyRoot: true },
      log,
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let ready = false;
    for (let i = 0; i < 300 && !ready && child.exitCode === null; i++) {
      ready = (await fetch(`http://127.0.0.1:${internal}/readyz`).catch(() => undefined))?.status === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ready, readFileSync(log, 'utf8'));
    await assertSeesOnly(`http://127.0.0.1:${port}`, basicAuth('alice', 'alice-password'), 'tenant-a');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, readFileSync(log, 'utf8'));
    assert.doesNotMatch(readFileSync(log, 'utf8'), /EROFS|EACCES/);
  });
});

describe("the chart's pod, from k8spin's flux example values", () => {
  let pod: Pod;
  before(async () => {
    const [port, internal] = (await freePorts(2)) as [number, number];
    const docs = render([
      '-f', join(TEST_VALUES, 'k8spin-flux.yaml'),
      '--set', `proxy.prometheusEndpoint=${fixture.all.url}`,
      '--set', `proxy.port=${port}`,
      '--set', `proxy.internalPort=${internal}`,
    ]);
    pod = await startPod(docs, { cli: image().cli });
  });
  after(async () => {
    assert.equal(await pod?.stop(), 0);
  });

  it('answers its liveness and readiness probes on the ports and paths the chart names', async () => {
    assert.equal(await pod.probe('livenessProbe'), 200);
    assert.equal(await pod.probe('readinessProbe'), 200);
    // The probes are promgate's own, on the internal port: never the proxied main port.
    const internal = pod.port('internal');
    assert.notEqual(internal, pod.port('http'));
    assert.equal((await fetch(`http://127.0.0.1:${internal}/metrics`)).status, 200);
  });

  it("gives each user of proxy.auth.basic.authn their namespace's series only", async () => {
    const base = `http://127.0.0.1:${pod.port('http')}`;
    await assertSeesOnly(base, basicAuth('User-a', 'pass-a'), 'tenant-a');
    await assertSeesOnly(base, basicAuth('User-b', 'pass-b'), 'tenant-b');
    assert.equal((await callApi(base, '/api/v1/query', { query: 'up' }, { headers: basicAuth('User-a', 'pass-b') })).status, 401);
    assert.equal((await callApi(base, '/api/v1/query', { query: 'up' })).status, 401);
  });

  it("takes a changed Secret (kubelet's ..data swap) without a restart: who may log in changes", async () => {
    const base = `http://127.0.0.1:${pod.port('http')}`;
    const pid = pod.child.pid;
    pod.update('users', {
      'authn.yaml': 'users:\n  - username: User-c\n    password: pass-c\n    namespace: tenant-b\n  - username: User-a\n    password: pass-a-new\n    namespace: tenant-a\n',
    });
    const status = async (user: string, password: string) =>
      (await callApi(base, '/api/v1/query', { query: 'up', time: String(END) }, { headers: basicAuth(user, password) })).status;
    let admitted = false;
    for (let i = 0; i < 200 && !admitted; i++) {
      admitted = (await status('User-c', 'pass-c')) === 200;
      if (!admitted) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(admitted, `User-c was never admitted:\n${pod.log().slice(-2000)}`);
    await assertSeesOnly(base, basicAuth('User-c', 'pass-c'), 'tenant-b');
    await assertSeesOnly(base, basicAuth('User-a', 'pass-a-new'), 'tenant-a');
    assert.equal(await status('User-a', 'pass-a'), 401);
    assert.equal(await status('User-b', 'pass-b'), 401);
    assert.equal(pod.child.pid, pid);
    assert.equal(pod.child.exitCode, null, 'promgate restarted');
  });
});

describe("the chart's pod with JWT keys from Secrets (jwt-jwks.yaml)", () => {
  const secret = 'an-hmac-secret-for-the-test';
  let pod: Pod;
  before(async () => {
    const [port, internal] = (await freePorts(2)) as [number, number];
    const docs = render([
      '-f', join(TEST_VALUES, 'jwt-jwks.yaml'),
      '--set', `proxy.prometheusEndpoint=${fixture.all.url}`,
      '--set', `proxy.port=${port}`,
      '--set', `proxy.internalPort=${internal}`,
    ]);
    pod = await startPod(docs, {
      cli: image().cli,
      existing: {
        'promgate-jwks': { 'jwks.json': readFileSync(join(REPO, 'configs', 'jwks_example.json'), 'utf8') },
        'promgate-jwt-secret': { secret },
      },
    });
  });
  after(async () => {
    assert.equal(await pod?.stop(), 0);
  });

  const token = (...args: string[]) => execFileSync(process.execPath, [image().cli, 'token', ...args], { encoding: 'utf8' }).trim();

  it("verifies tokens of the JWKS Secret's keys and of the HMAC Secret, each to its namespace", async () => {
    const base = `http://127.0.0.1:${pod.port('http')}`;
    await assertSeesOnly(base, bearer(token('--jwks', join(REPO, 'configs', 'jwks_example.json'), '--kid', 'hmac-key', '--namespaces', 'tenant-a')), 'tenant-a');
    await assertSeesOnly(base, bearer(token('--secret', secret, '--namespaces', 'tenant-b')), 'tenant-b');
    assert.equal((await callApi(base, '/api/v1/query', { query: 'up' }, { headers: bearer(token('--secret', 'another-secret', '--namespaces', 'tenant-b')) })).status, 401);
  });
});

describe("the chart's pod in gateway mode (gateway.yaml)", () => {
  let plain: PromServer;
  let pki: TestPki;
  let pod: Pod;
  before(async () => {
    pki = testPki();
    plain = await startPrometheus(toOpenMetrics(tenantData(['tenant-a', 'tenant-b', 'kube-system'])), { routePrefix: '/plain' });
    const [port, internal] = (await freePorts(2)) as [number, number];
    const values = readFileSync(join(TEST_VALUES, 'gateway.yaml'), 'utf8').replace('http://prometheus-operated.monitoring.svc:9090', plain.url);
    const file = join(openTempDir('promgate-gateway-values-'), 'values.yaml');
    writeFileSync(file, values);
    const docs = render(['-f', file, '--set', `proxy.port=${port}`, '--set', `proxy.internalPort=${internal}`]);
    assert.equal(find(docs, 'Deployment').spec.template.spec.containers[0].env.some((e: { name: string }) => e.name === 'PROM_PROXY_PROMETHEUS_ENDPOINT'), false);
    const read = (file: string) => readFileSync(file, 'utf8');
    pod = await startPod(docs, { cli: image().cli, existing: { 'promgate-tls': { 'tls.crt': read(pki.server.cert), 'tls.key': read(pki.server.key) } } });
  });
  after(async () => {
    assert.equal(await pod?.stop(), 0);
    await plain?.stop();
  });

  it("serves the inline file over HTTPS with the Secret's certificate: probes on the debug port, a users-file user enforced by label below /plain", async () => {
    assert.equal(await pod.probe('livenessProbe'), 200);
    assert.equal(await pod.probe('readinessProbe'), 200);
    const base = `https://127.0.0.1:${pod.port('http')}`;
    const agent = tlsAgent({ ca: pki.ca.cert });
    await assertSeesOnly(base, basicAuth('alice', 'alice-password'), 'tenant-a', '/plain/api/v1/query', agent);
    assert.equal((await callApi(base, '/plain/api/v1/query', { query: 'up' }, { headers: basicAuth('alice', 'wrong'), dispatcher: agent })).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${pod.port('http')}/plain/api/v1/query?query=up`)).status, 400);
  });
});

describe("the chart's pod with TLS from Secrets (tls.yaml)", () => {
  let pki: TestPki;
  let upstream: PromServer;
  let pod: Pod;
  before(async () => {
    pki = testPki();
    const promgate = pki.certificates.issue(pki.ca, 'promgate-upstream', { cn: 'promgate', usage: 'client' });
    const webConfig = `tls_server_config:\n  cert_file: ${pki.server.cert}\n  key_file: ${pki.server.key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.ca.cert}\n`;
    upstream = await startPrometheus(toOpenMetrics(tenantData(['tenant-a', 'tenant-b', 'kube-system'])), {
      tls: { webConfig, client: { ca: pki.ca.cert, cert: promgate.cert, key: promgate.key } },
    });
    const [port, internal] = (await freePorts(2)) as [number, number];
    const docs = render([
      '-f', join(TEST_VALUES, 'tls.yaml'),
      '--set', `proxy.prometheusEndpoint=${upstream.url}`,
      '--set', 'proxy.tls.upstream.serverName=localhost',
      '--set', `proxy.port=${port}`,
      '--set', `proxy.internalPort=${internal}`,
    ]);
    const read = (file: string) => readFileSync(file, 'utf8');
    pod = await startPod(docs, {
      cli: image().cli,
      existing: {
        'promgate-tls': { 'tls.crt': read(pki.server.cert), 'tls.key': read(pki.server.key) },
        'promgate-client-ca': { 'ca.crt': read(pki.ca.cert) },
        'prometheus-ca': { 'ca.crt': read(pki.ca.cert) },
        'promgate-upstream-client': { 'tls.crt': read(promgate.cert), 'tls.key': read(promgate.key) },
      },
    });
  });
  after(async () => {
    assert.equal(await pod?.stop(), 0);
    await upstream?.stop();
  });

  it('serves HTTPS: a client certificate and a password each name their user; the probes stay on plain HTTP', async () => {
    assert.equal(await pod.probe('livenessProbe'), 200);
    assert.equal(await pod.probe('readinessProbe'), 200);
    const base = `https://127.0.0.1:${pod.port('http')}`;
    await assertSeesOnly(base, {}, 'tenant-b', '/api/v1/query', tlsAgent({ ca: pki.ca.cert, pair: pki.bob }));
    await assertSeesOnly(base, basicAuth('alice', 'alice-password'), 'tenant-a', '/api/v1/query', tlsAgent({ ca: pki.ca.cert }));
    assert.equal((await callApi(base, '/api/v1/query', { query: 'up' }, { dispatcher: tlsAgent({ ca: pki.ca.cert }) })).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${pod.port('http')}/api/v1/query?query=up`)).status, 400);
  });

  it("takes a renewed server certificate from the Secret's ..data swap, with no restart", async () => {
    const renewed = pki.certificates.server(pki.ca, 'server-renewed');
    const before = await servedCertificate(pod.port('http'), { ca: pki.ca.cert });
    pod.update('tls-server', { 'tls.crt': readFileSync(renewed.cert, 'utf8'), 'tls.key': readFileSync(renewed.key, 'utf8') });
    let serial = before.serialNumber;
    for (let i = 0; i < 200 && serial === before.serialNumber; i++) {
      await new Promise((r) => setTimeout(r, 50));
      serial = (await servedCertificate(pod.port('http'), { ca: pki.ca.cert })).serialNumber;
    }
    assert.notEqual(serial, before.serialNumber, `the renewed certificate was never served:\n${pod.log().slice(-2000)}`);
    assert.equal(pod.child.exitCode, null);
  });
});
