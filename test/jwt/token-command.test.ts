// `promgate token` mints tokens that promgate (and k8spin's proxy, and cortex-gateway) accept.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { parseExpiresIn } from '../../src/auth/jwt/mint.js';
import { register } from '../../src/commands/token.js';
import { authenticator, bearer, jwtOptions, rsaKeyPair } from './support.js';

const EXAMPLE_JWKS = new URL('../../configs/jwks_example.json', import.meta.url).pathname;

/** Runs `promgate token ARGS`; resolves to what it printed, or rejects with the CommanderError of a usage error. */
async function token(...args: string[]): Promise<string> {
  let printed = '';
  const program = new Command('promgate')
    .version('0.0.0', '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: (text) => (printed += text) });
  register(program);
  await program.parseAsync(['token', ...args], { from: 'user' });
  assert.match(printed, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return printed.trim();
}

async function usageError(...args: string[]): Promise<CommanderError> {
  try {
    await token(...args);
  } catch (e) {
    if (e instanceof CommanderError) return e;
    throw e;
  }
  assert.fail(`token ${args.join(' ')} succeeded`);
}

describe('promgate token', () => {
  it('--secret: verifies with --jwt-secret, with every claim given', async () => {
    const minted = await token(
      '--secret', 's3cret', '--namespaces', 'a,b', '--label', 'team=x', '--label', 'team=y', '--label', 'env=prod',
      '--tenant-id', 't1', '--audience', 'promgate', '--issuer', 'ops', '--version', '1', '--expires-in', '1h',
    );
    const claims = decodeJwt(minted);
    assert.equal(decodeProtectedHeader(minted).alg, 'HS256');
    assert.deepEqual(claims.namespaces, ['a', 'b']);
    assert.deepEqual(claims.labels, { team: ['x', 'y'], env: ['prod'] });
    assert.equal(claims.version, 1);
    assert.equal(claims.exp! - claims.iat!, 3600);

    const auth = await authenticator(jwtOptions({ jwt: { secret: 's3cret', issuer: 'ops', audience: 'promgate', requireExp: true } }));
    try {
      const outcome = await bearer(auth, minted);
      assert.ok(outcome.ok, !outcome.ok ? outcome.reason : '');
      assert.equal(outcome.principal.grant.tenantId, 't1');
      assert.deepEqual(outcome.principal.matchers, [
        { name: 'namespace', type: '=~', value: 'a|b' },
        { name: 'env', type: '=', value: 'prod' },
        { name: 'team', type: '=~', value: 'x|y' },
      ]);
      const other = await authenticator(jwtOptions({ jwt: { secret: 'other' } }));
      assert.equal((await bearer(other, minted)).ok, false);
      await other.close();
    } finally {
      await auth.close();
    }
  });

  it('--expires-in none mints a token without exp (refused under --jwt-require-exp)', async () => {
    const minted = await token('--secret', 's', '--namespaces', 'a', '--expires-in', 'none', '--algorithm', 'HS512');
    assert.equal(decodeJwt(minted).exp, undefined);
    assert.equal(decodeProtectedHeader(minted).alg, 'HS512');
    const strict = await authenticator(jwtOptions({ jwt: { secret: 's', requireExp: true } }));
    const lax = await authenticator(jwtOptions({ jwt: { secret: 's' } }));
    assert.equal((await bearer(strict, minted)).ok, false);
    assert.equal((await bearer(lax, minted)).ok, true);
    await Promise.all([strict.close(), lax.close()]);
  });

  it('--jwks --kid: signs with either key of k8spin\'s example JWKS, verified against that JWKS', async () => {
    const auth = await authenticator(jwtOptions({ authConfig: EXAMPLE_JWKS }));
    try {
      for (const [kid, alg] of [['hmac-key', 'HS256'], ['rs256-key', 'RS256']]) {
        const minted = await token('--jwks', EXAMPLE_JWKS, '--kid', kid!, '--namespaces', 'app-1');
        assert.deepEqual(decodeProtectedHeader(minted), { alg, typ: 'JWT', kid });
        assert.ok((await bearer(auth, minted)).ok, kid);
      }
    } finally {
      await auth.close();
    }
  });

  it('--private-key: verifies with --jwt-public-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'promgate-token-'));
    const pair = rsaKeyPair();
    writeFileSync(join(dir, 'private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const minted = await token('--private-key', join(dir, 'private.pem'), '--tenant-id', 'acme', '--expires-in', '365d');
    assert.equal(decodeProtectedHeader(minted).alg, 'RS256');
    const auth = await authenticator(jwtOptions({ jwt: { publicKeyFile: join(dir, 'public.pem') } }));
    try {
      const outcome = await bearer(auth, minted);
      assert.ok(outcome.ok && outcome.principal.grant.tenantId === 'acme');
    } finally {
      await auth.close();
    }
  });

  it('refuses bad usage with a usage error (the CLI exits 2 on any)', async () => {
    const cases = [
      ['--namespaces', 'a'], // no key
      ['--secret', 's', '--jwks', EXAMPLE_JWKS, '--kid', 'hmac-key', '--namespaces', 'a'], // two keys
      ['--secret', 's'], // grants nothing
      ['--secret', 's', '--namespaces', 'a', '--algorithm', 'RS256'], // HMAC key, RSA algorithm
      ['--jwks', EXAMPLE_JWKS, '--namespaces', 'a'], // no kid
      ['--jwks', EXAMPLE_JWKS, '--kid', 'nope', '--namespaces', 'a'],
      ['--jwks', EXAMPLE_JWKS, '--kid', 'hmac-key', '--namespaces', 'a', '--algorithm', 'HS512'], // the JWK says HS256
      ['--secret', 's', '--namespaces', 'a,,b'],
      ['--secret', 's', '--label', 'bad-name=x'],
      ['--secret', 's', '--label', 'team='],
      ['--secret', 's', '--namespaces', 'a', '--version', 'one'],
      ['--secret', 's', '--namespaces', 'a', '--expires-in', 'soon'],
      ['--private-key', '/nonexistent/key.pem', '--namespaces', 'a'],
    ];
    for (const args of cases) {
      const error = await usageError(...args);
      assert.notEqual(error.exitCode, 0, `${args.join(' ')}: ${error.message}`);
    }
  });

  it('parses lifetimes', () => {
    const seconds = (text: string) => {
      const parsed = parseExpiresIn(text);
      return parsed.ok ? parsed.value : parsed.error;
    };
    assert.equal(seconds('30d'), 30 * 86_400);
    assert.equal(seconds('1h30m'), 5400);
    assert.equal(seconds('90'), 90);
    assert.equal(seconds('2w'), 14 * 86_400);
    assert.equal(seconds('none'), undefined);
    for (const bad of ['0', '0s', '', '1.5h', '-1h', '1x']) assert.equal(typeof seconds(bad), 'string', bad);
  });
});
