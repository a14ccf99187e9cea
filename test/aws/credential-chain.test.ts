// promgate --aws takes its credentials from the whole AWS chain, each provider here against a loopback stand-in
// (declared in test/support/aws.ts: STS, the ECS/EKS container endpoint, IMDSv2): environment variables, shared
// files with profiles (and a role assumed from one), a web identity token (IRSA), container credentials, instance
// metadata. Each promgate is a child process with none of this machine's AWS settings and IMDS off unless a case
// points it at its stand-in: nothing leaves loopback. AMP's stand-in accepts only the credentials the stand-ins
// handed out, while they are valid; so expiring credentials must be replaced without a failed request.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  awsEnv,
  ECS_AUTHORIZATION,
  IMDS_ROLE,
  startCredentialService,
  startVerifier,
  type CredentialService,
  type CredentialSource,
  type Verifier,
} from '../support/aws.js';
import { callApi } from '../support/compare.js';
import { basicAuth, cliCommand, ROOT, startGateway, type Gateway } from '../support/gateway.js';
import { freePorts, startPrometheus, type PromServer } from '../support/prometheus.js';
import { END, tenantData, toOpenMetrics } from '../support/tenant-data.js';

const USERS = 'users:\n  - {username: alice, password: alice-pw, namespace: tenant-a}\n';
const REGION = 'ap-southeast-2';
const ROLE = 'arn:aws:iam::123456789012:role/amp-query';
const WEB_IDENTITY_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bW9uaXRvcmluZzpwcm9tZ2F0ZSJ9.c2lnbmF0dXJl';
const STATIC = { accessKeyId: 'AKIASTATICENV0000001', secretAccessKey: 'static/secret+key' };
const PROFILE_KEYS = {
  default: { accessKeyId: 'AKIAPROFILEDEFAULT01', secretAccessKey: 'default-profile-secret' },
  team: { accessKeyId: 'AKIAPROFILETEAM00001', secretAccessKey: 'team-profile-secret' },
};

