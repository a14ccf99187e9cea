// JWTs end to end: `promgate run --auth-type jwt` (a child process) in front of a real Prometheus.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { callApi, difference, normalise } from '../support/compare.js';
import { cliCommand, ROOT, startGateway, type Gateway } from '../support/gateway.js';
import { startTenantFixture, type TenantFixture } from '../support/tenant-data.js';
import { b64u, nowSeconds, rawToken, rsaKeyPair } from './support.js';

const EXAMPLE_JWKS = JSON.parse(readFileSync(new URL('../../configs/jwks_example.json', import.meta.url), 'utf8')) as { keys: object[] };
const K8SPIN_TOKEN =
  'eyJhbGciOiJIUzI1NiIsImtpZCI6ImhtYWMta2V5In0.eyJuYW1lc3BhY2VzIjpbInByb21ldGhldXMiLCJhcHAtMSJdfQ.aMVibvV_meujcnRA1pgnSjBojtzvteZSf2xvq2MwZgc';
const CORTEX_TOKEN =
  'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0ZW5hbnRfaWQiOiJkZW1vIiwidmVyc2lvbiI6MX0.UnM-5mDK24xDkNPes4VMLzC1xBQ9tx3GKoEjrbdd4beY510t9Oj1w2IIfNO10Fe9QEowFchceJ95X-j30mO1Iw';

const rsa = rsaKeyPair();
const HMAC_SECRET = 'gateway-hmac-secret';
const JWKS = {
  keys: [
    ...EXAMPLE_JWKS.keys,
    { kty: 'oct', kid: 'team-hmac', alg: 'HS256', k: b64u(HMAC_SECRET) },
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'team-rsa', alg: 'RS256', use: 'sig' },
  ],
};
const rs256 = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'team-rsa' }).sign(rsa.privateKey);
const hs256 = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'team-hmac' }).sign(new TextEncoder().encode(HMAC_SECRET));

