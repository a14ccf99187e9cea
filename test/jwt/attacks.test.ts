// Hostile tokens: each one must get a 401 (or 403) and never a crash.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { MAX_TOKEN_LENGTH } from '../../src/auth/jwt/index.js';
import type { Authenticator, AuthOutcome } from '../../src/auth/types.js';
import { authenticate, authenticator, b64u, bearer, jwtOptions, nowSeconds, rawToken, rsaKeyPair } from './support.js';

const HMAC_SECRET = 'a-shared-hmac-secret';
const rsa = rsaKeyPair();
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const rsaPublicJwk = rsa.publicKey.export({ format: 'jwk' });
const JWKS = {
  keys: [
    { kty: 'oct', kid: 'hmac', alg: 'HS256', k: b64u(HMAC_SECRET) },
    { ...rsaPublicJwk, kid: 'rsa', alg: 'RS256', use: 'sig' },
  ],
};

const signRsa = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'rsa', ...header }).sign(rsa.privateKey);
const signHmac = (claims: Record<string, unknown>, secret: string | Uint8Array = HMAC_SECRET, header: Record<string, unknown> = { kid: 'hmac' }) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);

const hmacSigned = (header: string, payload: string) =>
  `${header}.${payload}.${createHmac('sha256', HMAC_SECRET).update(`${header}.${payload}`).digest('base64url')}`;

function assertRefused(outcome: AuthOutcome, status: 401 | 403, reason?: RegExp): void {
  assert.equal(outcome.ok, false, 'accepted');
  if (outcome.ok) return;
  assert.equal(outcome.status, status, outcome.reason);
  if (reason) assert.match(outcome.reason, reason);
}

let jwksFile: string;
let pemFile: string;
const opened: Authenticator[] = [];
async function open(jwt: Parameters<typeof jwtOptions>[0] = {}): Promise<Authenticator> {
  const auth = await authenticator(jwtOptions({ authConfig: jwksFile, ...jwt }));
  opened.push(auth);
  return auth;
}
before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'promgate-jwt-'));
  jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(JWKS));
  pemFile = join(dir, 'public.pem');
  writeFileSync(pemFile, rsaPublicPem);
});
after(() => Promise.all(opened.map((a) => a.close())));

describe('signature attacks', () => {
  it('a good token of each key type is accepted (the baseline the attacks change)', async () => {
    const auth = await open();
    assert.ok((await bearer(auth, await signRsa({ namespaces: ['a'] }))).ok);
    assert.ok((await bearer(auth, await signHmac({ namespaces: ['a'] }))).ok);
  });

  it('alg none, with and without a signature part, for a known kid and for none', async () => {
    const auth = await open({ jwt: { secret: HMAC_SECRET } });
    for (const header of [{ alg: 'none', kid: 'rsa' }, { alg: 'none', kid: 'hmac' }, { alg: 'none' }, { alg: 'NONE' }]) {
      assertRefused(await bearer(auth, rawToken(header, { namespaces: ['b'] })), 401);
      assertRefused(await bearer(auth, rawToken(header, { namespaces: ['b'] }, 'c2ln')), 401);
    }
  });

  it('HS256 signed with the RSA public key (PEM) as the secret', async () => {
    const auth = await open();
    for (const secret of [rsaPublicPem, rsaPublicPem.trim()]) {
      assertRefused(await bearer(auth, await signHmac({ namespaces: ['b'] }, secret, { kid: 'rsa' })), 401, /not allowed/);
    }
    // The same with --jwt-public-key, where tokens need no kid.
    const pemAuth = await authenticator(jwtOptions({ jwt: { publicKeyFile: pemFile } }));
    opened.push(pemAuth);
    assertRefused(await bearer(pemAuth, await signHmac({ namespaces: ['b'] }, rsaPublicPem, {})), 401, /not allowed/);
  });

  it('HS256 signed with the RSA public key (JWK forms) as the secret', async () => {
    const auth = await open();
    const der = createPublicKey(rsaPublicPem).export({ type: 'spki', format: 'der' });
    const secrets = [JSON.stringify(rsaPublicJwk), JSON.stringify({ ...rsaPublicJwk, kid: 'rsa', alg: 'RS256', use: 'sig' }), rsaPublicJwk.n!, new Uint8Array(der), new Uint8Array(Buffer.from(rsaPublicJwk.n!, 'base64url'))];
    for (const secret of secrets) {
      assertRefused(await bearer(auth, await signHmac({ namespaces: ['b'] }, secret, { kid: 'rsa' })), 401);
    }
  });

  it('RS256 claimed for the HMAC key', async () => {
    const auth = await open();
    assertRefused(await bearer(auth, await signRsa({ namespaces: ['b'] }, { kid: 'hmac' })), 401, /not allowed/);
  });

  it('a tampered payload (same header and signature, other namespaces)', async () => {
    const auth = await open();
    for (const token of [await signRsa({ namespaces: ['a'] }), await signHmac({ namespaces: ['a'] })]) {
      assert.ok((await bearer(auth, token)).ok);
      const [header, , signature] = token.split('.');
      const tampered = `${header}.${b64u(JSON.stringify({ namespaces: ['b'] }))}.${signature}`;
      assertRefused(await bearer(auth, tampered), 401, /signature/);
    }
  });

  it('an unknown kid', async () => {
    const auth = await open();
    assertRefused(await bearer(auth, await signRsa({ namespaces: ['a'] }, { kid: 'other' })), 401, /no key with kid/);
    // A kid that is not a string, and one that names the right key but the wrong one's secret.
    assertRefused(await bearer(auth, await signHmac({ namespaces: ['a'] }, HMAC_SECRET, { kid: 7 })), 401);
    assertRefused(await bearer(auth, await signHmac({ namespaces: ['a'] }, 'guessed', { kid: 'hmac' })), 401, /signature/);
  });

  it('malformed tokens: garbage, JWE shape, bad base64, bad JSON, header not an object', async () => {
    const auth = await open();
    const good = await signHmac({ namespaces: ['a'] });
    const [, payload, signature] = good.split('.');
    const tokens = [
      'abc.def.ghi',
      'not a token',
      'a.b.c.d.e',
      `${good}.extra`,
      `!!!.${payload}.${signature}`,
      `${b64u('{"alg":"HS256",')}.${payload}.${signature}`,
      `${b64u('[1,2]')}.${payload}.${signature}`,
      `${b64u('{"alg":"HS256","kid":"hmac","crit":["exp"]}')}.${payload}.${signature}`,
      // Well signed, but the payload is no JSON object.
      hmacSigned(b64u('{"alg":"HS256","kid":"hmac"}'), b64u('not json')),
      hmacSigned(b64u('{"alg":"HS256","kid":"hmac"}'), b64u('[1]')),
    ];
    for (const token of tokens) assertRefused(await bearer(auth, token), 401);
  });

  it(`a huge token (over ${MAX_TOKEN_LENGTH} bytes) is refused before any parsing, however well signed`, async () => {
    const auth = await open();
    const huge = await signHmac({ namespaces: ['a'], padding: 'x'.repeat(MAX_TOKEN_LENGTH) });
    assertRefused(await bearer(auth, huge), 401, /longer than/);
    assertRefused(await bearer(auth, 'a'.repeat(10 * 1024 * 1024)), 401, /longer than/);
  });
});

