// A JWKS served over HTTP by a real local server that rotates keys and goes down mid-test.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createJwtAuthenticator } from '../../src/auth/jwt/index.js';
import { KeyRing } from '../../src/auth/jwt/keyring.js';
import { jwtMetrics } from '../../src/auth/jwt/metrics.js';
import { remoteJwksSource } from '../../src/auth/jwt/remote-jwks.js';
import { verifyToken } from '../../src/auth/jwt/verify.js';
import type { Authenticator } from '../../src/auth/types.js';
import type { Deps } from '../../src/observability/deps.js';
import { bearer, jwtOptions, rsaKeyPair, testDeps } from './support.js';

type Pair = ReturnType<typeof rsaKeyPair>;
const jwk = (kid: string, pair: Pair) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' });
const sign = (kid: string, pair: Pair, claims: Record<string, unknown> = { namespaces: ['a'] }) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(pair.privateKey);

/** A JWKS endpoint whose answer the test sets, that counts its requests and can be stopped and started again. */
class JwksServer {
  body = '{"keys":[]}';
  requests = 0;
  private server: Server | undefined;
  private port = 0;

  async start(): Promise<void> {
    const server = createServer((_req, res) => {
      this.requests++;
      res.setHeader('content-type', 'application/json');
      res.end(this.body);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  serve(...keys: object[]): void {
    this.body = JSON.stringify({ keys });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

async function metric(deps: Deps, name: string): Promise<number> {
  const found = deps.registry.getSingleMetric(name);
  const values = (await found?.get())?.values ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const servers: JwksServer[] = [];
const closers: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(closers.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.stop()));
});
async function jwksServer(...keys: object[]): Promise<JwksServer> {
  const server = new JwksServer();
  server.serve(...keys);
  await server.start();
  servers.push(server);
  return server;
}

const options = { leewaySeconds: 60, requireExp: false };

describe('remote JWKS key source', () => {
  it('picks up a new key on an unknown kid, drops a removed key, and keeps the last good keys while the server is down', async () => {
    const [k1, k2, k3] = [rsaKeyPair(), rsaKeyPair(), rsaKeyPair()];
    const server = await jwksServer(jwk('k1', k1));
    const deps = testDeps();
    const source = await remoteJwksSource({ url: server.url, refreshIntervalMs: 0, minRefreshGapMs: 100 }, deps, jwtMetrics(deps.registry));
    assert.ok(source.ok);
    closers.push(source.value);
    const ring = new KeyRing([source.value]);
    const verify = async (token: string) => (await verifyToken(token, ring, options)).ok;

    assert.equal(await verify(await sign('k1', k1)), true);

    // Rotation: k2 is added, k1 removed. A token naming k2 makes the source look again.
    server.serve(jwk('k2', k2));
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await verify(await sign('k2', k2)), true, 'the new key was not picked up');
    assert.equal(await verify(await sign('k1', k1)), false, "the removed key's tokens still verify");

    // The server goes down: the last good keys keep serving, the failure is counted.
    await server.stop();
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await verify(await sign('k3', k3)), false);
    assert.equal(await metric(deps, 'promgate_jwks_refresh_failures_total'), 1);
    assert.equal(await verify(await sign('k2', k2)), true, 'the last good keys were dropped while the server was down');

    // A bad answer (not a JWKS) is no better than none.
    await server.start();
    server.body = '<html>maintenance</html>';
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await verify(await sign('k3', k3)), false);
    assert.equal(await metric(deps, 'promgate_jwks_refresh_failures_total'), 2);
    assert.equal(await verify(await sign('k2', k2)), true);

    // Back: k3 arrives.
    server.serve(jwk('k2', k2), jwk('k3', k3));
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await verify(await sign('k3', k3)), true);
    assert.equal(await metric(deps, 'promgate_jwks_keys'), 2);
  });

  it('refreshes on the interval too', async () => {
    const [k1, k2] = [rsaKeyPair(), rsaKeyPair()];
    const server = await jwksServer(jwk('k1', k1));
    const deps = testDeps();
    const source = await remoteJwksSource({ url: server.url, refreshIntervalMs: 50, minRefreshGapMs: 60_000 }, deps, jwtMetrics(deps.registry));
    assert.ok(source.ok);
    closers.push(source.value);
    server.serve(jwk('k2', k2));
    await until(() => source.value.keys().some((k) => k.kid === 'k2'), 'the interval refresh');
    assert.ok(!source.value.keys().some((k) => k.kid === 'k1'));
  });

  it('fetches at most once for a burst of unknown kids, then not again within the minimum gap', async () => {
    const pair = rsaKeyPair();
    const server = await jwksServer(jwk('k1', pair));
    const deps = testDeps();
    const source = await remoteJwksSource({ url: server.url, refreshIntervalMs: 0, minRefreshGapMs: 60_000 }, deps, jwtMetrics(deps.registry));
    assert.ok(source.ok);
    closers.push(source.value);
    const ring = new KeyRing([source.value]);
    assert.equal(server.requests, 1);
    const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => sign(`forged-${i}`, rsaKeyPair())));
    const results = await Promise.all(forged.map((t) => verifyToken(t, ring, options)));
    assert.ok(results.every((r) => !r.ok && r.error.result === 'unknown_kid'));
    assert.equal(server.requests, 1, 'unknown kids fetched the JWKS within the minimum gap');
  });

  it('does not start when the first fetch fails', async () => {
    const server = await jwksServer();
    await server.stop();
    const created = await createJwtAuthenticator(jwtOptions({ authConfig: server.url }), testDeps());
    assert.equal(created.ok, false);
  });
});

describe('remote JWKS through the authenticator', () => {
  it("serves k8spin-style HMAC keys from a URL, and rotates with the default 10 s gap", { timeout: 30_000 }, async () => {
    const [k1, k2] = [rsaKeyPair(), rsaKeyPair()];
    const hmac = { kty: 'oct', kid: 'hmac-key', k: Buffer.from('lala').toString('base64url') };
    const server = await jwksServer(hmac, jwk('k1', k1));
    const started = Date.now();
    const created = await createJwtAuthenticator(jwtOptions({ authConfig: server.url, reloadIntervalMinutes: 5 }), testDeps());
    assert.ok(created.ok, !created.ok ? created.error : '');
    const auth: Authenticator = created.value;
    closers.push(auth);

    const hmacToken = await new SignJWT({ namespaces: ['h'] }).setProtectedHeader({ alg: 'HS256', kid: 'hmac-key' }).sign(new TextEncoder().encode('lala'));
    assert.ok((await bearer(auth, hmacToken)).ok);
    const old = await sign('k1', k1);
    assert.ok((await bearer(auth, old)).ok);
    assert.ok((await bearer(auth, old)).ok); // cached

    server.serve(hmac, jwk('k2', k2));
    const fresh = await sign('k2', k2);
    // Within 10 s of the last fetch an unknown kid does not reach the server.
    const before = server.requests;
    assert.equal((await bearer(auth, fresh)).ok, false);
    assert.equal(server.requests, before);

    await new Promise((r) => setTimeout(r, Math.max(0, started + 10_100 - Date.now())));
    assert.ok((await bearer(auth, fresh)).ok, 'the new key was not picked up');
    assert.equal(server.requests, before + 1);
    const refused = await bearer(auth, old);
    assert.equal(!refused.ok && refused.status, 401, 'a cached token of the removed key still passes');
  });
});
