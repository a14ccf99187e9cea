// Which keys a JWKS or a flag yields, and the only algorithms each may verify.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePublicKeyPem, secretKey } from '../../src/auth/jwt/flag-keys.js';
import { parseJwks, parseJwksText } from '../../src/auth/jwt/jwks.js';
import { b64u, rsaKeyPair } from './support.js';

const EXAMPLE_JWKS = new URL('../../configs/jwks_example.json', import.meta.url).pathname;
const rsaJwk = rsaKeyPair().publicKey.export({ format: 'jwk' });

function parsed(keys: unknown[]) {
  const result = parseJwks({ keys }, 'test');
  assert.ok(result.ok);
  return result.value;
}

describe('JWKS keys', () => {
  it("k8spin's example: the padded oct key is HS256 only, the RSA key keeps only its public half", () => {
    const result = parseJwksText(readFileSync(EXAMPLE_JWKS, 'utf8'), EXAMPLE_JWKS);
    assert.ok(result.ok);
    const [hmac, rsa] = result.value.keys;
    assert.deepEqual(result.value.skipped, []);
    assert.deepEqual([hmac?.kid, hmac?.algorithms, Buffer.from(hmac!.key as Uint8Array).toString()], ['hmac-key', ['HS256'], 'lala']);
    assert.deepEqual([rsa?.kid, rsa?.algorithms], ['rs256-key', ['RS256']]);
    assert.equal((rsa!.key as { type?: string }).type, 'public');
    assert.ok(result.value.keys.every((k) => !k.anyKid));
  });

  it('without alg, a key may use every algorithm of its own type and no other', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const { keys } = parsed([{ kty: 'oct', k: b64u('s') }, rsaJwk, ec, ed]);
    assert.deepEqual(keys.map((k) => k.algorithms), [
      ['HS256', 'HS384', 'HS512'],
      ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
      ['ES384'],
      ['EdDSA', 'Ed25519'],
    ]);
  });

  it('leaves out, and says why, keys it must not use', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const { keys, skipped } = parsed([
      { ...rsaJwk, kid: 'enc', use: 'enc' },
      { ...rsaJwk, kid: 'none', alg: 'none' },
      { ...rsaJwk, kid: 'hs-on-rsa', alg: 'HS256' },
      { kty: 'oct', kid: 'rs-on-oct', alg: 'RS256', k: b64u('s') },
      { kty: 'oct', kid: 'empty', k: '' },
      { kty: 'oct', kid: 'bad-b64', k: 'a b' },
      { ...rsaJwk, kid: 'ops', key_ops: ['encrypt'] },
      { kty: 'RSA', kid: 'no-n', e: 'AQAB' },
      { kty: 'XYZ', kid: 'unknown' },
      { ...short, kid: 'short' },
      { ...rsaJwk, kid: 7 },
      'not a key',
      { ...rsaJwk, kid: 'good' },
    ]);
    assert.deepEqual(keys.map((k) => k.kid), ['good']);
    assert.equal(skipped.length, 12);
    assert.match(skipped.join('\n'), /2048/);
  });

  it('an empty key set is valid (removing the last key revokes everything); a document without keys is not', () => {
    assert.deepEqual(parsed([]).keys, []);
    for (const text of ['', 'null', '[]', '{"keys": {}}', '{"users": []}']) assert.equal(parseJwksText(text, 'x').ok, false, text);
  });
});

describe('keys from flags', () => {
  it('--jwt-secret: HMAC only, any kid; an empty secret is refused', () => {
    const key = secretKey('test');
    assert.ok(key.ok);
    assert.deepEqual([key.value.anyKid, key.value.algorithms], [true, ['HS256', 'HS384', 'HS512']]);
    assert.equal(secretKey('').ok, false);
  });

  it('--jwt-public-key: a PEM public key of each type; never a private key or junk', () => {
    const pem = (pair: { publicKey: { export(o: object): string | Buffer } }) => pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsa = parsePublicKeyPem(pem(rsaKeyPair()), 'rsa.pem');
    assert.ok(rsa.ok && rsa.value[0]!.algorithms.includes('RS256') && !rsa.value[0]!.algorithms.includes('HS256'));
    const ec = parsePublicKeyPem(pem(generateKeyPairSync('ec', { namedCurve: 'P-256' })), 'ec.pem');
    assert.ok(ec.ok);
    assert.deepEqual(ec.value[0]!.algorithms, ['ES256']);
    const pkcs1 = rsaKeyPair().publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.ok(parsePublicKeyPem(pkcs1, 'rsa-pkcs1.pem').ok);

    const privatePem = rsaKeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const refused = parsePublicKeyPem(privatePem, 'private.pem');
    assert.ok(!refused.ok && /private key/.test(refused.error));
    assert.equal(parsePublicKeyPem('not a key', 'junk.pem').ok, false);
  });
});
