import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, hashSync } from 'bcryptjs';
import { PasswordVerifier, parseStoredPassword, type PasswordVerifierOptions, type StoredPassword } from '../../src/auth/password.js';
import { heldVerifier } from './held-verifier.js';

// Cost 4: the lowest bcrypt allows, so the suite stays fast; the code path is the same at any cost.
const bcrypt = (password: string): StoredPassword => ({ kind: 'bcrypt', hash: hashSync(password, 4) });
const plain = (text: string): StoredPassword => ({ kind: 'plain', text });

/** A verifier whose bcrypt runs are counted: the real comparison, observed. */
function countingVerifier(options: PasswordVerifierOptions = {}): { verifier: PasswordVerifier; runs: () => number } {
  let runs = 0;
  const verifier = new PasswordVerifier({
    ...options,
    bcrypt: {
      ...options.bcrypt,
      compare: (password, hash) => {
        runs += 1;
        return compare(password, hash);
      },
    },
  });
  return { verifier, runs: () => runs };
}

describe('parseStoredPassword', () => {
  it('reads bcrypt hashes of every variant, and anything else as plain text', () => {
    for (const minor of ['a', 'b', 'y']) {
      const hash = `$2${minor}$10$ilLswsVqwtifkepKpgQI..eKBjiQs1IcRKG3NR0yyDJ0Nyb8fmjAe`;
      assert.deepEqual(parseStoredPassword(hash), { ok: true, value: { kind: 'bcrypt', hash } });
    }
    for (const text of ['secret', '$1$md5-crypt', '2b$10$x', ' $2b$10$x', '$argon2id$v=19$m=65536']) {
      assert.deepEqual(parseStoredPassword(text), { ok: true, value: { kind: 'plain', text } });
    }
  });

  it('refuses what looks like a bcrypt hash but is not one, rather than take it as a plain password', () => {
    const valid = '$2b$10$ilLswsVqwtifkepKpgQI..eKBjiQs1IcRKG3NR0yyDJ0Nyb8fmjAe';
    for (const bad of [valid.slice(0, -1), `${valid}x`, valid.replace('$10$', '$03$'), valid.replace('$10$', '$32$'), valid.replace('$2b$', '$2x$'), valid.replace('$2b$', '$2$'), valid.replace('K', '!')]) {
      assert.equal(parseStoredPassword(bad).ok, false, bad);
    }
  });
});

