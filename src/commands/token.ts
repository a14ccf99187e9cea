import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  mintToken,
  parseExpiresIn,
  signingKeyFromJwks,
  signingKeyFromPem,
  signingKeyFromSecret,
  type SigningKey,
} from '../auth/jwt/mint.js';
import { isLabelName } from '../labels.js';
import { err, ok, type Result } from '../result.js';

interface TokenFlags {
  secret?: string;
  privateKey?: string;
  jwks?: string;
  kid?: string;
  algorithm?: string;
  namespaces: string[];
  label: Record<string, string[]>;
  tenantId?: string;
  audience?: string;
  issuer?: string;
  subject?: string;
  version?: number;
  expiresIn: string;
}


function namespaceList(value: string, previous: string[]): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError('an empty namespace would match series without the label.');
  return [...previous, ...items];
}

// Repeating a name adds values: --label team=a --label team=b grants team=~"a|b".
function label(value: string, previous: Record<string, string[]>): Record<string, string[]> {
  const eq = value.indexOf('=');
  const name = value.slice(0, Math.max(eq, 0));
  const labelValue = value.slice(eq + 1);
  if (eq < 0 || !isLabelName(name) || labelValue === '') throw new InvalidArgumentError('must be name=value with a label name and a non-empty value.');
  return { ...previous, [name]: [...(previous[name] ?? []), labelValue] };
}

function version(value: string): number {
  // cortex-gateway reads it into a uint8.
  if (!/^\d{1,3}$/.test(value) || Number(value) > 255) throw new InvalidArgumentError('must be an integer from 0 to 255.');
  return Number(value);
}

function readFlagFile(file: string): Result<string, string> {
  try {
    return ok(readFileSync(file, 'utf8'));
  } catch (e) {
    return err(`cannot read ${file}: ${(e as Error).message}`);
  }
}

function signingKey(flags: TokenFlags): Result<SigningKey, string> {
  const given = [flags.secret, flags.privateKey, flags.jwks].filter((v) => v !== undefined).length;
  if (given !== 1) return err('give exactly one of --secret, --private-key or --jwks');
  if (flags.secret !== undefined) return signingKeyFromSecret(flags.secret, flags.algorithm, flags.kid);
  const file = (flags.privateKey ?? flags.jwks)!;
  const text = readFlagFile(file);
  if (!text.ok) return text;
  if (flags.privateKey !== undefined) return signingKeyFromPem(text.value, file, flags.algorithm, flags.kid);
  if (flags.kid === undefined) return err('--jwks needs --kid to pick the key');
  return signingKeyFromJwks(text.value, file, flags.kid, flags.algorithm);
}

/** `promgate token`: mints a token for promgate (or k8spin's proxy, or cortex-gateway), like cortex-gateway-tool. */
export function register(program: Command): void {
  // `token --version 1` is the token's claim, not promgate's version: program options only before the sub-command.
  program.enablePositionalOptions();
  program
    .command('token')
    .description('mint a JWT: signed with --secret, --private-key or --jwks/--kid, printed on stdout')
    .addOption(new Option('--secret <secret>', 'HMAC secret (HS256 by default)').env('PROM_PROXY_JWT_SECRET'))
    .option('--private-key <file>', 'PEM private key: RSA (RS256 by default), EC (ES256/384/512) or Ed25519 (EdDSA)')
    .option('--jwks <file>', 'JWKS holding private parts; --kid picks the key')
    .option('--kid <kid>', 'key id, written to the token header (and picks the --jwks key)')
    .option('--algorithm <alg>', 'signing algorithm; must fit the key')
    .option('--namespaces <a,b>', 'namespaces granted (comma-separated, repeatable)', namespaceList, [])
    .option('--label <name=value>', 'label value granted (repeatable; repeat a name for several values)', label, {})
    .option('--tenant-id <id>', 'tenant id, sent upstream as X-Scope-OrgID')
    .option('--audience <aud>', '`aud` claim')
    .option('--issuer <iss>', '`iss` claim')
    .option('--subject <sub>', '`sub` claim (shown as the user in logs)')
    .option('--version <n>', "cortex-gateway's `version` claim", version)
    .option('--expires-in <duration>', 'lifetime such as 30d, 12h or 1h30m, or none', '30d')
    .action(async (flags: TokenFlags, command: Command) => {
      const expiresIn = parseExpiresIn(flags.expiresIn);
      if (!expiresIn.ok) return command.error(`error: ${expiresIn.error}`, { exitCode: 2 });
      if (flags.namespaces.length === 0 && Object.keys(flags.label).length === 0 && flags.tenantId === undefined) {
        return command.error('error: the token would grant nothing: give --namespaces, --label or --tenant-id', { exitCode: 2 });
      }
      const key = signingKey(flags);
      if (!key.ok) return command.error(`error: ${key.error}`, { exitCode: 2 });
      const token = await mintToken(
        {
          namespaces: flags.namespaces,
          labels: flags.label,
          ...(flags.tenantId !== undefined && { tenantId: flags.tenantId }),
          ...(flags.audience !== undefined && { audience: flags.audience }),
          ...(flags.issuer !== undefined && { issuer: flags.issuer }),
          ...(flags.subject !== undefined && { subject: flags.subject }),
          ...(flags.version !== undefined && { version: flags.version }),
          ...(expiresIn.value !== undefined && { expiresInSeconds: expiresIn.value }),
        },
        key.value,
      );
      // Through commander's output, so that an embedding program (or a test) can take it.
      const writeOut = command.configureOutput().writeOut ?? ((text: string) => process.stdout.write(text));
      writeOut(`${token}\n`);
    });
}
