import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { hash, truncates } from 'bcryptjs';
import { InvalidArgumentError, type Command } from 'commander';

const DEFAULT_COST = 10;

function cost(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) < 4 || Number(value) > 31) {
    throw new InvalidArgumentError('must be an integer from 4 to 31.');
  }
  return Number(value);
}

/** `promgate hash-password`: prints a bcrypt hash for the users file's `password` field. */
export function register(program: Command): void {
  program
    .command('hash-password')
    .description('print a bcrypt hash of a password, for the users file; reads the password from stdin or a prompt')
    .argument('[password]', 'the password (better left out: a command line is visible to other users and kept in shell history)')
    .option('--cost <n>', 'bcrypt cost: each step doubles the work', cost, DEFAULT_COST)
    .action(async (given: string | undefined, flags: { cost: number }, command: Command) => {
      if (given !== undefined) process.stderr.write('warning: a password on the command line can be seen by other users; pipe it in or omit it for a prompt\n');
      const password = given ?? (process.stdin.isTTY ? await promptTwice() : await readStdin());
      if (password === undefined) return command.error('error: no password: the two entries differ, or input ended', { exitCode: 2 });
      if (password === '') return command.error('error: the password is empty', { exitCode: 2 });
      if (truncates(password)) {
        return command.error('error: bcrypt uses only the first 72 bytes of a password; choose a shorter one', { exitCode: 2 });
      }
      process.stdout.write(`${await hash(password, flags.cost)}\n`);
    });
}

/** The whole of stdin, less one final line break (`echo secret | promgate hash-password`). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Asks twice without echo; undefined when the two answers differ or input ends first. */
async function promptTwice(): Promise<string | undefined> {
  // readline still handles editing keys in terminal mode; what it would echo goes nowhere. One reader for both
  // questions, so that typed-ahead input is not lost between them.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input: process.stdin, output: silent, terminal: true });
  reader.on('SIGINT', () => {
    reader.close();
    process.stderr.write('\n');
    process.exit(130);
  });
  const ask = async (prompt: string): Promise<string> => {
    process.stderr.write(prompt);
    try {
      return await reader.question('');
    } finally {
      process.stderr.write('\n');
    }
  };
  try {
    const first = await ask('Password: ');
    const second = await ask('Again: ');
    return first === second ? first : undefined;
  } catch {
    return undefined; // Ctrl-D before an answer
  } finally {
    reader.close();
  }
}
