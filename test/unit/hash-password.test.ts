import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { compareSync, getRounds } from 'bcryptjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The command alone, on a bare commander program: what `promgate hash-password` runs.
const PROGRAM = `
import { Command } from 'commander';
import { register } from './src/commands/hash-password.ts';
const program = new Command('promgate');
register(program);
// With -e there is no script path: the arguments start right after node's.
await program.parseAsync(process.argv.slice(1), { from: 'user' });
`;

function hashPassword(args: string[], stdin: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROGRAM, '--', 'hash-password', ...args], {
    cwd: ROOT,
    input: stdin,
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('promgate hash-password', () => {
  it('hashes the password read from stdin, less its final line break', () => {
    const run = hashPassword(['--cost', '5'], 'correct horse\n');
    assert.equal(run.status, 0, run.stderr);
    const hash = run.stdout.trimEnd();
    assert.match(hash, /^\$2b\$05\$[./A-Za-z0-9]{53}$/);
    assert.equal(run.stdout, `${hash}\n`);
    assert.equal(compareSync('correct horse', hash), true);
    assert.equal(compareSync('correct horse\n', hash), false);
  });

  it('uses cost 10 by default', () => {
    const run = hashPassword([], 'pw');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(getRounds(run.stdout.trim()), 10);
  });

  it('takes the password as an argument, with a warning about its visibility', () => {
    const run = hashPassword(['--cost', '4', 'from-argument'], '');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(compareSync('from-argument', run.stdout.trim()), true);
    assert.match(run.stderr, /can be seen by other users/);
  });

  it('refuses an empty password, one longer than bcrypt reads, and a bad cost', () => {
    const empty = hashPassword(['--cost', '4'], '\n');
    assert.deepEqual([empty.status, empty.stdout], [2, '']);
    assert.match(empty.stderr, /the password is empty/);
    const long = hashPassword(['--cost', '4'], 'x'.repeat(73));
    assert.deepEqual([long.status, long.stdout], [2, '']);
    assert.match(long.stderr, /first 72 bytes/);
    const cost = hashPassword(['--cost', '3'], 'pw');
    assert.notEqual(cost.status, 0);
    assert.match(cost.stderr, /must be an integer from 4 to 31/);
  });
});
