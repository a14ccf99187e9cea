// promgate --aws in front of Amazon Managed Service for Prometheus. AMP cannot run here: its stand-in (declared in
// test/support/aws.ts) checks every request's SigV4 signature with botocore and answers 403 as AWS does when it
// differs, else forwards to a real Prometheus 2.42. Grafana-like requests through promgate with --aws must pass the
// check and give the answers promgate gives without signing, straight from the same Prometheus.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsEnv, startVerifier, WORKSPACE_PREFIX, type Verdict, type Verifier } from '../support/aws.js';
import { callApi, difference, normalise } from '../support/compare.js';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { freePort, startPrometheus, type PromServer } from '../support/prometheus.js';
import { END, tenantData, toOpenMetrics } from '../support/tenant-data.js';

const USERS = 'users:\n  - {username: alice, password: alice-pw, namespace: tenant-a}\n';
const REGION = 'eu-west-1';
const KEYS = { accessKeyId: 'AKIAPROMGATETEST0001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYPROMGATE', sessionToken: 'IQoJb3JpZ2luX2VjEMv//////////wEaCXVzLWVhc3QtMSJH+test/token=' };
// What Grafana sends with a Prometheus data source's queries (POST is its default method).
const GRAFANA = { ...basicAuth('alice', 'alice-pw'), 'user-agent': 'Grafana/11.2.0', 'accept-encoding': 'gzip', 'x-grafana-org-id': '1', 'x-dashboard-uid': 'abc', 'x-panel-id': '2' };
const START = String(END - 3600);

