// The tokens of the systems promgate replaces, against their own keys.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mintToken, signingKeyFromJwks, signingKeyFromPem } from '../../src/auth/jwt/mint.js';
import type { Authenticator, AuthOutcome } from '../../src/auth/types.js';
import { authenticator, bearer, jwtOptions, rsaKeyPair, testDeps } from './support.js';
import { viewOf } from '../support/request-view.js';
import { createJwtAuthenticator } from '../../src/auth/jwt/index.js';

const EXAMPLE_JWKS = new URL('../../configs/jwks_example.json', import.meta.url).pathname;
// k8spin's README token: kid hmac-key, {"namespaces":["prometheus","app-1"]}.
const K8SPIN_TOKEN =
  'eyJhbGciOiJIUzI1NiIsImtpZCI6ImhtYWMta2V5In0.eyJuYW1lc3BhY2VzIjpbInByb21ldGhldXMiLCJhcHAtMSJdfQ.aMVibvV_meujcnRA1pgnSjBojtzvteZSf2xvq2MwZgc';
// cortex-gateway's README token: HS512, no kid, {"tenant_id":"demo","version":1}, secret `test`.
const CORTEX_TOKEN =
  'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0ZW5hbnRfaWQiOiJkZW1vIiwidmVyc2lvbiI6MX0.UnM-5mDK24xDkNPes4VMLzC1xBQ9tx3GKoEjrbdd4beY510t9Oj1w2IIfNO10Fe9QEowFchceJ95X-j30mO1Iw';

const opened: Authenticator[] = [];
after(() => Promise.all(opened.map((a) => a.close())));
async function open(...args: Parameters<typeof jwtOptions>): Promise<Authenticator> {
  const auth = await authenticator(jwtOptions(...args));
  opened.push(auth);
  return auth;
}

function principalOf(outcome: AuthOutcome) {
  assert.ok(outcome.ok, `refused: ${outcome.ok ? '' : outcome.reason}`);
  return outcome.principal;
}

describe("k8spin's example JWKS", () => {
  it("accepts k8spin's example token (kid hmac-key, secret lala) and enforces its namespaces", async () => {
    const auth = await open({ authConfig: EXAMPLE_JWKS });
    const principal = principalOf(await bearer(auth, K8SPIN_TOKEN));
    assert.deepEqual(principal.matchers, [{ name: 'namespace', type: '=~', value: 'prometheus|app-1' }]);
    assert.equal(principal.grant.tenantId, undefined);
  });

  it('accepts the token in the Token header too', async () => {
    const auth = await open({ authConfig: EXAMPLE_JWKS });
    principalOf(await Promise.resolve(auth.authenticate(viewOf({ token: K8SPIN_TOKEN }))));
  });

  it('verifies RS256 tokens with the public half of its RSA key', async () => {
    const auth = await open({ authConfig: EXAMPLE_JWKS });
    const signer = signingKeyFromJwks(readFileSync(EXAMPLE_JWKS, 'utf8'), EXAMPLE_JWKS, 'rs256-key');
    assert.ok(signer.ok);
    assert.equal(signer.value.alg, 'RS256');
    const token = await mintToken({ namespaces: ['app-2'], labels: { team: ['x'] } }, signer.value);
    const principal = principalOf(await bearer(auth, token));
    assert.deepEqual(principal.matchers, [
      { name: 'namespace', type: '=', value: 'app-2' },
      { name: 'team', type: '=', value: 'x' },
    ]);
  });

  it('refuses a token without kid: a JWKS key must be named', async () => {
    const auth = await open({ authConfig: EXAMPLE_JWKS });
    const outcome = await bearer(auth, CORTEX_TOKEN);
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.status, 401);
  });
});

describe("cortex-gateway's shared secret", () => {
  it("accepts cortex-gateway's example token with --jwt-secret test and sends its tenant as X-Scope-OrgID", async () => {
    const auth = await open({ jwt: { secret: 'test' } });
    const principal = principalOf(await bearer(auth, CORTEX_TOKEN));
    assert.equal(principal.grant.tenantId, 'demo');
    assert.deepEqual(principal.matchers, []);
  });

  it('refuses it with another secret', async () => {
    const auth = await open({ jwt: { secret: 'not-test' } });
    const outcome = await bearer(auth, CORTEX_TOKEN);
    assert.equal(!outcome.ok && outcome.status, 401);
  });

  it('combines with a JWKS: both token styles work on one gateway', async () => {
    const auth = await open({ authConfig: EXAMPLE_JWKS, jwt: { secret: 'test' } });
    assert.equal(principalOf(await bearer(auth, CORTEX_TOKEN)).grant.tenantId, 'demo');
    assert.equal(principalOf(await bearer(auth, K8SPIN_TOKEN)).matchers.length, 1);
  });
});

describe("Opstrace's PEM public key", () => {
  const dir = mkdtempSync(join(tmpdir(), 'promgate-jwt-'));
  const pem = (key: ReturnType<typeof rsaKeyPair>['publicKey']) => key.export({ type: 'spki', format: 'pem' }).toString();

  it('verifies long-lived RS256 tokens; replacing the key file revokes every token at once', async () => {
    const first = rsaKeyPair();
    const second = rsaKeyPair();
    const file = join(dir, 'public.pem');
    writeFileSync(file, pem(first.publicKey));
    const auth = await open({ jwt: { publicKeyFile: file } });
    const sign = async (pair: typeof first) => {
      const signer = signingKeyFromPem(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'key.pem');
      assert.ok(signer.ok);
      return mintToken({ namespaces: [], labels: {}, tenantId: 'opstrace-tenant' }, signer.value);
    };
    const oldToken = await sign(first);
    assert.equal(principalOf(await bearer(auth, oldToken)).grant.tenantId, 'opstrace-tenant');
    assert.equal(principalOf(await bearer(auth, oldToken)).grant.tenantId, 'opstrace-tenant'); // now from the cache

    writeFileSync(file, pem(second.publicKey));
    const deadline = Date.now() + 10_000;
    let outcome = await bearer(auth, oldToken);
    while (outcome.ok && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      outcome = await bearer(auth, oldToken);
    }
    assert.equal(!outcome.ok && outcome.status, 401, 'the old key still verifies after rotation');
    principalOf(await bearer(auth, await sign(second)));
  });

  it('refuses to start with a private key', async () => {
    const file = join(dir, 'private.pem');
    writeFileSync(file, rsaKeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const created = await createJwtAuthenticator(jwtOptions({ jwt: { publicKeyFile: file } }), testDeps());
    assert.equal(created.ok, false);
    assert.match(!created.ok ? created.error : '', /private key/);
  });
});

describe('start-up', () => {
  it('needs at least one source of keys', async () => {
    const created = await createJwtAuthenticator(jwtOptions(), testDeps());
    assert.equal(created.ok, false);
  });

  it('fails on a JWKS file that is not a JWKS', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'promgate-jwt-')), 'jwks.json');
    writeFileSync(file, '{"users": []}');
    const created = await createJwtAuthenticator(jwtOptions({ authConfig: file }), testDeps());
    assert.equal(created.ok, false);
    assert.match(!created.ok ? created.error : '', /not a JWKS/);
  });
});
