#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { register as registerCheck } from './commands/check.js';
import { register as registerEnforce } from './commands/enforce.js';
import { register as registerHashPassword } from './commands/hash-password.js';
import { register as registerRun } from './commands/run.js';
import { register as registerToken } from './commands/token.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * k8spin's proxy is a Go program, whose flag library also takes `-port=9092`: such single-dash long flags of
 * `run` are read as `--port=9092`, so that existing manifests keep working.
 */
function goStyleFlags(argv: string[]): string[] {
  if (argv[0] !== 'run') return argv;
  const end = argv.indexOf('--');
  return argv.map((arg, i) => ((end === -1 || i < end) && /^-[a-z][a-z0-9-]+(=|$)/.test(arg) ? `-${arg}` : arg));
}

const program = new Command('promgate')
  .description('multi-tenant gateway for Prometheus: authenticates callers and enforces their label matchers on every query')
  .version(version, '-V, --version')
  // Usage errors exit with status 2, as Go's flag package and k8spin's proxy do.
  .exitOverride();
registerRun(program);
registerEnforce(program);
registerHashPassword(program);
registerToken(program);
registerCheck(program);

try {
  await program.parseAsync(goStyleFlags(process.argv.slice(2)), { from: 'user' });
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exit(error.exitCode === 0 ? 0 : 2);
}