describe('standard claims', () => {
  it('an expired token (beyond the leeway) is refused; within the leeway it passes', async () => {
    const auth = await open();
    assertRefused(await bearer(auth, await signRsa({ namespaces: ['a'], exp: nowSeconds() - 600 })), 401, /expired/);
    assert.ok((await bearer(auth, await signRsa({ namespaces: ['a'], exp: nowSeconds() - 30 }))).ok);
    const strict = await open({ jwt: { leewaySeconds: 0 } });
    assertRefused(await bearer(strict, await signRsa({ namespaces: ['a'], exp: nowSeconds() - 30 })), 401, /expired/);
  });

  it('a token not yet valid is refused', async () => {
    const auth = await open();
    assertRefused(await bearer(auth, await signRsa({ namespaces: ['a'], nbf: nowSeconds() + 600 })), 401, /not yet valid|nbf/);
    assert.ok((await bearer(auth, await signRsa({ namespaces: ['a'], nbf: nowSeconds() + 30 }))).ok);
  });

  it('exp and nbf of the wrong type are refused', async () => {
    const auth = await open();
    for (const claims of [{ exp: 'tomorrow' }, { exp: null }, { nbf: '0' }, { iat: 'now' }]) {
      assertRefused(await bearer(auth, await signRsa({ namespaces: ['a'], ...claims })), 401);
    }
  });

  it('--jwt-require-exp refuses tokens that never expire', async () => {
    const auth = await open({ jwt: { requireExp: true } });
    assertRefused(await bearer(auth, await signRsa({ namespaces: ['a'] })), 401, /exp/);
    assert.ok((await bearer(auth, await signRsa({ namespaces: ['a'], exp: nowSeconds() + 60 }))).ok);
  });

  it('--jwt-issuer and --jwt-audience must match when given', async () => {
    const auth = await open({ jwt: { issuer: 'https://idp.example', audience: 'promgate' } });
    const claims = { namespaces: ['a'], iss: 'https://idp.example', aud: 'promgate' };
    assert.ok((await bearer(auth, await signRsa(claims))).ok);
    assert.ok((await bearer(auth, await signRsa({ ...claims, aud: ['other', 'promgate'] }))).ok);
    assertRefused(await bearer(auth, await signRsa({ ...claims, iss: 'https://evil.example' })), 401, /iss/);
    assertRefused(await bearer(auth, await signRsa({ ...claims, aud: 'grafana' })), 401, /aud/);
    assertRefused(await bearer(auth, await signRsa({ namespaces: ['a'] })), 401);
  });
});

