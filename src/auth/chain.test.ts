import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authenticator as jwtAuthenticator, jwtOptions, testDeps } from '../../test/jwt/support.js';
import { viewOf } from '../../test/support/request-view.js';
import { BASIC_CHALLENGE, createBasicAuthenticator } from './basic.js';
import { firstRecognising } from './chain.js';
import { principalOf } from './grant.js';
import { mintToken, signingKeyFromSecret } from './jwt/mint.js';
import { PasswordVerifier } from './password.js';
import type { AuthOutcome, Authenticator, Principal, RequestView } from './types.js';

const NOBODY = viewOf({});

function principal(user: string): Principal {
  const made = principalOf(user, user, { namespaces: [user], labels: {} }, 'namespace');
  assert.ok(made);
  return made;
}

/** A hand-made authenticator that answers `outcome` (at once, or from a promise) and counts what it is asked. */
interface Fake extends Authenticator {
  readonly name: string;
  asked: number;
  closed: number;
}

function fake(name: string, outcome: AuthOutcome, mode: 'sync' | 'async' = 'sync'): Fake {
  const self: Fake = {
    name,
    asked: 0,
    closed: 0,
    authenticate(_request: RequestView) {
      self.asked += 1;
      return mode === 'sync' ? outcome : Promise.resolve(outcome);
    },
    async close() {
      // Closed only after a turn of the event loop: a chain that did not wait for it would count none.
      await new Promise((resolve) => setImmediate(resolve));
      self.closed += 1;
    },
  };
  return self;
}

const admitted = (user: string): AuthOutcome => ({ ok: true, principal: principal(user) });
const refused = (status: 401 | 403 | 429, reason: string): AuthOutcome => ({ ok: false, status, reason });
const absent = (reason: string, challenge?: string): AuthOutcome => ({
  ok: false,
  status: 401,
  absent: true,
  reason,
  ...(challenge !== undefined && { challenge }),
});

const outcomeOf = (auth: Authenticator, request: RequestView = NOBODY): Promise<AuthOutcome> => Promise.resolve(auth.authenticate(request));

