import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { compare, hashSync } from 'bcryptjs';
import { BASIC_CHALLENGE, createBasicAuthenticator, readBasicCredentials } from '../../src/auth/basic.js';
import { PasswordVerifier } from '../../src/auth/password.js';
import type { Authenticator, AuthOutcome } from '../../src/auth/types.js';
import { eventually, metricValue, recordingDeps, tempDir, type RecordingDeps } from './config-support.js';
import { heldVerifier } from './held-verifier.js';
import { viewOf } from '../support/request-view.js';

const K8SPIN = new URL('../../configs/k8spin/', import.meta.url);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const headers = (authorization?: string) => viewOf({ authorization });

describe('createBasicAuthenticator', () => {
  let dir: { path: string; remove(): Promise<void> };
  const open: Authenticator[] = [];
  let bcryptRuns = 0;

  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((a) => a.close()));
  });

  let count = 0;
  async function authenticatorFor(
    text: string,
    namespaceLabel = 'namespace',
    verifier = new PasswordVerifier({
      bcrypt: {
        compare: (password, hash) => {
          bcryptRuns += 1;
          return compare(password, hash);
        },
      },
    }),
  ): Promise<{ auth: Authenticator; file: string; deps: RecordingDeps }> {
    const file = join(dir.path, `users-${++count}.yaml`);
    await writeFile(file, text);
    const deps = recordingDeps();
    const created = await createBasicAuthenticator({ file, reloadIntervalMinutes: 0, namespaceLabel }, deps, verifier);
    if (!created.ok) assert.fail(created.error);
    open.push(created.value);
    return { auth: created.value, file, deps };
  }

  async function k8spinAuthenticator(name: string): Promise<Authenticator> {
    const file = join(dir.path, `${++count}-${name}`);
    await copyFile(new URL(name, K8SPIN), file);
    const created = await createBasicAuthenticator({ file, reloadIntervalMinutes: 0, namespaceLabel: 'namespace' }, recordingDeps());
    if (!created.ok) assert.fail(created.error);
    open.push(created.value);
    return created.value;
  }

  const outcome = (auth: Authenticator, authorization?: string): Promise<AuthOutcome> => Promise.resolve(auth.authenticate(headers(authorization)));

  it('asks for credentials (401 with a challenge) only when none were sent', async () => {
    const auth = await k8spinAuthenticator('sample.yaml');
    for (const authorization of [undefined, '', '   ']) {
      const result = await outcome(auth, authorization);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.status, 401);
      assert.equal(!result.ok && result.challenge, BASIC_CHALLENGE);
    }
    assert.equal(BASIC_CHALLENGE, 'Basic realm="promgate"');
  });

  it('refuses malformed credentials with 401 and no challenge', async () => {
    const auth = await k8spinAuthenticator('sample.yaml');
    const malformed = [
      'Bearer abc.def.ghi',
      'Basic',
      'Basic ',
      'Basic !!!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from([0x48, 0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`, // not UTF-8
      `Basic ${Buffer.from('Happy:Prometheus').toString('base64')} extra`,
      `Basic ${Buffer.from('Happy:Prometheus').toString('base64url')}_`,
    ];
    for (const authorization of malformed) {
      const result = await outcome(auth, authorization);
      assert.deepEqual(result.ok ? 'admitted' : [result.status, result.challenge], [401, undefined], authorization);
    }
  });

  it('refuses a wrong password or an unknown user with 401 and no challenge', async () => {
    const auth = await k8spinAuthenticator('sample.yaml');
    for (const [user, password] of [
      ['Happy', 'prometheus'],
      ['Happy', ''],
      ['happy', 'Prometheus'],
      ['Nobody', 'Prometheus'],
      ['', ''],
    ] as const) {
      const result = await outcome(auth, basic(user, password));
      assert.deepEqual(result.ok ? 'admitted' : [result.status, result.challenge], [401, undefined], `${user}:${password}`);
    }
  });

  it("admits k8spin's users with their namespaces as matchers", async () => {
    const auth = await k8spinAuthenticator('sample.yaml');
    assert.deepEqual(await outcome(auth, basic('Happy', 'Prometheus')), {
      ok: true,
      principal: {
        user: 'Happy',
        metricsUser: 'Happy',
        grant: { namespaces: ['default'], labels: {} },
        matchers: [{ name: 'namespace', type: '=', value: 'default' }],
        key: '{namespace="default"}',
        tenant: 'Happy',
      },
    });
    assert.deepEqual(await outcome(auth, `basic   ${Buffer.from('Sad:Prometheus').toString('base64')}`), {
      ok: true,
      principal: {
        user: 'Sad',
        metricsUser: 'Sad',
        grant: { namespaces: ['kube-system'], labels: {} },
        matchers: [{ name: 'namespace', type: '=', value: 'kube-system' }],
        key: '{namespace="kube-system"}',
        tenant: 'Sad',
      },
    });
  });

  it('never logs in as a certificate-only entry (one without a password), whatever password is sent', async () => {
    const { auth } = await authenticatorFor('users:\n  - username: machine-1\n    namespace: a\n  - username: machine-2\n    namespace: b\n    password: pw\n');
    for (const password of ['', 'pw', 'undefined', 'null']) {
      const result = await outcome(auth, basic('machine-1', password));
      assert.equal(result.ok, false, password);
      assert.equal(!result.ok && result.status, 401);
    }
    assert.equal((await outcome(auth, basic('machine-2', 'pw'))).ok, true);
  });

  it('tells apart two entries of one username by their passwords', async () => {
    const auth = await k8spinAuthenticator('multiple.namespaces.yaml');
    const first = await outcome(auth, basic('Multiple', 'Namespaces'));
    const second = await outcome(auth, basic('Multiple', 'NamespacesWithoutNamespace'));
    assert.deepEqual(first.ok && first.principal.matchers, [{ name: 'namespace', type: '=~', value: 'monitoring|default|kube-system|kube-public' }]);
    assert.deepEqual(second.ok && second.principal.matchers, [{ name: 'namespace', type: '=~', value: 'default|kube-system|kube-public' }]);
    const wrong = await outcome(auth, basic('Multiple', 'Prometheus'));
    assert.equal(!wrong.ok && wrong.status, 401);
  });

  it('turns labels into matchers', async () => {
    const auth = await k8spinAuthenticator('sample.labels.yaml');
    const happy = await outcome(auth, basic('Happy', 'Prometheus'));
    assert.deepEqual(happy.ok && happy.principal.matchers, [
      { name: 'app', type: '=~', value: 'happy|sad' },
      { name: 'team', type: '=', value: 'america' },
    ]);
    const bored = await outcome(auth, basic('bored', 'Prometheus'));
    assert.deepEqual(bored.ok && bored.principal.matchers, [
      { name: 'namespace', type: '=~', value: 'default|kube-system' },
      { name: 'dep', type: '=', value: 'system' },
    ]);
  });

  it('uses the configured namespace label', async () => {
    const { auth } = await authenticatorFor('users:\n  - {username: a, password: b, namespaces: [x, y.z]}\n', 'kubernetes_namespace');
    const result = await outcome(auth, basic('a', 'b'));
    assert.deepEqual(result.ok && result.principal.matchers, [{ name: 'kubernetes_namespace', type: '=~', value: 'x|y\\.z' }]);
  });

  it('gives 403 to a user granted nothing, but only with the right password', async () => {
    const { auth } = await authenticatorFor('users:\n  - {username: nobody, password: right}\n  - {username: nobody2, password: right, namespace: ""}\n');
    for (const user of ['nobody', 'nobody2']) {
      const right = await outcome(auth, basic(user, 'right'));
      assert.deepEqual(right.ok ? 'admitted' : [right.status, right.challenge], [403, undefined], user);
    }
    const wrong = await outcome(auth, basic('nobody', 'wrong'));
    assert.deepEqual(wrong.ok ? 'admitted' : wrong.status, 401);
  });

  it('verifies a bcrypt password once, then answers without a promise', async () => {
    const hash = hashSync('s3cret:with:colons', 4);
    const { auth } = await authenticatorFor(`users:\n  - username: alice\n    password: ${hash}\n    namespace: tenant-a\n`);
    const before = bcryptRuns;
    const first = await outcome(auth, basic('alice', 's3cret:with:colons'));
    assert.equal(first.ok, true);
    for (let i = 0; i < 3; i++) {
      const again = auth.authenticate(headers(basic('alice', 's3cret:with:colons')));
      assert.ok(!(again instanceof Promise), 'a cached credential is answered synchronously');
      assert.deepEqual(again, first);
    }
    assert.equal(bcryptRuns - before, 1);
    const wrong = await outcome(auth, basic('alice', 's3cret'));
    assert.equal(!wrong.ok && wrong.status, 401);
  });

  it('with mixed bcrypt costs, checks unknown names against decoys drawn from the costs the users have, and warns', async () => {
    const compared: string[] = [];
    const verifier = new PasswordVerifier({ bcrypt: { compare: (password, hash) => (compared.push(hash), compare(password, hash)) } });
    const cheap = hashSync('x', 4);
    const costly = hashSync('x', 5);
    const users = ['a', 'b', 'c'].map((name) => `  - {username: ${name}, password: "${cheap}", namespace: n}`);
    const text = `users:\n${users.join('\n')}\n  - {username: d, password: "${costly}", namespace: n}\n`;
    const { auth, deps } = await authenticatorFor(text, 'namespace', verifier);
    assert.ok(deps.lines.some((line) => /2 different costs/.test(String(line.msg))), 'a warning names the mixed costs');
    assert.equal(await metricValue(deps.registry, 'promgate_users_bcrypt_costs'), 2);
    const names = 400;
    for (let i = 0; i < names; i++) await auth.authenticate(headers(basic(`nobody-${i}`, 'wrong')));
    const atCost5 = compared.filter((hash) => hash.startsWith('$2b$05$')).length;
    assert.equal(compared.length, names);
    // One hash in four is at cost 5: Binomial(400, 1/4) has mean 100 and standard deviation 8.7.
    assert.ok(Math.abs(atCost5 - names / 4) < 52, `${atCost5} of ${names} unknown names checked a cost-5 decoy`);
    // The same unknown name checks the same decoy again (here: remembered, so no bcrypt run at all).
    await auth.authenticate(headers(basic('nobody-0', 'wrong')));
    assert.equal(compared.length, names);
  });

  it('makes a refusal that checked no bcrypt hash (unknown name, plain password) check a decoy of the same cost', async () => {
    const compared: string[] = [];
    const verifier = new PasswordVerifier({ bcrypt: { compare: (password, hash) => (compared.push(hash), compare(password, hash)) } });
    const aliceHash = hashSync('right', 4);
    const text = `users:\n  - {username: alice, password: "${aliceHash}", namespace: a}\n  - {username: carol, password: plain, namespace: c}\n`;
    const { auth } = await authenticatorFor(text, 'namespace', verifier);
    const refusals = [basic('nobody', 'x'), basic('carol', 'wrong'), basic('alice', 'wrong')];
    for (const authorization of refusals) {
      const result = auth.authenticate(headers(authorization));
      assert.ok(result instanceof Promise, `${authorization}: the first refusal waits for bcrypt`);
      const refused = await result;
      assert.deepEqual(refused.ok ? 'admitted' : refused.status, 401, authorization);
    }
    const [decoy, decoyAgain, alices] = compared;
    assert.equal(compared.length, 3);
    assert.match(decoy!, /^\$2b\$04\$/, "the decoy has the file's cost");
    assert.equal(decoyAgain, decoy);
    assert.notEqual(decoy, aliceHash);
    assert.equal(alices, aliceHash);
    // Tried again, every one of them is refused from memory, at once: known and unknown names alike.
    for (const authorization of refusals) {
      const again = auth.authenticate(headers(authorization));
      assert.deepEqual(again instanceof Promise ? 'waited' : again.ok ? 'admitted' : again.status, 401, authorization);
    }
    const carol = auth.authenticate(headers(basic('carol', 'plain')));
    assert.ok(!(carol instanceof Promise) && carol.ok, 'a right plain password is admitted at once');
    assert.equal(compared.length, 3);
  });

  it('refuses unknown names at once, with no bcrypt, when the file holds no bcrypt hash', async () => {
    const runs = bcryptRuns;
    const { auth } = await authenticatorFor('users:\n  - {username: carol, password: plain, namespace: c}\n');
    for (const authorization of [basic('nobody', 'x'), basic('carol', 'wrong')]) {
      const result = auth.authenticate(headers(authorization));
      assert.deepEqual(result instanceof Promise ? 'waited' : result.ok ? 'admitted' : result.status, 401, authorization);
    }
    assert.equal(bcryptRuns, runs);
  });

  it("gives 429 at once while bcrypt's queue is full, known and unknown names alike; a verified credential never waits", async () => {
    const { verifier, finishAll } = heldVerifier();
    const text = `users:\n  - {username: alice, password: "${hashSync('right', 4)}", namespace: a}\n  - {username: carol, password: plain, namespace: c}\n`;
    const { auth } = await authenticatorFor(text, 'namespace', verifier);
    const warm = outcome(auth, basic('alice', 'right'));
    await finishAll();
    assert.equal((await warm).ok, true);

    const pending = [outcome(auth, basic('alice', 'wrong-1')), outcome(auth, basic('alice', 'wrong-2'))];
    for (const authorization of [basic('alice', 'wrong-3'), basic('nobody', 'x'), basic('carol', 'wrong')]) {
      const result = await outcome(auth, authorization);
      assert.deepEqual(result.ok ? 'admitted' : [result.status, result.challenge], [429, undefined], authorization);
    }
    for (const authorization of [basic('alice', 'right'), basic('carol', 'plain')]) {
      const result = auth.authenticate(headers(authorization));
      assert.ok(!(result instanceof Promise) && result.ok, `${authorization} is admitted without waiting`);
    }
    await finishAll();
    assert.deepEqual((await Promise.all(pending)).map((r) => (r.ok ? 'admitted' : r.status)), [401, 401]);
  });

  it('picks the first matching entry in file order, with bcrypt and plain passwords mixed', async () => {
    const hash = hashSync('shared', 4);
    const text = [
      'users:',
      `  - {username: u, password: "${hash}", namespace: first}`,
      '  - {username: u, password: shared, namespace: second}',
      '  - {username: u, password: other, namespace: third}',
    ].join('\n');
    const { auth } = await authenticatorFor(text);
    for (let i = 0; i < 2; i++) {
      const shared = await outcome(auth, basic('u', 'shared'));
      assert.deepEqual(shared.ok && shared.principal.matchers, [{ name: 'namespace', type: '=', value: 'first' }]);
    }
    const other = await outcome(auth, basic('u', 'other'));
    assert.deepEqual(other.ok && other.principal.matchers, [{ name: 'namespace', type: '=', value: 'third' }]);
  });

  it('reads UTF-8 credentials', async () => {
    const { auth } = await authenticatorFor('users:\n  - {username: "zoë", password: "pässwörd ☃", namespace: n}\n');
    const result = await outcome(auth, basic('zoë', 'pässwörd ☃'));
    assert.equal(result.ok && result.principal.user, 'zoë');
  });

  it('follows the users file as it changes, and a changed hash no longer admits the old password', async () => {
    const { auth, file } = await authenticatorFor(`users:\n  - {username: a, password: "${hashSync('old', 4)}", namespace: one}\n`);
    assert.equal((await outcome(auth, basic('a', 'old'))).ok, true);
    await writeFile(file, `users:\n  - {username: a, password: "${hashSync('new', 4)}", namespace: two}\n`);
    await eventually('the reload', async () => (await outcome(auth, basic('a', 'old'))).ok === false);
    const result = await outcome(auth, basic('a', 'new'));
    assert.deepEqual(result.ok && result.principal.matchers, [{ name: 'namespace', type: '=', value: 'two' }]);
  });

  it('keeps serving the last good users when the file turns bad', async () => {
    const { auth, file, deps } = await authenticatorFor('users:\n  - {username: a, password: b, namespace: one}\n');
    await writeFile(file, 'users:\n  - {username: a, password: b, labels: {team: {bad: 1}}}\n');
    await eventually('the rejection', async () => (await metricValue(deps.registry, 'promgate_config_last_reload_successful')) === 0);
    assert.ok(deps.lines.some((line) => /^users file rejected, still serving the last good one: .*users-\d+\.yaml:2: users\[0\]\.labels\.team: must be a string or a list of strings$/.test(String(line.msg))));
    const result = await outcome(auth, basic('a', 'b'));
    assert.deepEqual(result.ok && result.principal.matchers, [{ name: 'namespace', type: '=', value: 'one' }]);
  });

  it("admits the demo's users (configs/users.yaml) with the passwords the demo prints", async () => {
    const file = join(dir.path, 'demo-users.yaml');
    await copyFile(new URL('../../configs/users.yaml', import.meta.url), file);
    const created = await createBasicAuthenticator({ file, reloadIntervalMinutes: 0, namespaceLabel: 'namespace' }, recordingDeps());
    if (!created.ok) assert.fail(created.error);
    open.push(created.value);
    const matchersOf = async (user: string) => {
      const result = await outcome(created.value, basic(user, `${user}-password`));
      return result.ok ? result.principal.matchers : result;
    };
    assert.deepEqual(await matchersOf('alice'), [{ name: 'namespace', type: '=', value: 'tenant-a' }]);
    assert.deepEqual(await matchersOf('bob'), [{ name: 'namespace', type: '=', value: 'tenant-b' }]);
    assert.deepEqual(await matchersOf('carol'), [{ name: 'namespace', type: '=~', value: 'tenant-a|tenant-b' }]);
    assert.deepEqual(await matchersOf('dave'), [{ name: 'team', type: '=', value: 'america' }]);
  });

  it('fails to start on a bad users file, naming the file and line', async () => {
    const file = join(dir.path, 'bad.yaml');
    await copyFile(new URL('bad.yaml', K8SPIN), file);
    const created = await createBasicAuthenticator({ file, reloadIntervalMinutes: 0, namespaceLabel: 'namespace' }, recordingDeps());
    assert.match(created.ok ? 'started' : created.error, /bad\.yaml:1: Implicit keys need to be on a single line/);
  });
});

describe('readBasicCredentials', () => {
  it('splits at the first colon, so passwords may hold colons', () => {
    assert.deepEqual(readBasicCredentials(basic('u', 'a:b:c')), { user: 'u', password: 'a:b:c' });
    assert.deepEqual(readBasicCredentials(basic('u', '')), { user: 'u', password: '' });
  });

  it('accepts the scheme in any case and base64 without padding', () => {
    const token = Buffer.from('u:pw').toString('base64');
    assert.equal(token.endsWith('='), true);
    assert.deepEqual(readBasicCredentials(`BASIC ${token.replace(/=+$/, '')}`), { user: 'u', password: 'pw' });
  });
});
