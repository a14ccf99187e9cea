// The HTTPS listener with real certificates (openssl) and a real Prometheus behind: each of Go's client-auth modes
// with no certificate, a good one, an expired one, one from a foreign CA, one for another user and one naming
// nobody; mtls and basic together, each user seeing only their own namespaces; plain HTTP sent to the TLS port.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { callApi, difference, normalise } from '../support/compare.js';
import { testPki, type Pair, type TestPki } from '../support/certificates.js';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { startTenantFixture, type TenantFixture } from '../support/tenant-data.js';
import { httpsGet, tlsAgent, type HttpsOutcome } from '../support/tls-client.js';

const USERS = `users:
  - username: alice
    password: alice-pw
    namespace: tenant-a
  - username: bob
    namespace: tenant-b
`;

const MODES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
type Mode = (typeof MODES)[number];
const CLIENTS = ['none', 'alice', 'bob', 'mallory', 'expired', 'foreign'] as const;
type Client = (typeof CLIENTS)[number];

/** What a request gets: the namespaces it sees, a status, or `refused` when the connection never served it. */
type Seen = string;

// Without a password (the first of each pair) and with alice's (the second). A listener that verifies client
// certificates authenticates with `mtls,basic`: a certificate, when sent, decides; the others with `basic`.
const EXPECTED: Readonly<Record<Mode, Readonly<Record<Client, readonly [Seen, Seen]>>>> = {
  NoClientCert: {
    none: ['401', 'tenant-a'], alice: ['401', 'tenant-a'], bob: ['401', 'tenant-a'],
    mallory: ['401', 'tenant-a'], expired: ['401', 'tenant-a'], foreign: ['401', 'tenant-a'],
  },
  RequestClientCert: {
    none: ['401', 'tenant-a'], alice: ['401', 'tenant-a'], bob: ['401', 'tenant-a'],
    mallory: ['401', 'tenant-a'], expired: ['401', 'tenant-a'], foreign: ['401', 'tenant-a'],
  },
  RequireAnyClientCert: {
    none: ['refused', 'refused'], alice: ['401', 'tenant-a'], bob: ['401', 'tenant-a'],
    mallory: ['401', 'tenant-a'], expired: ['401', 'tenant-a'], foreign: ['401', 'tenant-a'],
  },
  VerifyClientCertIfGiven: {
    none: ['401', 'tenant-a'], alice: ['tenant-a', 'tenant-a'], bob: ['tenant-b', 'tenant-b'],
    mallory: ['401', '401'], expired: ['refused', 'refused'], foreign: ['refused', 'refused'],
  },
  RequireAndVerifyClientCert: {
    none: ['refused', 'refused'], alice: ['tenant-a', 'tenant-a'], bob: ['tenant-b', 'tenant-b'],
    mallory: ['401', '401'], expired: ['refused', 'refused'], foreign: ['refused', 'refused'],
  },
};

const verifies = (mode: Mode) => mode === 'VerifyClientCertIfGiven' || mode === 'RequireAndVerifyClientCert';

function listenerArgs(pki: TestPki, mode: Mode): string[] {
  return [
    '--tls-cert-file', pki.server.cert,
    '--tls-key-file', pki.server.key,
    '--tls-client-auth', mode,
    ...(mode === 'NoClientCert' ? [] : ['--tls-client-ca-file', pki.ca.cert]),
    '--auth-type', verifies(mode) ? 'mtls,basic' : 'basic',
  ];
}

