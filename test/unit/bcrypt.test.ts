import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashSync } from 'bcryptjs';
import { BcryptGate, BcryptWorkers } from '../../src/auth/bcrypt.js';

/**
 * A comparison that finishes only when the test says so, counting how many run at once: the gate's behaviour,
 * observed without depending on how fast bcrypt is.
 */
function heldComparison() {
  const held: Array<{ password: string; finish(matches: boolean): void; fail(error: Error): void }> = [];
  let running = 0;
  let mostAtOnce = 0;
  const compare = (password: string): Promise<boolean> => {
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    return new Promise<boolean>((resolve, reject) => {
      const done = () => (running -= 1);
      held.push({ password, finish: (matches) => (done(), resolve(matches)), fail: (error) => (done(), reject(error)) });
    });
  };
  return {
    compare,
    /** The passwords being compared now, in the order they started. */
    started: () => held.map((h) => h.password),
    finishOldest: (matches = false) => held.shift()!.finish(matches),
    failOldest: (error: Error) => held.shift()!.fail(error),
    running: () => running,
    mostAtOnce: () => mostAtOnce,
  };
}

/** Lets promise callbacks queued so far run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BcryptGate', () => {
  it('runs at most `concurrency` comparisons at once, in arrival order, and refuses at once when the queue is full', async () => {
    const held = heldComparison();
    const gate = new BcryptGate({ concurrency: 2, maxWaiting: 3, compare: held.compare });
    const runs = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((password) => gate.compare(password, 'hash'));
    assert.deepEqual(runs.map((run) => run instanceof Promise), [true, true, true, true, true, false, false]);
    await settle();
    assert.deepEqual(held.started(), ['a', 'b']);

    held.finishOldest(true);
    assert.equal(await runs[0], true);
    // The turn went to the first in line: a newcomer now must queue (in the place that freed), not start.
    const late = gate.compare('h', 'hash');
    assert.ok(late instanceof Promise, 'a place in the queue was freed');
    assert.equal(gate.compare('i', 'hash'), undefined, 'and taken again');
    await settle();
    assert.deepEqual(held.started(), ['b', 'c']);

    while (held.started().length > 0) {
      assert.ok(held.running() <= 2);
      held.finishOldest(false);
      await settle();
    }
    assert.deepEqual(await Promise.all([...runs.slice(1, 5), late]), [false, false, false, false, false]);
    assert.equal(held.mostAtOnce(), 2);
  });

  it('with no room to wait, refuses whenever every turn is taken', async () => {
    const held = heldComparison();
    const gate = new BcryptGate({ concurrency: 1, maxWaiting: 0, compare: held.compare });
    const first = gate.compare('a', 'hash');
    assert.equal(gate.compare('b', 'hash'), undefined);
    held.finishOldest(true);
    assert.equal(await first, true);
    assert.ok(gate.compare('c', 'hash') instanceof Promise, 'the turn came back');
  });

  it('hands the turn on when a comparison fails', async () => {
    const held = heldComparison();
    const gate = new BcryptGate({ concurrency: 1, maxWaiting: 1, compare: held.compare });
    const failing = gate.compare('a', 'hash');
    const next = gate.compare('b', 'hash');
    held.failOldest(new Error('thread died'));
    await assert.rejects(failing!, /thread died/);
    await settle();
    assert.deepEqual(held.started(), ['b']);
    held.finishOldest(true);
    assert.equal(await next, true);
    assert.equal(held.mostAtOnce(), 1);
  });

  it('refuses a concurrency or queue length that is not a whole number in range', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) assert.throws(() => new BcryptGate({ concurrency }), RangeError);
    for (const maxWaiting of [-1, 2.5, Number.NaN]) assert.throws(() => new BcryptGate({ maxWaiting }), RangeError);
  });
});

describe('BcryptWorkers', () => {
  // Cost 4: the lowest bcrypt allows, so the suite stays fast; the thread does the same work at any cost.
  const hash = hashSync('right', 4);

  it('compares on a worker thread: right, wrong, and every hash variant', async () => {
    const workers = new BcryptWorkers();
    try {
      assert.equal(await workers.compare('right', hash), true);
      assert.equal(await workers.compare('wrong', hash), false);
      assert.equal(await workers.compare('', hash), false);
      for (const minor of ['a', 'y']) assert.equal(await workers.compare('right', hash.replace(/^\$2b\$/, `$2${minor}$`)), true, minor);
    } finally {
      await workers.close();
    }
  });

  it('answers comparisons run at once on several threads, each with its own answer', async () => {
    const workers = new BcryptWorkers();
    const gate = new BcryptGate({ concurrency: 2, maxWaiting: 10, compare: (password, h) => workers.compare(password, h) });
    try {
      const passwords = ['right', 'wrong', 'right', 'Right', 'right ', 'right'];
      const answers = await Promise.all(passwords.map((password) => gate.compare(password, hash)));
      assert.deepEqual(answers, [true, false, true, false, false, true]);
    } finally {
      await workers.close();
    }
  });

  it('rejects a comparison bcrypt cannot make, and the thread goes on serving', async () => {
    const workers = new BcryptWorkers();
    try {
      // 60 characters, so bcryptjs does not answer false at once, but cost 99 is no bcrypt cost.
      await assert.rejects(workers.compare('x', hash.replace('$04$', '$99$')), /^Error: bcrypt: .*rounds/i);
      assert.equal(await workers.compare('right', hash), true);
    } finally {
      await workers.close();
    }
  });

  it('fails a comparison in flight when the threads are stopped, rather than leave it hanging', async () => {
    const workers = new BcryptWorkers();
    const slow = workers.compare('x', hashSync('x', 12));
    await workers.close();
    await assert.rejects(slow, /bcrypt worker thread exited/);
  });

  it('lets the process exit while its threads are idle', () => {
    const module = fileURLToPath(new URL('../../src/auth/bcrypt.ts', import.meta.url));
    const program = `const { BcryptWorkers } = await import(${JSON.stringify(module)});
      console.log(await new BcryptWorkers().compare('right', ${JSON.stringify(hash)}));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, null, 'the process had to be killed: an idle thread kept it alive');
    assert.deepEqual([child.status, child.stdout.trim()], [0, 'true'], child.stderr);
  });
});