describe('promgate --aws in front of AMP (a stand-in: botocore-checked SigV4, a real Prometheus behind)', () => {
  let prometheus: PromServer;
  let verifier: Verifier;
  let signed: Gateway;
  let plain: Gateway;

  before(async () => {
    // Prometheus scrapes itself as a tenant-a app, so that metadata has targets and entries to read.
    const port = await freePort();
    const config = `global: {scrape_interval: 1s}\nscrape_configs:\n  - {job_name: app, static_configs: [{targets: ["127.0.0.1:${port}"], labels: {namespace: tenant-a}}]}\n`;
    prometheus = await startPrometheus(toOpenMetrics(tenantData(['tenant-a', 'tenant-b'])), { port, config });
    verifier = await startVerifier({ upstream: prometheus.url, region: REGION });
    verifier.keys.add(KEYS);
    const env = awsEnv({ AWS_REGION: REGION, AWS_ACCESS_KEY_ID: KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey, AWS_SESSION_TOKEN: KEYS.sessionToken });
    [signed, plain] = await Promise.all([
      startGateway({ upstream: verifier.url, authConfig: USERS, args: ['--aws'], env }),
      startGateway({ upstream: prometheus.url, authConfig: USERS }),
    ]);
    for (let i = 0; i < 100; i++) {
      const { body } = await callApi(prometheus.url, '/api/v1/targets/metadata', { match_target: '{job="app"}' });
      if ((body?.data?.length ?? 0) > 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('Prometheus did not scrape itself');
  });
  after(async () => {
    await Promise.all([signed?.stop(), plain?.stop()]);
    await verifier?.stop();
    await prometheus?.stop();
  });

  /** The verdicts of what `run` sent through AMP's stand-in. */
  const checked = async (run: () => Promise<void>): Promise<Verdict[]> => {
    const before = verifier.verdicts().length;
    await run();
    return verifier.verdicts().slice(before);
  };

  const same = async (path: string, params: [string, string][], method: 'GET' | 'POST'): Promise<Verdict[]> =>
    checked(async () => {
      const [got, want] = await Promise.all([
        callApi(signed.base, path, params, { method, headers: GRAFANA }),
        callApi(plain.base, path, params, { method, headers: GRAFANA }),
      ]);
      assert.equal(got.status, 200, `${method} ${path}: ${JSON.stringify(got.body)}`);
      assert.equal(want.status, 200);
      assert.equal(difference(normalise(got.body), normalise(want.body)), null, `${method} ${path}`);
    });

  const CASES: [string, string, [string, string][]][] = [
    ['an instant query', '/api/v1/query', [['query', 'sum by (pod) (rate(http_requests_total{code=~"5.."}[5m]))'], ['time', String(END)]]],
    ['a range query', '/api/v1/query_range', [['query', 'count({__name__=~"http_.*", code!="200"}) * 2'], ['start', START], ['end', String(END)], ['step', '60']]],
    ['series', '/api/v1/series', [['match[]', 'up'], ['match[]', "kube_pod_info{pod!='x'}"], ['start', START], ['end', String(END)]]],
    ['label names', '/api/v1/labels', [['start', START], ['end', String(END)]]],
  ];
  for (const [what, path, params] of CASES) {
    for (const method of ['GET', 'POST'] as const) {
      it(`${what} by ${method} passes the check and answers as unsigned`, async () => {
        const verdicts = await same(path, params, method);
        assert.ok(verdicts.length > 0, 'it went through AMP’s stand-in');
        assert.deepEqual(verdicts.map((v) => [v.method, v.ok, v.key]), verdicts.map(() => [method, true, KEYS.accessKeyId]), JSON.stringify(verdicts));
        assert.ok(verdicts.every((v) => v.path.startsWith(`${WORKSPACE_PREFIX}${path}`)), 'the workspace prefix is signed');
      });
    }
  }

  it('label values, the path naming the label', async () => {
    for (const label of ['pod', '__name__']) {
      const verdicts = await same(`/api/v1/label/${label}/values`, [['match[]', 'http_requests_total'], ['start', START], ['end', String(END)]], 'GET');
      assert.ok(verdicts.length > 0 && verdicts.every((v) => v.ok), JSON.stringify(verdicts));
    }
  });

  it("metadata: promgate's own calls (a query, the targets' metadata) are signed too", async () => {
    const verdicts = await checked(async () => {
      const got = await callApi(signed.base, '/api/v1/metadata', [], { headers: GRAFANA });
      const want = await callApi(plain.base, '/api/v1/metadata', [], { headers: GRAFANA });
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual(Object.keys(got.body.data).sort(), Object.keys(want.body.data).sort());
      assert.ok(Object.keys(got.body.data).includes('prometheus_build_info'));
    });
    assert.deepEqual(verdicts.map((v) => [v.path.split('?')[0], v.ok]), [
      [`${WORKSPACE_PREFIX}/api/v1/query`, true],
      [`${WORKSPACE_PREFIX}/api/v1/targets/metadata`, true],
    ]);
  });

  it('a workspace path that needs percent-encoding, and parameters that do', async () => {
    const odd = await startGateway({
      upstream: `${verifier.origin}/workspaces/ws-%C3%A9t%C3%A9%20(1)%2Bx`,
      authConfig: USERS,
      args: ['--aws'],
      env: awsEnv({ AWS_REGION: REGION, AWS_ACCESS_KEY_ID: KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey, AWS_SESSION_TOKEN: KEYS.sessionToken }),
    });
    try {
      const params: [string, string][] = [['query', `label_replace(up, "x", "a+b c/d?e&f=g%h'(!)*~", "", "")`], ['time', String(END)]];
      for (const method of ['GET', 'POST'] as const) {
        const verdicts = await checked(async () => {
          const [got, want] = await Promise.all([
            callApi(odd.base, '/api/v1/query', params, { method, headers: GRAFANA }),
            callApi(plain.base, '/api/v1/query', params, { method, headers: GRAFANA }),
          ]);
          assert.equal(got.status, 200, JSON.stringify(got.body));
          assert.equal(difference(normalise(got.body), normalise(want.body)), null);
          assert.equal(got.body.data.result[0].metric.x, "a+b c/d?e&f=g%h'(!)*~");
        });
        assert.equal(verdicts.length, 1);
        assert.equal(verdicts[0]!.ok, true, verdicts[0]!.reason);
        assert.match(verdicts[0]!.path, /^\/workspaces\/ws-%C3%A9t%C3%A9%20\(1\)%2Bx\/api\/v1\/query/);
      }
    } finally {
      await odd.stop();
    }
  });

  it("passes AWS's 403 on as it came when the signature does not match", async () => {
    const wrong = await startGateway({
      upstream: verifier.url,
      authConfig: USERS,
      args: ['--aws'],
      env: awsEnv({ AWS_REGION: REGION, AWS_ACCESS_KEY_ID: KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: 'not-the-secret', AWS_SESSION_TOKEN: KEYS.sessionToken }),
    });
    try {
      const got = await callApi(wrong.base, '/api/v1/query', [['query', 'up'], ['time', String(END)]], { method: 'POST', headers: GRAFANA });
      assert.equal(got.status, 403);
      assert.equal(got.headers.get('x-amzn-errortype'), 'InvalidSignatureException:');
      assert.deepEqual(got.body, {
        message:
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      });
      assert.equal(verifier.verdicts().at(-1)!.type, 'InvalidSignatureException');
    } finally {
      await wrong.stop();
    }
  });

  it("never sends the client's Authorization: the only one upstream is promgate's signature", async () => {
    // AMP's stand-in reads the one Authorization header it gets as SigV4: a client's Basic credentials there would fail the check.
    const verdicts = await same('/api/v1/query', [['query', 'up'], ['time', String(END)]], 'GET');
    assert.deepEqual(verdicts.map((v) => v.ok), [true]);
  });

  it('logs what it signs for at start-up', () => {
    assert.match(signed.log(), /"credentials":"--aws".*requests signed with AWS SigV4 for aps in eu-west-1/);
    assert.doesNotMatch(signed.log(), new RegExp(KEYS.secretAccessKey.replace(/[/+]/g, '.')));
  });
});