describe('TLS listener', () => {
  let fixture: TenantFixture;
  let pki: TestPki;
  let mallory: Pair;
  const gateways = new Map<Mode, Gateway>();

  before(async () => {
    pki = testPki();
    mallory = pki.certificates.issue(pki.ca, 'mallory', { cn: 'mallory', usage: 'client' });
    fixture = await startTenantFixture();
    const started = await Promise.all(
      MODES.map((mode) => startGateway({ upstream: fixture.all.url, authConfig: USERS, https: true, args: listenerArgs(pki, mode) })),
    );
    MODES.forEach((mode, i) => gateways.set(mode, started[i]!));
  });
  after(async () => {
    await Promise.all([...gateways.values()].map((g) => g.stop()));
    await fixture?.stop();
  });

  const pairOf = (client: Client): Pair | undefined =>
    client === 'none' ? undefined : client === 'mallory' ? mallory : pki[client];

  async function seen(mode: Mode, client: Client, withPassword: boolean): Promise<Seen> {
    const url = `${gateways.get(mode)!.base}/api/v1/label/namespace/values`;
    const pair = pairOf(client);
    const outcome: HttpsOutcome = await httpsGet(url, { ca: pki.ca.cert, ...(pair !== undefined && { pair }) }, withPassword ? basicAuth('alice', 'alice-pw') : {});
    if ('failed' in outcome) return 'refused';
    if (outcome.status !== 200) return String(outcome.status);
    return (JSON.parse(outcome.body) as { data: string[] }).data.join(',');
  }

  for (const mode of MODES) {
    it(`${mode}: no certificate, a good one, another user's, one naming nobody, an expired one, a foreign CA's`, async () => {
      const got: Record<string, [Seen, Seen]> = {};
      for (const client of CLIENTS) got[client] = [await seen(mode, client, false), await seen(mode, client, true)];
      assert.deepEqual(got, EXPECTED[mode], gateways.get(mode)!.log().slice(-2000));
    });
  }

  it('says in the log why a certificate was refused where Node does not refuse it itself', async () => {
    await seen('VerifyClientCertIfGiven', 'expired', false);
    await gateways.get('VerifyClientCertIfGiven')!.logMatching(/TLS connection refused.*CERT_HAS_EXPIRED|CERT_HAS_EXPIRED.*TLS connection refused/);
    await seen('RequireAnyClientCert', 'none', false);
    await gateways.get('RequireAnyClientCert')!.logMatching(/no client certificate/);
  });

  it('answers plain HTTP sent to the TLS port with a 400 that says so, and keeps serving HTTPS', async () => {
    const gateway = gateways.get('NoClientCert')!;
    const port = Number(new URL(gateway.base).port);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /api/v1/query?query=up HTTP/1.1\r\nHost: promgate\r\n\r\n'));
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(5000, () => reject(new Error(`no close after ${JSON.stringify(text)}`)));
    });
    assert.equal(answer, 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
    assert.equal(await seen('NoClientCert', 'none', true), 'tenant-a');
  });

  it('mtls,basic: a certificate user and a password user each see only their own namespaces', async () => {
    const gateway = gateways.get('VerifyClientCertIfGiven')!;
    const bobAgent = tlsAgent({ ca: pki.ca.cert, pair: pki.bob });
    const aliceAgent = tlsAgent({ ca: pki.ca.cert });
    try {
      const end = String(fixture.end);
      const failures: string[] = [];
      const users = [
        { name: 'bob (certificate)', dispatcher: bobAgent, headers: {}, subset: 'tenant-b' },
        { name: 'alice (password)', dispatcher: aliceAgent, headers: basicAuth('alice', 'alice-pw'), subset: 'tenant-a' },
      ];
      for (const user of users) {
        for (const method of ['GET', 'POST'] as const) {
          for (const query of ['up', 'up{namespace="tenant-a"}', 'up{namespace="tenant-b"}', 'sum by (namespace) (rate(http_requests_total[5m]))', 'count({__name__=~".+"})']) {
            const params: [string, string][] = [['query', query], ['time', end]];
            const got = await callApi(gateway.base, '/api/v1/query', params, { method, headers: user.headers, dispatcher: user.dispatcher });
            assert.equal(got.status, 200, `${user.name} ${query}: ${JSON.stringify(got.body)}`);
            const want = await callApi(fixture.subsets[user.subset]!.url, '/api/v1/query', params, { method });
            const diff = difference(normalise(got.body), normalise(want.body));
            if (diff !== null) failures.push(`${user.name} ${method} ${query}: ${diff}`);
          }
          const range: [string, string][] = [['start', String(fixture.end - 3600)], ['end', end]];
          for (const path of ['/api/v1/labels', '/api/v1/label/namespace/values']) {
            const got = await callApi(gateway.base, path, range, { method: path.includes('values') ? 'GET' : method, headers: user.headers, dispatcher: user.dispatcher });
            const want = await callApi(fixture.subsets[user.subset]!.url, path, range, { method: path.includes('values') ? 'GET' : method });
            const diff = difference(normalise(got.body), normalise(want.body));
            if (diff !== null) failures.push(`${user.name} ${method} ${path}: ${diff}`);
          }
        }
      }
      assert.deepEqual(failures, []);
      // A certificate decides even beside a password: bob's certificate with alice's password is bob.
      const both = await callApi(gateway.base, '/api/v1/label/namespace/values', [], { headers: basicAuth('alice', 'alice-pw'), dispatcher: bobAgent });
      assert.deepEqual(both.body.data, ['tenant-b']);
      // bob has no password: a password never logs in as a certificate-only user.
      const guess = await callApi(gateway.base, '/api/v1/label/namespace/values', [], { headers: basicAuth('bob', ''), dispatcher: aliceAgent });
      assert.equal(guess.status, 401);
    } finally {
      await Promise.all([bobAgent.close(), aliceAgent.close()]);
    }
  });
});
