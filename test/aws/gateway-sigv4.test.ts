// Gateway mode's per-component sigv4 block against AMP's stand-in (test/support/aws.ts: botocore-checked SigV4 in
// front of real Prometheus servers): static keys, a profile, a role assumed through a loopback STS, and remote
// write from a real Prometheus, whose streamed body promgate reads whole to hash before sending it on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsEnv, startCredentialService, startVerifier, type CredentialService, type Verifier } from '../support/aws.js';
import { callApi, difference, normalise } from '../support/compare.js';
import { basicAuth, cliCommand, ROOT, startGateway, type Gateway } from '../support/gateway.js';
import { freePort, freePorts, startPrometheus, type PromServer } from '../support/prometheus.js';
import { END, tenantData, toOpenMetrics } from '../support/tenant-data.js';

const REGION = 'eu-central-1';
const ROLE = 'arn:aws:iam::123456789012:role/amp-remote-write';
const QUERY_KEYS = { accessKeyId: 'AKIAGATEWAYQUERY0001', secretAccessKey: 'gateway-query-secret' };
const BASE_KEYS = { accessKeyId: 'AKIAGATEWAYBASE00001', secretAccessKey: 'gateway-base-secret' };
const PROFILE_KEYS = { accessKeyId: 'AKIAGATEWAYPROFILE01', secretAccessKey: 'gateway-profile-secret' };
const WRITER = basicAuth('writer', 'writer-password');

