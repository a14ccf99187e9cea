import type { GatewayConfig, SigV4Config } from './config.js';

/** What `promgate check config` prints: the effective routes and the tenants, without their secrets. */
export function describeGateway(config: GatewayConfig): string {
  const lines = [`${config.file}: ${config.shape === 'auth-gateway' ? 'an' : 'a'} ${config.shape} configuration`, '', 'routes (the longest match wins; anything else is 404):'];
  const rows = config.routes.map((r) => [r.path, r.match, r.component, config.components.get(r.component)!.url.origin + config.components.get(r.component)!.url.pathname, r.enforcement]);
  lines.push(...table([['PATH', 'MATCH', 'COMPONENT', 'URL', 'ENFORCEMENT'], ...rows]));
  lines.push('', 'tenants (basic):');
  const tenants = config.tenants.map((t) => [t.username, t.passthrough ? "passthrough (the client's X-Scope-OrgID)" : t.tenantIds.join('|'), t.password.kind === 'bcrypt' ? 'bcrypt hash' : 'plain password']);
  lines.push(...(tenants.length === 0 ? ['  none'] : table([['USER', 'X-SCOPE-ORGID', 'PASSWORD'], ...tenants])));
  const signed = [...config.components.values()].flatMap((c) => (c.sigv4 === undefined ? [] : [[c.name, describeSigV4(c.sigv4)]]));
  if (signed.length > 0) lines.push('', 'signed with AWS SigV4:', ...table([['COMPONENT', 'SIGNED FOR, WITH'], ...signed]));
  const auth = [config.jwt.secret !== undefined && 'JWT secret', config.jwt.publicKeyFile !== undefined && 'JWT public key', config.jwt.jwks !== undefined && 'JWKS', config.usersFile !== undefined && `users file ${config.usersFile}`].filter(Boolean);
  if (auth.length > 0) lines.push('', `also authenticating with: ${auth.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** Where a sigv4 block's credentials come from, without its secret key. */
function describeSigV4(block: SigV4Config): string {
  const scope = `${block.service} in ${block.region ?? 'the region of AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1)'}`;
  const base = block.accessKey !== undefined ? `static keys (access_key ${block.accessKey})` : block.profile !== undefined ? `profile ${block.profile}` : 'the default credential chain';
  return `${scope}: ${block.roleArn === undefined ? base : `role ${block.roleArn}, assumed with ${base}`}`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}`);
}