describe('promgate --aws: the AWS credential chain, each provider against a loopback stand-in', () => {
  let prometheus: PromServer;
  let verifier: Verifier;
  let service: CredentialService;
  const files = mkdtempSync(join(tmpdir(), 'promgate-aws-files-'));
  const file = (name: string, text: string): string => {
    const path = join(files, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    prometheus = await startPrometheus(toOpenMetrics(tenantData(['tenant-a', 'tenant-b'])));
    verifier = await startVerifier({ upstream: prometheus.url, region: REGION });
    service = await startCredentialService(verifier.keys, { webIdentityToken: WEB_IDENTITY_TOKEN, assumeRoleKey: PROFILE_KEYS.team.accessKeyId });
    for (const keys of [STATIC, PROFILE_KEYS.default, PROFILE_KEYS.team]) verifier.keys.add(keys);
  });
  after(async () => {
    await service?.stop();
    await verifier?.stop();
    await prometheus?.stop();
  });

  const start = (env: Record<string, string>): Promise<Gateway> =>
    startGateway({ upstream: verifier.url, authConfig: USERS, args: ['--aws'], env: awsEnv({ AWS_REGION: REGION, ...env }) });

  /** A query through promgate: its status, and the access key AMP's stand-in saw sign it. */
  const query = async (gateway: Gateway): Promise<{ status: number; key: string | undefined; body: any }> => {
    const before = verifier.verdicts().length;
    const { status, body } = await callApi(gateway.base, '/api/v1/query', [['query', 'sum(up)'], ['time', String(END)]], { method: 'POST', headers: basicAuth('alice', 'alice-pw') });
    const verdicts = verifier.verdicts().slice(before);
    return { status, body, key: verdicts.length === 1 && verdicts[0]!.ok ? verdicts[0]!.key : undefined };
  };

  /** Starts promgate with `env`, checks a query is signed with what `source` handed out, and stops it. */
  const signedBy = async (env: Record<string, string>, expected: () => string | undefined): Promise<Gateway> => {
    const gateway = await start(env);
    try {
      const got = await query(gateway);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.equal(got.key, expected());
      return gateway;
    } finally {
      await gateway.stop();
    }
  };
  const lastIssued = (source: CredentialSource) => () => service.issued[source].at(-1)?.accessKeyId;

  it('environment variables', async () => {
    await signedBy({ AWS_ACCESS_KEY_ID: STATIC.accessKeyId, AWS_SECRET_ACCESS_KEY: STATIC.secretAccessKey }, () => STATIC.accessKeyId);
  });

  it('the shared credentials file, with the profile AWS_PROFILE names', async () => {
    const credentials = file(
      'credentials',
      Object.entries(PROFILE_KEYS).map(([name, k]) => `[${name}]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n`).join('\n'),
    );
    await signedBy({ AWS_SHARED_CREDENTIALS_FILE: credentials }, () => PROFILE_KEYS.default.accessKeyId);
    await signedBy({ AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_PROFILE: 'team' }, () => PROFILE_KEYS.team.accessKeyId);
  });

  it("a role assumed from a config file's profile (role_arn, source_profile), through the loopback STS", async () => {
    const credentials = file('credentials-team', `[team]\naws_access_key_id = ${PROFILE_KEYS.team.accessKeyId}\naws_secret_access_key = ${PROFILE_KEYS.team.secretAccessKey}\n`);
    const config = file('config', `[profile query]\nrole_arn = ${ROLE}\nsource_profile = team\nregion = ${REGION}\n`);
    await signedBy(
      { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config, AWS_PROFILE: 'query', AWS_ENDPOINT_URL_STS: service.url },
      lastIssued('sts-assume-role'),
    );
    assert.equal(service.issued['sts-assume-role'].length, 1, 'STS took the AssumeRole signed by the team profile');
  });

  it('a web identity token file with AWS_ROLE_ARN (IRSA), through the loopback STS', async () => {
    const before = service.requests.length;
    const token = file('token', WEB_IDENTITY_TOKEN);
    await signedBy({ AWS_WEB_IDENTITY_TOKEN_FILE: token, AWS_ROLE_ARN: ROLE, AWS_ENDPOINT_URL_STS: service.url }, lastIssued('sts-web-identity'));
    const asked = service.requests.slice(before).map((r) => new URLSearchParams(r.body));
    assert.deepEqual(asked.map((f) => [f.get('Action'), f.get('RoleArn'), f.get('WebIdentityToken')]), [['AssumeRoleWithWebIdentity', ROLE, WEB_IDENTITY_TOKEN]]);
  });

  it('container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, with an EKS Pod Identity token file)', async () => {
    const token = file('pod-identity-token', ECS_AUTHORIZATION);
    await signedBy({ AWS_CONTAINER_CREDENTIALS_FULL_URI: service.ecsUrl, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: token }, lastIssued('ecs'));
  });

  it('IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT): a session token first, on every read', async () => {
    const before = service.requests.length;
    await signedBy({ AWS_EC2_METADATA_SERVICE_ENDPOINT: service.url, AWS_EC2_METADATA_DISABLED: 'false' }, lastIssued('imds'));
    const asked = service.requests.slice(before);
    assert.deepEqual(asked.map((r) => `${r.method} ${r.path}`).slice(0, 3), [
      'PUT /latest/api/token',
      'GET /latest/meta-data/iam/security-credentials/',
      `GET /latest/meta-data/iam/security-credentials/${IMDS_ROLE}`,
    ]);
    assert.ok(asked.slice(1).every((r) => typeof r.headers['x-aws-ec2-metadata-token'] === 'string'));
  });

  it('no credentials anywhere: exit status 1 and an error naming each provider tried', async () => {
    const [port, internal] = (await freePorts(2)) as [number, number];
    const [bin, argv] = cliCommand(['run', '--aws', '--port', String(port), '--internal-port', String(internal), '--prometheus-endpoint', verifier.url, '--auth-config', file('users.yaml', USERS)]);
    const r = spawnSync(bin, argv, { cwd: ROOT, env: { ...process.env, ...awsEnv() }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, /--aws: no AWS credentials: Could not load credentials from any providers; tried /);
    for (const provider of [/environment variables/, /shared config and credentials files/, /web identity token file/, /container credentials/, /instance metadata \(IMDSv2\): EC2 Instance Metadata Service access disabled/]) {
      assert.match(out, provider);
    }
  });

  it('refuses --aws beside an endpoint URL with credentials of its own (exit status 2)', () => {
    const [bin, argv] = cliCommand(['run', '--aws', '--prometheus-endpoint', 'https://user:pw@aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1']);
    const r = spawnSync(bin, argv, { cwd: ROOT, env: { ...process.env, ...awsEnv() }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--aws signs every request: --prometheus-endpoint must not carry credentials of its own/);
  });

  describe('credentials that expire (container credentials)', () => {
    after(() => {
      service.lifetimeMs = 3_600_000;
      service.failing = false;
    });
    const ecs = () => ({ AWS_CONTAINER_CREDENTIALS_FULL_URI: service.ecsUrl, AWS_CONTAINER_AUTHORIZATION_TOKEN: ECS_AUTHORIZATION });
    const ecsAsked = () => service.requests.filter((r) => r.path === '/ecs/credentials').length;
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('are replaced before they expire without a failed request, and no request waits on the refresh', async () => {
      // 8 s credentials: refreshed after 4 s, no longer used after 6 s.
      service.lifetimeMs = 8000;
      const gateway = await start(ecs());
      try {
        const first = service.issued.ecs.at(-1)!.accessKeyId;
        const askedAtStart = ecsAsked();
        // The refresh's answer is held: until it is let go, requests are signed with the first credentials, at once.
        let released = false;
        const release = service.hold(5000);
        const keys: (string | undefined)[] = [];
        while (ecsAsked() === askedAtStart) {
          const got = await query(gateway);
          assert.equal(got.status, 200, JSON.stringify(got.body));
          keys.push(got.key);
          await pause(100);
        }
        const seen = verifier.verdicts().length;
        const during = await Promise.all(Array.from({ length: 5 }, () => query(gateway)));
        assert.equal(released, false);
        assert.deepEqual(during.map((d) => d.status), [200, 200, 200, 200, 200], 'answered while the refresh was held');
        assert.deepEqual(verifier.verdicts().slice(seen).map((v) => [v.ok, v.key]), during.map(() => [true, first]));
        released = true;
        release();
        // Through the next refresh too: every request signed with credentials AMP's stand-in accepts.
        const until = Date.now() + 6000;
        while (Date.now() < until) {
          const got = await query(gateway);
          assert.equal(got.status, 200, JSON.stringify(got.body));
          assert.notEqual(got.key, undefined);
          keys.push(got.key);
          await pause(100);
        }
        assert.ok(new Set(keys).size >= 2, `signed with ${new Set(keys).size} sets of credentials`);
        assert.ok(service.issued.ecs.filter((c) => keys.includes(c.accessKeyId)).length >= 2);
        assert.deepEqual(verifier.verdicts().filter((v) => !v.ok), []);
      } finally {
        await gateway.stop();
      }
    });

    it('a refresh that fails keeps the last good ones while valid, is counted, then 502 with the reason, until one succeeds', async () => {
      // 30 s credentials: refreshed after 15 s, used until 22.5 s; the SDK retries a failing container endpoint
      // for some seconds before it gives up.
      service.lifetimeMs = 30_000;
      const gateway = await start(ecs());
      try {
        const first = service.issued.ecs.at(-1)!.accessKeyId;
        assert.equal((await query(gateway)).status, 200);
        service.failing = true;
        const failures = async (): Promise<number> => {
          const text = await (await fetch(`${gateway.internal}/metrics`)).text();
          return Number(/promgate_aws_credential_refresh_failures_total\{credentials="--aws"\} (\d+)/.exec(text)?.[1]);
        };
        assert.equal(await failures(), 0);
        const deadline = Date.now() + 60_000;
        while ((await failures()) === 0 && Date.now() < deadline) await pause(100);
        assert.equal(await failures(), 1);
        // The refresh failed: the credentials fetched first still sign.
        const kept = await query(gateway);
        assert.deepEqual([kept.status, kept.key], [200, first]);
        await gateway.logMatching(/AWS credentials could not be refreshed: the last good ones stay in use until/);
        // Once they are no longer valid: 502, saying why, and nothing sent.
        let refused: Awaited<ReturnType<typeof query>> | undefined;
        while (Date.now() < deadline) {
          const got = await query(gateway);
          if (got.status !== 200) {
            refused = got;
            break;
          }
          await pause(100);
        }
        assert.equal(refused?.status, 502);
        assert.equal(refused.body.errorType, 'unavailable');
        assert.match(refused.body.error, /no valid AWS credentials \(the last ones have expired\): Could not load credentials from any providers; tried .*; container credentials \(AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI: ECS, EKS Pod Identity\), else instance metadata \(IMDSv2\): gave no credentials$/);
        assert.equal(refused.key, undefined);
        // The endpoint is back: a retry succeeds, and requests are signed again.
        service.failing = false;
        let back: Awaited<ReturnType<typeof query>> | undefined;
        while (Date.now() < deadline + 60_000) {
          back = await query(gateway);
          if (back.status === 200) break;
          await pause(200);
        }
        assert.equal(back?.status, 200);
        assert.equal(back.key, service.issued.ecs.at(-1)!.accessKeyId);
        assert.notEqual(back.key, first);
      } finally {
        await gateway.stop();
      }
    });
  });
});