describe('firstRecognising', () => {
  it('throws on an empty list', () => {
    assert.throws(() => firstRecognising([]), RangeError);
  });

  it('returns a single authenticator as it is', () => {
    const only = fake('only', admitted('a'));
    assert.equal(firstRecognising([only]), only);
  });

  for (const mode of ['sync', 'async'] as const) {
    describe(`${mode} authenticators`, () => {
      it('lets the first that admits decide, asking none after it', async () => {
        const first = fake('first', admitted('first'), mode);
        const second = fake('second', admitted('second'), mode);
        const outcome = await outcomeOf(firstRecognising([first, second]));
        assert.equal(outcome.ok && outcome.principal.user, 'first');
        assert.deepEqual([first.asked, second.asked], [1, 0]);
      });

      it('passes over those that answer absent, to the first that does not', async () => {
        const a = fake('a', absent('no a credentials', 'A'), mode);
        const b = fake('b', absent('no b credentials'), mode);
        const c = fake('c', admitted('c'), mode);
        const d = fake('d', admitted('d'), mode);
        const outcome = await outcomeOf(firstRecognising([a, b, c, d]));
        assert.equal(outcome.ok && outcome.principal.user, 'c');
        assert.deepEqual([a.asked, b.asked, c.asked, d.asked], [1, 1, 1, 0]);
      });

      for (const status of [401, 403, 429] as const) {
        it(`never lets a refused credential (${status}) fall through to the next`, async () => {
          const skipped = fake('skipped', absent('none of mine', 'S'), mode);
          const refusing = fake('refusing', refused(status, 'wrong password'), mode);
          const admitting = fake('admitting', admitted('x'), mode);
          const outcome = await outcomeOf(firstRecognising([skipped, refusing, admitting]));
          assert.deepEqual(outcome, { ok: false, status, reason: 'wrong password' });
          assert.equal(admitting.asked, 0);
        });
      }

      it('answers 401 absent with every reason and every challenge when all are absent', async () => {
        const chain = firstRecognising([
          fake('a', absent('no a', 'A realm="x"'), mode),
          fake('b', absent('no b', 'B realm="x"'), mode),
          fake('c', absent('no c', 'C'), mode),
        ]);
        assert.deepEqual(await outcomeOf(chain), {
          ok: false,
          status: 401,
          absent: true,
          reason: 'no a; no b; no c',
          challenge: 'A realm="x", B realm="x", C',
        });
      });

      for (const missing of [0, 1, 2]) {
        it(`challenges with nothing when absent outcome ${missing} had no challenge`, async () => {
          const chain = firstRecognising(
            [0, 1, 2].map((i) => fake(`f${i}`, absent(`no ${i}`, i === missing ? undefined : `S${i}`), mode)),
          );
          const outcome = await outcomeOf(chain);
          assert.deepEqual(outcome, { ok: false, status: 401, absent: true, reason: 'no 0; no 1; no 2' });
          assert.equal(!outcome.ok && 'challenge' in outcome, false);
        });
      }
    });
  }

  it('mixes sync and async authenticators in order', async () => {
    const a = fake('a', absent('no a', 'A'), 'async');
    const b = fake('b', absent('no b', 'B'), 'sync');
    const c = fake('c', absent('no c', 'C'), 'async');
    assert.deepEqual(await outcomeOf(firstRecognising([a, b, c])), {
      ok: false,
      status: 401,
      absent: true,
      reason: 'no a; no b; no c',
      challenge: 'A, B, C',
    });
    const d = fake('d', admitted('d'), 'sync');
    const e = fake('e', admitted('e'), 'async');
    const outcome = await outcomeOf(firstRecognising([fake('x', absent('no x'), 'async'), d, e]));
    assert.equal(outcome.ok && outcome.principal.user, 'd');
    assert.equal(e.asked, 0);
  });

  it('answers without a promise when every authenticator asked answers without one', () => {
    const outcome = firstRecognising([fake('a', absent('no a')), fake('b', admitted('b'))]).authenticate(NOBODY);
    assert.equal(outcome instanceof Promise, false);
    const none = firstRecognising([fake('a', absent('no a')), fake('b', absent('no b'))]).authenticate(NOBODY);
    assert.equal(none instanceof Promise, false);
  });

  it('does not keep what one request found absent for the next', async () => {
    const chain = firstRecognising([fake('a', absent('no a', 'A')), fake('b', absent('no b', 'B'), 'async')]);
    await outcomeOf(chain);
    const second = await outcomeOf(chain);
    assert.equal(!second.ok && second.reason, 'no a; no b');
    assert.equal(!second.ok && second.challenge, 'A, B');
  });

  it('closes every authenticator, and waits for them', async () => {
    const all = [fake('a', admitted('a')), fake('b', admitted('b'), 'async'), fake('c', absent('c'))];
    await firstRecognising(all).close();
    assert.deepEqual(
      all.map((a) => a.closed),
      [1, 1, 1],
    );
  });
});

