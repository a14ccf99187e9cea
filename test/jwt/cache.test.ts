// A token seen before is not verified again until it expires, and never served past its exp or a key change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { VerificationCache } from '../../src/auth/jwt/verification-cache.js';
import type { Deps } from '../../src/observability/deps.js';
import { authenticator, bearer, jwtOptions, nowSeconds, testDeps } from './support.js';

const SECRET = 'cache-test-secret';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

async function outcomes(deps: Deps): Promise<Record<string, number>> {
  const values = (await deps.registry.getSingleMetric('promgate_jwt_authentications_total')?.get())?.values ?? [];
  return Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]));
}

describe('verification cache (through the authenticator)', () => {
  it('serves a seen token from the cache, and refuses it once exp has passed', async () => {
    const deps = testDeps();
    const auth = await authenticator(jwtOptions({ jwt: { secret: SECRET, leewaySeconds: 0 } }), deps);
    try {
      const exp = nowSeconds() + 2;
      const token = await sign({ namespaces: ['a'], exp });
      assert.ok((await bearer(auth, token)).ok);
      assert.ok((await bearer(auth, token)).ok);
      assert.deepEqual(await outcomes(deps), { verified: 1, cached: 1 });

      await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 20));
      const late = await bearer(auth, token);
      assert.equal(!late.ok && late.status, 401, 'the cache let an expired token through');
      assert.equal((await outcomes(deps)).expired, 1);
    } finally {
      await auth.close();
    }
  });

  it('caches a refusal only after a good signature (403 for no grant), never a bad signature', async () => {
    const deps = testDeps();
    const auth = await authenticator(jwtOptions({ jwt: { secret: SECRET } }), deps);
    try {
      const nothing = await sign({ sub: 'x' });
      assert.equal((await bearer(auth, nothing)).ok, false);
      assert.equal((await bearer(auth, nothing)).ok, false);
      const forged = `${nothing.slice(0, nothing.lastIndexOf('.'))}.AAAA`;
      assert.equal((await bearer(auth, forged)).ok, false);
      assert.equal((await bearer(auth, forged)).ok, false);
      assert.deepEqual(await outcomes(deps), { no_grant: 2, bad_signature: 2 });
    } finally {
      await auth.close();
    }
  });
});

describe('VerificationCache', () => {
  const generation = {};

  it('forgets the least recently used entry beyond its capacity', () => {
    const cache = new VerificationCache<string>(2);
    cache.set('a', generation, 'A', 10_000, 0);
    cache.set('b', generation, 'B', 10_000, 0);
    assert.equal(cache.get('a', generation, 1), 'A');
    cache.set('c', generation, 'C', 10_000, 0);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b', generation, 1), undefined);
    assert.equal(cache.get('a', generation, 1), 'A');
    assert.equal(cache.get('c', generation, 1), 'C');
  });

  it('holds no more than its byte budget, whatever the entry count allows', () => {
    const cache = new VerificationCache<string>(1000, 10_000, (value) => 2 * value.length);
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, generation, 'v'.repeat(1000), 10_000, 0);
    // Each entry counts about 2 KB: five fit in 10 KB, the most recent ones.
    assert.ok(cache.size >= 4 && cache.size <= 5, String(cache.size));
    assert.equal(cache.get('k99', generation, 1), 'v'.repeat(1000));
    assert.equal(cache.get('k0', generation, 1), undefined);
  });

  it('serves nothing at or after its expiry, and stores nothing already expired', () => {
    const cache = new VerificationCache<string>(10);
    cache.set('a', generation, 'A', 100, 0);
    assert.equal(cache.get('a', generation, 99), 'A');
    assert.equal(cache.get('a', generation, 100), undefined);
    cache.set('b', generation, 'B', 100, 100);
    assert.equal(cache.size, 0);
  });

  it('serves nothing verified under another key set', () => {
    const cache = new VerificationCache<string>(10);
    cache.set('a', generation, 'A', 100, 0);
    assert.equal(cache.get('a', {}, 1), undefined);
    assert.equal(cache.get('a', generation, 1), undefined, 'a stale entry should be dropped');
  });

  it('keys by a hash: the token itself is not kept', () => {
    const key = VerificationCache.keyOf('header.payload.signature');
    assert.equal(key.includes('payload'), false);
    assert.equal(key, VerificationCache.keyOf('header.payload.signature'));
    assert.notEqual(key, VerificationCache.keyOf('header.payload.signaturf'));
  });
});