describe('PasswordVerifier', () => {
  it('compares plain passwords exactly, without bcrypt', async () => {
    const { verifier, runs } = countingVerifier();
    assert.equal(await verifier.verify('u', 'secret', plain('secret')), true);
    for (const wrong of ['Secret', 'secret ', 'secre', '', 'secretsecret']) {
      assert.equal(verifier.check('u', wrong, plain('secret')), false, wrong);
    }
    assert.equal(verifier.check('u', 'pässwörd', plain('pässwörd')), true);
    assert.equal(runs(), 0);
  });

  it('runs bcrypt once per credential, then answers from the cache without a promise', async () => {
    const { verifier, runs } = countingVerifier();
    const stored = bcrypt('right');
    assert.equal(verifier.check('u', 'right', stored), undefined, 'nothing cached yet');
    assert.equal(await verifier.verify('u', 'right', stored), true);
    assert.equal(runs(), 1);
    for (let i = 0; i < 5; i++) {
      assert.equal(verifier.check('u', 'right', stored), true);
      assert.equal(await verifier.verify('u', 'right', stored), true);
    }
    assert.equal(runs(), 1);
  });

  it('verifies $2a$ and $2y$ hashes (htpasswd writes $2y$) as well as $2b$', async () => {
    const { verifier } = countingVerifier();
    const hash = hashSync('right', 4);
    for (const minor of ['a', 'y']) {
      const stored = parseStoredPassword(hash.replace(/^\$2b\$/, `$2${minor}$`));
      assert.ok(stored.ok && stored.value.kind === 'bcrypt');
      assert.equal(await verifier.verify('u', 'right', stored.value), true, minor);
      assert.equal(await verifier.verify('u', 'wrong', stored.value), false, minor);
    }
  });

  it('shares one bcrypt run among concurrent checks of a new credential', async () => {
    const { verifier, runs } = countingVerifier();
    const stored = bcrypt('right');
    const answers = await Promise.all(Array.from({ length: 8 }, () => verifier.verify('u', 'right', stored)));
    assert.deepEqual(answers, Array(8).fill(true));
    assert.equal(runs(), 1);
  });

  it('remembers a refusal, so the same wrong password costs bcrypt once, and never takes it for a success', async () => {
    const { verifier, runs } = countingVerifier();
    const stored = bcrypt('right');
    assert.equal(await verifier.verify('u', 'wrong', stored), false);
    assert.equal(verifier.check('u', 'wrong', stored), false, 'answered without bcrypt');
    assert.equal(await verifier.verify('u', 'wrong', stored), false);
    assert.equal(runs(), 1);
    assert.equal(verifier.check('u', 'right', stored), undefined, 'another password is another credential');
    assert.equal(await verifier.verify('u', 'right', stored), true);
    assert.equal(verifier.check('v', 'wrong', stored), undefined, 'another user is another credential');
    assert.equal(runs(), 2);
  });

  it('keeps remembered refusals bounded, and apart from verified credentials, which they cannot evict', async () => {
    const { verifier, runs } = countingVerifier({ cacheSize: 2, refusedCacheSize: 2 });
    const stored = bcrypt('right');
    assert.equal(await verifier.verify('u', 'right', stored), true);
    for (const wrong of ['w1', 'w2', 'w3']) assert.equal(await verifier.verify('u', wrong, stored), false);
    assert.deepEqual(['w1', 'w2', 'w3'].map((w) => verifier.check('u', w, stored)), [undefined, false, false]);
    assert.equal(verifier.check('u', 'right', stored), true, 'the verified credential outlived three refusals');
    assert.equal(runs(), 4);
  });

  it("answers 'busy' at once when bcrypt's queue is full, while remembered answers never wait", async () => {
    const { verifier, finishAll } = heldVerifier();
    const stored = bcrypt('right');
    const warm = [verifier.verify('u', 'right', stored), verifier.verify('u', 'wrong', stored)];
    await finishAll();
    assert.deepEqual(await Promise.all(warm), [true, false]);

    const running = verifier.verify('u', 'new-1', stored);
    const waiting = verifier.verify('u', 'new-2', stored);
    assert.equal(await verifier.verify('u', 'new-3', stored), 'busy');
    assert.equal(verifier.check('u', 'new-3', stored), undefined, "'busy' is not remembered: nothing was checked");
    // Checks that need no bcrypt run answer while the queue is full: remembered ones, plain ones, one in flight.
    assert.equal(verifier.check('u', 'right', stored), true);
    assert.equal(await verifier.verify('u', 'right', stored), true);
    assert.equal(await verifier.verify('u', 'wrong', stored), false);
    assert.equal(await verifier.verify('u', 'p', plain('p')), true);
    const shared = verifier.verify('u', 'new-1', stored);
    await finishAll();
    assert.deepEqual(await Promise.all([running, waiting, shared]), [false, false, false]);
    const again = verifier.verify('u', 'new-3', stored);
    await finishAll();
    assert.equal(await again, false, 'room again');
  });

  it('keys the cache on user, password and stored hash: a changed hash does not match old entries', async () => {
    const { verifier, runs } = countingVerifier();
    const before = bcrypt('old');
    assert.equal(await verifier.verify('u', 'old', before), true);
    const after = bcrypt('new');
    assert.equal(verifier.check('u', 'old', after), undefined);
    assert.equal(await verifier.verify('u', 'old', after), false);
    assert.equal(await verifier.verify('u', 'new', after), true);
    // Same password, new salt: a new hash, so bcrypt runs again.
    const rehashed = bcrypt('new');
    assert.equal(verifier.check('u', 'new', rehashed), undefined);
    assert.equal(await verifier.verify('u', 'new', rehashed), true);
    assert.equal(runs(), 4);
    // Another user with the same stored hash is another credential.
    assert.equal(verifier.check('v', 'new', after), undefined);
  });

  it('keeps the cache bounded, forgetting the least recently used credential', async () => {
    const { verifier, runs } = countingVerifier({ cacheSize: 2 });
    const [a, b, c] = [bcrypt('a'), bcrypt('b'), bcrypt('c')];
    await verifier.verify('a', 'a', a);
    await verifier.verify('b', 'b', b);
    assert.equal(verifier.check('a', 'a', a), true); // a is now the most recent
    await verifier.verify('c', 'c', c); // evicts b
    assert.equal(verifier.check('a', 'a', a), true);
    assert.equal(verifier.check('b', 'b', b), undefined);
    assert.equal(verifier.check('c', 'c', c), true);
    assert.equal(runs(), 3);
  });

  it('tells fields apart: user "ab" with password "c" is not user "a" with password "bc"', async () => {
    const { verifier } = countingVerifier();
    const stored = bcrypt('bc');
    assert.equal(await verifier.verify('a', 'bc', stored), true);
    assert.equal(verifier.check('ab', 'c', stored), undefined);
  });
});