describe('firstRecognising: basic, then JWT', () => {
  const basicHeader = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  let dir: string;
  let basic: Authenticator;
  let jwt: Authenticator;
  let token: string;
  let bcryptRuns = 0;
  /** How often each real authenticator was asked. */
  const asked = { basic: 0, jwt: 0 };
  const counted = (name: keyof typeof asked, auth: Authenticator): Authenticator => ({
    authenticate(request) {
      asked[name] += 1;
      return auth.authenticate(request);
    },
    close: () => auth.close(),
  });
  let basicThenJwt: Authenticator;
  let jwtThenBasic: Authenticator;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promgate-chain-'));
    const file = join(dir, 'users.yaml');
    await writeFile(file, 'users:\n  - username: alice\n    password: secret\n    namespace: team-a\n');
    const verifier = new PasswordVerifier({
      bcrypt: {
        compare: () => {
          bcryptRuns += 1;
          return Promise.resolve(false);
        },
      },
    });
    const created = await createBasicAuthenticator({ file, reloadIntervalMinutes: 0, namespaceLabel: 'namespace' }, testDeps(), verifier);
    if (!created.ok) assert.fail(created.error);
    basic = created.value;
    jwt = await jwtAuthenticator(jwtOptions({ jwt: { secret: 's' } }));
    const key = signingKeyFromSecret('s');
    if (!key.ok) assert.fail(key.error);
    token = await mintToken({ namespaces: ['team-b'], labels: {}, tenantId: 'tenant-b' }, key.value);
    basicThenJwt = firstRecognising([counted('basic', basic), counted('jwt', jwt)]);
    jwtThenBasic = firstRecognising([counted('jwt', jwt), counted('basic', basic)]);
  });
  after(async () => {
    await basicThenJwt.close();
    await rm(dir, { recursive: true, force: true });
  });

  const reset = (): void => {
    asked.basic = 0;
    asked.jwt = 0;
  };

  it('lets basic decide Basic credentials, whichever comes first', async () => {
    for (const chain of [basicThenJwt, jwtThenBasic]) {
      const outcome = await outcomeOf(chain, viewOf({ authorization: basicHeader('alice', 'secret') }));
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal(outcome.principal.user, 'alice');
      assert.equal(outcome.principal.key, '{namespace="team-a"}');
    }
    assert.equal(bcryptRuns, 0);
  });

  it('lets JWT decide a bearer token, whichever comes first', async () => {
    for (const chain of [basicThenJwt, jwtThenBasic]) {
      const outcome = await outcomeOf(chain, viewOf({ authorization: `Bearer ${token}` }));
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal(outcome.principal.key, '{namespace="team-b"}');
      assert.equal(outcome.principal.grant.tenantId, 'tenant-b');
    }
  });

  it('refuses a wrong Basic password with 401, never asking JWT after basic', async () => {
    reset();
    const outcome = await outcomeOf(basicThenJwt, viewOf({ authorization: basicHeader('alice', 'wrong') }));
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.status, 401);
    assert.equal(!outcome.ok && outcome.absent, undefined);
    assert.equal(!outcome.ok && outcome.challenge, undefined);
    assert.match(!outcome.ok ? outcome.reason : '', /wrong password/);
    assert.deepEqual(asked, { basic: 1, jwt: 0 });
  });

  it('refuses a wrong Basic password with 401 when JWT, asked first, finds no token', async () => {
    reset();
    const outcome = await outcomeOf(jwtThenBasic, viewOf({ authorization: basicHeader('alice', 'wrong') }));
    assert.equal(!outcome.ok && outcome.status, 401);
    assert.equal(!outcome.ok && outcome.absent, undefined);
    assert.match(!outcome.ok ? outcome.reason : '', /wrong password/);
    assert.deepEqual(asked, { basic: 1, jwt: 1 });
  });

  it('refuses a bad bearer token with 401, never asking basic after JWT', async () => {
    reset();
    const outcome = await outcomeOf(jwtThenBasic, viewOf({ authorization: `Bearer ${token.slice(0, -2)}xx` }));
    assert.equal(!outcome.ok && outcome.status, 401);
    assert.equal(!outcome.ok && outcome.absent, undefined);
    assert.deepEqual(asked, { basic: 0, jwt: 1 });
  });

  it('challenges with both schemes when no credentials were sent', async () => {
    const first = await outcomeOf(basicThenJwt);
    assert.equal(!first.ok && first.status, 401);
    assert.equal(!first.ok && first.absent, true);
    assert.equal(!first.ok && first.challenge, `${BASIC_CHALLENGE}, Bearer realm="promgate"`);
    const second = await outcomeOf(jwtThenBasic);
    assert.equal(!second.ok && second.challenge, `Bearer realm="promgate", ${BASIC_CHALLENGE}`);
  });

  it('challenges with nothing when credentials of a third kind were sent', async () => {
    const outcome = await outcomeOf(basicThenJwt, viewOf({ authorization: 'Digest username="alice"' }));
    assert.equal(!outcome.ok && outcome.status, 401);
    assert.equal(!outcome.ok && outcome.absent, true);
    assert.equal(!outcome.ok && outcome.challenge, undefined);
  });
});
