import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeGateway } from '../gateway/describe.js';
import { loadGatewayFile } from '../gateway/serve.js';

/** `promgate check config FILE`: the effective routes and tenants of a gateway file, or why it would be refused. */
export function register(program: Command): void {
  program
    .command('check')
    .description('check a configuration file without serving it')
    .command('config <file>')
    .description('print the routes (path, match, component, URL, enforcement) and tenants a gateway file makes, or its errors')
    .action((file: string) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
        process.exit(1);
      }
      const loaded = loadGatewayFile(text, file);
      if (!loaded.ok) {
        process.stderr.write(`${loaded.error}\n`);
        process.exit(1);
      }
      process.stdout.write(describeGateway(loaded.value.config));
    });
}
