import { InvalidArgumentError, type Command } from 'commander';
import { enforce, enforceSelector, PromQLError } from 'promql-parser-wasm';
import { tenantMatchers } from '../auth/grant.js';

function namespaceList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)];
}

function label(value: string, previous: Record<string, string[]>): Record<string, string[]> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('must be name=value.');
  const name = value.slice(0, eq);
  return { ...previous, [name]: [...(previous[name] ?? []), value.slice(eq + 1)] };
}

interface EnforceFlags {
  namespace: string[];
  label: Record<string, string[]>;
  namespaceLabel: string;
  selector?: true;
  federate?: true;
}

/** `promgate enforce`: prints a query as promgate sends it upstream for a tenant, to see what a user gets. */
export function register(program: Command): void {
  program
    .command('enforce')
    .description("print QUERY as promgate rewrites it for a tenant's namespaces and labels")
    .argument('<query>', 'a PromQL expression (or, with --selector, a series selector as in match[])')
    .option('--namespace <a,b>', 'namespace granted (comma-separated, repeatable)', namespaceList, [])
    .option('--label <name=value>', 'label value granted (repeatable; repeat a name for several values)', label, {})
    .option('--namespace-label <name>', 'the label that holds the namespace', 'namespace')
    .option('--selector', 'QUERY is a series selector, checked as match[] of series and labels')
    .option('--federate', 'with --selector: checked as match[] of /federate, which takes {job=~".*"}')
    .action((query: string, flags: EnforceFlags, command: Command) => {
      if (flags.federate && !flags.selector) return command.error('error: --federate goes with --selector', { exitCode: 2 });
      const matchers = tenantMatchers({ namespaces: flags.namespace, labels: flags.label }, flags.namespaceLabel);
      if (matchers.length === 0) {
        return command.error('error: no --namespace or --label grants anything: promgate would refuse this tenant (403)', {
          exitCode: 2,
        });
      }
      try {
        const enforced = flags.selector
          ? enforceSelector(query, matchers, flags.federate ? 'federate' : 'api')
          : enforce(query, matchers);
        process.stdout.write(`${enforced}\n`);
      } catch (e) {
        if (!(e instanceof PromQLError)) throw e;
        process.stderr.write(`error: ${e.message}\n`);
        process.exitCode = 1;
      }
    });
}