/** `promgate token ARGS` as users run it; resolves to its exit status and output. */
function tokenCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [bin, argv] = cliCommand(['token', ...args]);
  const result = spawnSync(bin, argv, { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

describe('promgate run --auth-type jwt, against a real Prometheus', () => {
  let fixture: TenantFixture;
  let gateway: Gateway;

  before(async () => {
    fixture = await startTenantFixture();
    gateway = await startGateway({
      upstream: fixture.all.url,
      authConfig: JSON.stringify(JWKS),
      authFileName: 'jwks.json',
      args: ['--auth-type', 'jwt'],
    });
  });
  after(async () => {
    await gateway?.stop();
    await fixture?.stop();
  });

  const QUERIES = ['up', 'up{namespace="tenant-b"}', 'count by (namespace, code) (http_requests_total)', '{__name__=~"kube.*"}', 'node_load1'];

  async function sameAsSubset(headers: Record<string, string>, subset: string): Promise<void> {
    for (const query of QUERIES) {
      for (const method of ['GET', 'POST'] as const) {
        const params: [string, string][] = [['query', query], ['time', String(fixture.end)]];
        const got = await callApi(gateway.base, '/api/v1/query', params, { method, headers });
        assert.equal(got.status, 200, `${query}: ${gateway.log().slice(-1500)}`);
        const want = await callApi(fixture.subsets[subset]!.url, '/api/v1/query', params, { method });
        assert.equal(difference(normalise(got.body), normalise(want.body)), null, `${method} ${query}`);
      }
    }
  }

  it('an RS256 token with namespaces sees exactly its namespace', async () => {
    await sameAsSubset({ authorization: `Bearer ${await rs256({ namespaces: ['tenant-a'] })}` }, 'tenant-a');
  });

  it('an HS256 token with two namespaces, sent in the Token header, sees both', async () => {
    await sameAsSubset({ token: await hs256({ namespaces: ['tenant-a', 'tenant-b'] }) }, 'tenant-a+tenant-b');
  });

  it('a token with a labels claim sees its label', async () => {
    await sameAsSubset({ authorization: `Bearer ${await rs256({ labels: { team: ['america'] } })}` }, 'team=america');
  });

  it("k8spin's example token works against k8spin's example JWKS", async () => {
    const got = await callApi(gateway.base, '/api/v1/query', { query: 'up', time: String(fixture.end) }, { headers: { authorization: `Bearer ${K8SPIN_TOKEN}` } });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.data.result, []); // its namespaces (prometheus, app-1) hold no series here
  });

  it('refuses missing, forged, expired and unfit tokens with 401 or 403', async () => {
    const query = { query: 'up', time: String(fixture.end) };
    const status = async (headers: Record<string, string>) => {
      const res = await callApi(gateway.base, '/api/v1/query', query, { headers });
      return [res.status, res.headers.get('www-authenticate')] as const;
    };
    const good = await rs256({ namespaces: ['tenant-a'] });
    const [h, , s] = good.split('.');
    assert.deepEqual(await status({}), [401, 'Bearer realm="promgate"']);
    assert.deepEqual(await status({ authorization: 'Basic YWxpY2U6YWxpY2UtcHc=' }), [401, null]);
    const refusals: [string, string, number][] = [
      ['alg none', rawToken({ alg: 'none', kid: 'team-rsa' }, { namespaces: ['tenant-b'] }), 401],
      ['tampered', `${h}.${b64u(JSON.stringify({ namespaces: ['tenant-b'] }))}.${s}`, 401],
      ['HS256 with the RSA public key', await new SignJWT({ namespaces: ['tenant-b'] }).setProtectedHeader({ alg: 'HS256', kid: 'team-rsa' })
        .sign(new TextEncoder().encode(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString())), 401],
      ['expired', await rs256({ namespaces: ['tenant-a'], exp: nowSeconds() - 3600 }), 401],
      ['not yet valid', await rs256({ namespaces: ['tenant-a'], nbf: nowSeconds() + 3600 }), 401],
      ['unknown kid', await new SignJWT({ namespaces: ['tenant-a'] }).setProtectedHeader({ alg: 'RS256', kid: 'other' }).sign(rsa.privateKey), 401],
      ['namespaces of the wrong type', await rs256({ namespaces: 'tenant-a,tenant-b'.split(',').map((n) => ({ n })) }), 401],
      ['no grant', await rs256({ sub: 'nobody' }), 403],
    ];
    for (const [name, token, want] of refusals) {
      assert.equal((await status({ authorization: `Bearer ${token}` }))[0], want, name);
    }
    // Over promgate's 16 KiB cap is also over Node's default header limit, which answers first.
    const huge = await rs256({ namespaces: ['tenant-a'], pad: 'x'.repeat(16 * 1024) });
    assert.ok([401, 431].includes((await status({ authorization: `Bearer ${huge}` }))[0]));
    // The reason is in the request's log line (JSON, hence the escaped quotes), never in the answer.
    await gateway.logMatching(/"status":401,.*"note":"claim \\"namespaces\\" must be/);
  });
});

/** Stands in for Cortex/Mimir, which read X-Scope-OrgID: records what reaches it and answers an empty vector. */
async function recordingUpstream(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("cortex-gateway's tokens: --jwt-secret, tenant_id as X-Scope-OrgID", () => {
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let gateway: Gateway;

  before(async () => {
    upstream = await recordingUpstream();
    // The recording upstream stands in for Cortex, which honours X-Scope-OrgID and cannot run here.
    gateway = await startGateway({
      upstream: upstream.url,
      authConfig: '',
      authFileName: 'unused',
      args: ['--auth-type', 'jwt', '--auth-config', '', '--jwt-secret', 'test', '--enforce', 'header'],
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it("sends cortex-gateway's example token's tenant upstream, and neither Authorization nor Token", async () => {
    const res = await fetch(`${gateway.base}/api/v1/query?query=up`, { headers: { authorization: `Bearer ${CORTEX_TOKEN}`, token: 'x', 'x-scope-orgid': 'other' } });
    assert.equal(res.status, 200, gateway.log().slice(-1500));
    const headers = upstream.seen.at(-1)!;
    assert.equal(headers['x-scope-orgid'], 'demo');
    assert.equal(headers.authorization, undefined);
    assert.equal(headers.token, undefined);
  });

  it('accepts a token minted by `promgate token --secret`, and refuses one with another secret', async () => {
    const minted = tokenCli('--secret', 'test', '--tenant-id', 'team-42', '--version', '1', '--expires-in', '1h');
    assert.equal(minted.status, 0, minted.stderr);
    const res = await fetch(`${gateway.base}/api/v1/query?query=up`, { headers: { authorization: `Bearer ${minted.stdout}` } });
    assert.equal(res.status, 200);
    assert.equal(upstream.seen.at(-1)!['x-scope-orgid'], 'team-42');

    const other = tokenCli('--secret', 'not-test', '--tenant-id', 'team-42');
    assert.equal((await fetch(`${gateway.base}/api/v1/query?query=up`, { headers: { authorization: `Bearer ${other.stdout}` } })).status, 401);
  });

  it('`promgate token` exits 2 on bad usage, and --version is the claim, not the program version', () => {
    assert.equal(tokenCli('--namespaces', 'a').status, 2);
    assert.equal(tokenCli('--secret', 's', '--namespaces', 'a', '--algorithm', 'RS256').status, 2);
    const minted = tokenCli('--secret', 's', '--namespaces', 'a', '--version', '3');
    assert.equal(minted.status, 0, minted.stderr);
    assert.equal(JSON.parse(Buffer.from(minted.stdout.split('.')[1]!, 'base64url').toString()).version, 3);
  });
});

describe('--enforce: what a token must carry, against a real Prometheus 2.42', () => {
  let fixture: TenantFixture;
  const gateways: Record<string, Gateway> = {};
  const SECRET = 'enforce-secret';
  const token = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  const namespaces = (answer: unknown): string[] =>
    ((answer as { data: string[] }).data ?? []).slice().sort();

  before(async () => {
    fixture = await startTenantFixture();
    for (const mode of ['labels', 'header', 'both']) {
      gateways[mode] = await startGateway({
        upstream: fixture.all.url,
        authConfig: '',
        authFileName: 'unused',
        args: ['--auth-type', 'jwt', '--auth-config', '', '--jwt-secret', SECRET, ...(mode === 'labels' ? [] : ['--enforce', mode])],
      });
    }
  });
  after(async () => {
    await Promise.all(Object.values(gateways).map((g) => g.stop()));
    await fixture?.stop();
  });

  const labelValues = async (mode: string, claims: Record<string, unknown>) =>
    callApi(gateways[mode]!.base, '/api/v1/label/namespace/values', [], { headers: { authorization: `Bearer ${await token(claims)}` } });

  it('refuses a tenant-only token by default (labels), saying why: a plain Prometheus would give it everything', async () => {
    const got = await labelValues('labels', { tenant_id: 'acme' });
    assert.equal(got.status, 403);
    assert.match(String((got.body as { error: string }).error), /names only a tenant .*not declared multi-tenant/);
    assert.match(gateways.labels!.log(), /enforcement: every selector gets the credential's matchers.*only a tenant id gets 403/);
  });

  it('serves a tenant-only token once the upstream is declared multi-tenant (--enforce header)', async () => {
    const got = await labelValues('header', { tenant_id: 'acme' });
    assert.equal(got.status, 200);
    // A plain Prometheus ignores the header: the operator who declares it multi-tenant answers for that.
    const all = await callApi(fixture.all.url, '/api/v1/label/namespace/values', []);
    assert.deepEqual(namespaces(got.body), namespaces(all.body));
  });

  it("keeps a token's namespaces in every mode, and refuses under header or both what lacks a tenant id", async () => {
    const want = namespaces((await callApi(fixture.subsets['tenant-a']!.url, '/api/v1/label/namespace/values', [])).body);
    for (const mode of ['labels', 'header', 'both']) {
      const got = await labelValues(mode, { namespaces: ['tenant-a'], tenant_id: 'acme' });
      assert.equal(got.status, 200, mode);
      assert.deepEqual(namespaces(got.body), want, mode);
    }
    assert.equal((await labelValues('header', { namespaces: ['tenant-a'] })).status, 403);
    assert.equal((await labelValues('both', { namespaces: ['tenant-a'] })).status, 403);
    assert.equal((await labelValues('both', { tenant_id: 'acme' })).status, 403);
    assert.equal((await labelValues('labels', { namespaces: ['tenant-a'] })).status, 200);
  });
});

describe('--enforce: X-Scope-OrgID is sent only where the mode says (a recording stand-in for Cortex)', () => {
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const gateways: Record<string, Gateway> = {};
  const token = new SignJWT({ namespaces: ['tenant-a'], tenant_id: 'acme' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('s'));

  before(async () => {
    upstream = await recordingUpstream();
    for (const mode of ['labels', 'both']) {
      gateways[mode] = await startGateway({ upstream: upstream.url, authConfig: '', authFileName: 'unused', args: ['--auth-type', 'jwt', '--auth-config', '', '--jwt-secret', 's', '--enforce', mode] });
    }
  });
  after(async () => {
    await Promise.all(Object.values(gateways).map((g) => g.stop()));
    await upstream?.close();
  });

  it('labels sends no header; both sends the token\'s tenant, never the client\'s', async () => {
    for (const [mode, want] of [['labels', undefined], ['both', 'acme']] as const) {
      const res = await fetch(`${gateways[mode]!.base}/api/v1/query?query=up`, { headers: { authorization: `Bearer ${await token}`, 'x-scope-orgid': 'evil' } });
      assert.equal(res.status, 200, mode);
      assert.equal(upstream.seen.at(-1)!['x-scope-orgid'], want, mode);
    }
  });
});