describe('grant claims', () => {
  const wrongTypes: [string, Record<string, unknown>][] = [
    ['namespaces a number', { namespaces: 5 }],
    ['namespaces an object', { namespaces: { a: 1 } }],
    ['namespaces with a number', { namespaces: ['a', 1] }],
    ['namespaces with an empty string', { namespaces: ['a', ''] }],
    ['namespaces an empty string', { namespaces: '' }],
    ['namespaces with a nested list', { namespaces: [['a']] }],
    ['labels a list', { labels: ['team=a'] }],
    ['labels a string', { labels: 'team=a' }],
    ['labels with a number value', { labels: { team: 5 } }],
    ['labels with an empty list', { labels: { team: [] } }],
    ['labels with an empty value', { labels: { team: [''] } }],
    ['labels with a null value', { labels: { team: null } }],
    ['labels with an invalid label name', { labels: { 'bad-name': 'x' } }],
    ['labels with an object value', { labels: { team: { a: 'b' } } }],
    ['tenant_id a number', { tenant_id: 5 }],
    ['tenant_id naming several tenants', { tenant_id: 'a|b' }],
    ['tenant_id empty', { tenant_id: '' }],
    ['tenant_id with a slash', { tenant_id: '../x' }],
  ];
  for (const [name, claims] of wrongTypes) {
    it(`refuses ${name} with 401 and a reason`, async () => {
      const auth = await open();
      assertRefused(await bearer(auth, await signRsa({ namespaces: ['ok'], ...claims })), 401, /claim/);
    });
  }

  it('a token granting nothing gets 403', async () => {
    const auth = await open();
    for (const claims of [{}, { namespaces: [] }, { labels: {} }, { namespaces: null }, { sub: 'alice' }]) {
      assertRefused(await bearer(auth, await signRsa(claims)), 403);
    }
  });

  it('labels become matchers: a string, or a list for several values', async () => {
    const auth = await open();
    const outcome = await bearer(auth, await signRsa({ labels: { team: 'a', env: ['prod', 'staging'] }, sub: 'alice' }));
    assert.ok(outcome.ok);
    assert.equal(outcome.principal.user, 'alice');
    assert.deepEqual(outcome.principal.matchers, [
      { name: 'env', type: '=~', value: 'prod|staging' },
      { name: 'team', type: '=', value: 'a' },
    ]);
  });

  it('claim names are configurable, nested paths included (Keycloak realm_access.roles)', async () => {
    const auth = await open({ jwt: { namespacesClaim: 'realm_access.roles', labelsClaim: 'https://promgate.example/labels', tenantClaim: 'org.id' } });
    const outcome = await bearer(auth, await signRsa({
      realm_access: { roles: ['team-a', 'team-b'] },
      'https://promgate.example/labels': { env: 'prod' },
      org: { id: 'acme' },
      namespaces: ['ignored'],
    }));
    assert.ok(outcome.ok, !outcome.ok ? outcome.reason : '');
    assert.deepEqual(outcome.principal.matchers, [
      { name: 'namespace', type: '=~', value: 'team-a|team-b' },
      { name: 'env', type: '=', value: 'prod' },
    ]);
    assert.equal(outcome.principal.grant.tenantId, 'acme');
    // Only own properties are walked.
    assertRefused(await bearer(auth, await signRsa({ realm_access: 'roles' })), 403);
    assertRefused(await bearer(auth, await signRsa({ realm_access: { roles: 'x' }, org: { id: ['acme'] } })), 401, /org\.id/);
  });
});

describe('where the token comes from', () => {
  it("Authorization: Bearer first, else the Token header (k8spin's precedence)", async () => {
    const auth = await open();
    const a = await signRsa({ namespaces: ['a'] });
    const b = await signRsa({ namespaces: ['b'] });
    const ns = (o: AuthOutcome) => (o.ok ? o.principal.matchers[0]?.value : o.reason);
    assert.equal(ns(await authenticate(auth, { authorization: `Bearer ${a}`, token: b })), 'a');
    assert.equal(ns(await authenticate(auth, { authorization: `bearer  ${a}` })), 'a');
    assert.equal(ns(await authenticate(auth, { token: b })), 'b');
    assert.equal(ns(await authenticate(auth, { authorization: 'Basic YWxpY2U6eA==', token: b })), 'b');
  });

  it('challenges only a caller that sent no credentials at all', async () => {
    const auth = await open();
    const none = await authenticate(auth, {});
    assertRefused(none, 401);
    assert.ok(!none.ok && none.challenge?.startsWith('Bearer'));
    const basic = await authenticate(auth, { authorization: 'Basic YWxpY2U6eA==' });
    assertRefused(basic, 401);
    assert.equal(!basic.ok && basic.challenge, undefined);
    assertRefused(await authenticate(auth, { authorization: 'Bearer' }), 401);
  });

  it('an HMAC token forged with a guessed secret is refused, however many times it is sent', async () => {
    const auth = await open();
    const forged = await signHmac({ namespaces: ['a'] }, 'guess');
    for (let i = 0; i < 3; i++) assertRefused(await bearer(auth, forged), 401);
    // And the right signature over the same header/payload still works (no negative cache poisoning).
    const [h, p] = forged.split('.');
    assert.ok((await bearer(auth, hmacSigned(h!, p!))).ok);
  });
});