describe('PasswordVerifier.decoysFor', () => {
  const withCost = (cost: string): StoredPassword => ({ kind: 'bcrypt', hash: hashSync('x', 4).replace('$04$', `$${cost}$`) });
  const costOf = (decoy: StoredPassword): string => (decoy.kind === 'bcrypt' ? decoy.hash.slice(4, 6) : 'plain');

  it('has no decoys for a file without bcrypt hashes', () => {
    const { verifier } = countingVerifier();
    assert.equal(verifier.decoysFor([]), undefined);
    assert.equal(verifier.decoysFor([plain('a'), plain('b')]), undefined);
  });

  it('makes well-formed bcrypt hashes, one for each cost of the file, and counts the costs', () => {
    const { verifier } = countingVerifier();
    const decoys = verifier.decoysFor([withCost('12'), plain('a'), withCost('10'), withCost('10'), withCost('04')])!;
    assert.equal(decoys.costs, 3);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const decoy = decoys.for(`user-${i}`);
      assert.deepEqual(parseStoredPassword(decoy.kind === 'bcrypt' ? decoy.hash : ''), { ok: true, value: decoy });
      seen.add(costOf(decoy));
    }
    assert.deepEqual([...seen].sort(), ['04', '10', '12']);
    assert.equal(verifier.decoysFor([withCost('12')])!.costs, 1);
  });

  it("draws each name's cost from the file's distribution of costs, the same name always the same", () => {
    const { verifier } = countingVerifier();
    // A quarter of the hashes at cost 12, three quarters at cost 10.
    const decoys = verifier.decoysFor([withCost('12'), withCost('10'), withCost('10'), withCost('10')])!;
    let costly = 0;
    const names = 4000;
    for (let i = 0; i < names; i++) {
      const decoy = decoys.for(`name-${i}`);
      if (costOf(decoy) === '12') costly++;
      assert.equal(decoys.for(`name-${i}`), decoy);
    }
    // Binomial(4000, 1/4): the mean is 1000 and the standard deviation 27; 6 of them either way.
    assert.ok(Math.abs(costly - names / 4) < 165, `${costly} of ${names} names drew cost 12`);
  });

  it('gives the same decoy for the same cost (remembered refusals outlive a reload), and each verifier its own', () => {
    const { verifier } = countingVerifier();
    const first = verifier.decoysFor([withCost('10')])!.for('u');
    assert.equal(verifier.decoysFor([withCost('10'), plain('a')])!.for('v'), first);
    assert.notEqual(verifier.decoysFor([withCost('11')])!.for('u'), first);
    assert.notDeepEqual(countingVerifier().verifier.decoysFor([withCost('10')])!.for('u'), first);
  });

  it('matches no password one would try', async () => {
    const { verifier } = countingVerifier();
    const decoy = verifier.decoysFor([bcrypt('x')])!.for('u');
    for (const password of ['', 'x', 'password', decoy.kind === 'bcrypt' ? decoy.hash : '']) {
      assert.equal(await verifier.verify('u', password, decoy), false, password);
    }
  });
});