describe("gateway mode: a component's sigv4 block, against AMP's stand-in", () => {
  let query: PromServer;
  let receiver: PromServer;
  let amp: Verifier;
  let ampWrite: Verifier;
  let sts: CredentialService;
  const dir = mkdtempSync(join(tmpdir(), 'promgate-gw-sigv4-'));

  /** A gateway file: tenant writer (id team-a), the component `amp` with `sigv4`, and routes to it. */
  const gatewayFile = (name: string, components: string[], routes: string[]): string => {
    const path = join(dir, name);
    writeFileSync(path, ['tenants:', '  - {username: writer, password: writer-password, id: team-a}', 'components:', ...components, 'routes:', ...routes, ''].join('\n'));
    return path;
  };
  const queryComponent = (sigv4: string) => `  amp: {url: "${amp.url}", sigv4: ${sigv4}}`;
  const QUERY_ROUTE = '  - {path: /amp, match: prefix, component: amp, enforcement: header}';

  before(async () => {
    const data = toOpenMetrics(tenantData(['team-a']));
    [query, receiver] = await Promise.all([startPrometheus(data, { routePrefix: '/amp' }), startPrometheus('# EOF\n', { args: ['--web.enable-remote-write-receiver'] })]);
    [amp, ampWrite] = await Promise.all([startVerifier({ upstream: query.url, region: REGION }), startVerifier({ upstream: receiver.url, region: REGION })]);
    amp.keys.add(QUERY_KEYS);
    amp.keys.add(PROFILE_KEYS);
    sts = await startCredentialService(ampWrite.keys, { assumeRoleKey: BASE_KEYS.accessKeyId });
  });
  after(async () => {
    await sts?.stop();
    await Promise.all([amp?.stop(), ampWrite?.stop()]);
    await Promise.all([query?.stop(), receiver?.stop()]);
  });

  /** A query through the gateway's /amp route, GET and POST, compared with the Prometheus behind; the keys that signed it. */
  const querySigned = async (gateway: Gateway): Promise<(string | undefined)[]> => {
    const before = amp.verdicts().length;
    const params: [string, string][] = [['query', 'sum by (pod) (rate(http_requests_total[5m]))'], ['time', String(END)]];
    const direct = await callApi(query.url, '/amp/api/v1/query', params);
    for (const method of ['GET', 'POST'] as const) {
      const got = await callApi(gateway.base, '/amp/api/v1/query', params, { method, headers: WRITER });
      assert.equal(got.status, 200, `${method}: ${JSON.stringify(got.body)}`);
      assert.equal(difference(normalise(got.body), normalise(direct.body)), null, method);
    }
    const verdicts = amp.verdicts().slice(before);
    assert.deepEqual(verdicts.map((v) => v.ok), [true, true], JSON.stringify(verdicts));
    return verdicts.map((v) => v.key);
  };

  it('static keys: queries by GET and POST pass the check and answer as the Prometheus behind', async () => {
    const file = gatewayFile('static.yaml', [queryComponent(`{region: ${REGION}, access_key: ${QUERY_KEYS.accessKeyId}, secret_key: ${QUERY_KEYS.secretAccessKey}}`)], [QUERY_ROUTE]);
    const gateway = await startGateway({ args: ['--config', file], env: awsEnv() });
    try {
      assert.deepEqual(await querySigned(gateway), [QUERY_KEYS.accessKeyId, QUERY_KEYS.accessKeyId]);
      assert.match(gateway.log(), /"credentials":"amp".*amp: requests signed with AWS SigV4 for aps in eu-central-1/);
    } finally {
      await gateway.stop();
    }
  });

  it("a profile of the shared credentials file, in the environment's region", async () => {
    const credentials = join(dir, 'credentials');
    writeFileSync(credentials, `[amp-team]\naws_access_key_id = ${PROFILE_KEYS.accessKeyId}\naws_secret_access_key = ${PROFILE_KEYS.secretAccessKey}\n`);
    const file = gatewayFile('profile.yaml', [queryComponent('{profile: amp-team}')], [QUERY_ROUTE]);
    const gateway = await startGateway({ args: ['--config', file], env: awsEnv({ AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_REGION: REGION }) });
    try {
      assert.deepEqual(await querySigned(gateway), [PROFILE_KEYS.accessKeyId, PROFILE_KEYS.accessKeyId]);
    } finally {
      await gateway.stop();
    }
  });

  it('remote write from a real Prometheus, signed with a role assumed through STS: the pushed series arrive', async () => {
    const file = gatewayFile(
      'write.yaml',
      [`  amp-write: {url: "${ampWrite.url}", sigv4: {region: ${REGION}, access_key: ${BASE_KEYS.accessKeyId}, secret_key: ${BASE_KEYS.secretAccessKey}, role_arn: "${ROLE}"}}`],
      ['  - {path: /api/v1/write, component: amp-write, enforcement: header}'],
    );
    const gateway = await startGateway({ args: ['--config', file], env: awsEnv({ AWS_ENDPOINT_URL_STS: sts.url }) });
    const port = await freePort();
    const writer = await startPrometheus('# EOF\n', {
      port,
      config: [
        'global: {scrape_interval: 1s, external_labels: {writer: signed}}',
        'scrape_configs:',
        `  - {job_name: self, static_configs: [{targets: ["127.0.0.1:${port}"]}]}`,
        'remote_write:',
        `  - url: ${gateway.base}/api/v1/write`,
        '    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}',
        '    basic_auth: {username: writer, password: writer-password}',
      ].join('\n'),
    });
    try {
      const arrived = async () => (await callApi(receiver.url, '/api/v1/query', { query: 'count(up{job="self", writer="signed"})' })).body?.data?.result?.length ?? 0;
      const deadline = Date.now() + 60_000;
      while ((await arrived()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      assert.equal(await arrived(), 1, 'the pushed series reached the receiver behind AMP’s stand-in');
      const pushes = ampWrite.verdicts().filter((v) => v.path.endsWith('/api/v1/write'));
      assert.ok(pushes.length > 0);
      assert.deepEqual(pushes.filter((v) => !v.ok), [], 'every push passed the check, its body hashed as sent');
      const assumed = new Set(sts.issued['sts-assume-role'].map((c) => c.accessKeyId));
      assert.ok(pushes.every((v) => assumed.has(v.key!)), 'signed with the assumed role’s credentials');
      assert.equal(sts.issued['sts-assume-role'].length, 1, 'assumed once, then cached');
    } finally {
      await writer.stop();
      await gateway.stop();
    }
  });

  it('a component without credentials stops start-up, naming it; --aws is refused beside --config', async () => {
    const file = gatewayFile('none.yaml', [queryComponent('{}')], [QUERY_ROUTE]);
    const [port, debug] = (await freePorts(2)) as [number, number];
    const run = (...extra: string[]) => {
      const [bin, argv] = cliCommand(['run', '--config', file, '--port', String(port), '--internal-port', String(debug), ...extra]);
      return spawnSync(bin, argv, { cwd: ROOT, env: { ...process.env, ...awsEnv() }, encoding: 'utf8', timeout: 60_000 });
    };
    const none = run();
    assert.equal(none.status, 1, none.stdout + none.stderr);
    assert.match(none.stdout + none.stderr, /none\.yaml:4: components\.amp\.sigv4: no AWS credentials: Could not load credentials from any providers; tried environment variables/);
    const aws = run('--aws');
    assert.equal(aws.status, 1);
    assert.match(aws.stdout + aws.stderr, /--aws is k8spin mode's: with --config .* each component's sigv4 block take its place/);
  });
});
