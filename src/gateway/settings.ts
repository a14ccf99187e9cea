import { dirname, isAbsolute, resolve } from 'node:path';
import type { JwtOptions } from '../auth/jwt/options.js';
import type { GatewayFlags } from '../config/gateway-flags.js';
import type { RunOptions } from '../config/run-options.js';
import { err, ok, type Result } from '../result.js';
import type { GatewayConfig } from './config.js';

/** What gateway mode runs with: the file's settings, and the flags' where the file says nothing. */
export interface GatewaySettings {
  readonly address?: string;
  readonly port: number;
  readonly debugAddress?: string;
  readonly debugPort: number;
  readonly dnsServer?: string;
  readonly namespaceLabel: string;
  readonly reloadIntervalMinutes: number;
  readonly unprotectedEndpoints: readonly string[];
  readonly maxBodySize: number;
  readonly enableProfiling: boolean;
  /** A k8spin users file: the file's `auth.users_file` (relative to the file), or `--auth-config` with basic auth. */
  readonly usersFile?: string;
  readonly jwt: JwtOptions;
  /** A JWKS file or URL: the file's `auth.jwt.jwks`, or `--auth-config` with `--auth-type jwt`; '' for none. */
  readonly jwks: string;
}

// k8spin mode's flags that a gateway file replaces: its components, routes and per-route enforcement.
const K8SPIN_ONLY: readonly [attribute: string, flag: string, replacedBy: string][] = [
  ['prometheusEndpoint', '--prometheus-endpoint', "the file's components"],
  ['protectedEndpoints', '--protected-endpoints', "the file's routes"],
  ['enforce', '--enforce', "each route's enforcement"],
  ['upstreamTimeout', '--upstream-timeout', "each component's timeouts"],
  ['aws', '--aws', "each component's sigv4 block"],
];

/**
 * The flags and the file together. A flag given beside the file's own value must agree with it: a flag that
 * contradicts the file is an error that names both.
 */
export function gatewaySettings(config: GatewayConfig, options: RunOptions, flags: GatewayFlags): Result<GatewaySettings, string> {
  const file = config.file;
  for (const [attribute, flag, replacedBy] of K8SPIN_ONLY) {
    if (flags.given(attribute)) return err(`${flag} is k8spin mode's: with --config ${file}, ${replacedBy} take its place`);
  }
  let disagreement: string | undefined;
  const both = <T>(attribute: string, flag: string, flagValue: T, key: string, fileValue: T | undefined): T => {
    if (fileValue === undefined) return flagValue;
    if (flags.given(attribute) && JSON.stringify(flagValue) !== JSON.stringify(fileValue)) {
      disagreement ??= `${flag} ${JSON.stringify(flagValue)} and ${key} ${JSON.stringify(fileValue)} in ${file} disagree: give one, or the same`;
    }
    return fileValue;
  };
  const s = config.settings;
  const j = config.jwt;
  const o = options.jwt;
  const relative = (path: string): string => (isAbsolute(path) ? path : resolve(dirname(file), path));
  const authConfig = flags.given('authConfig') ? options.authConfig : undefined;
  const usersFlag = options.authTypes.includes('basic') || options.authTypes.includes('mtls') ? authConfig : undefined;
  const jwksFlag = options.authTypes.length === 1 && options.authTypes[0] === 'jwt' ? authConfig : undefined;
  const usersFile = both('authConfig', '--auth-config', usersFlag, 'auth.users_file', config.usersFile === undefined ? undefined : relative(config.usersFile));
  const jwks = both('authConfig', '--auth-config', jwksFlag, 'auth.jwt.jwks', j.jwks === undefined || /^https?:/i.test(j.jwks) ? j.jwks : relative(j.jwks));
  const publicKeyFile = both('jwtPublicKey', '--jwt-public-key', o.publicKeyFile, 'auth.jwt.public_key_file', j.publicKeyFile === undefined ? undefined : relative(j.publicKeyFile));
  const secret = both('jwtSecret', '--jwt-secret', o.secret, config.shape === 'cortex-gateway' ? 'secret' : 'auth.jwt.secret', j.secret);
  const issuer = both('jwtIssuer', '--jwt-issuer', o.issuer, 'auth.jwt.issuer', j.issuer);
  const audience = both('jwtAudience', '--jwt-audience', o.audience, 'auth.jwt.audience', j.audience);
  const jwt: JwtOptions = {
    requireExp: both('jwtRequireExp', '--jwt-require-exp', o.requireExp, 'auth.jwt.require_exp', j.requireExp),
    leewaySeconds: both('jwtLeeway', '--jwt-leeway', o.leewaySeconds, 'auth.jwt.leeway', j.leewaySeconds),
    namespacesClaim: both('jwtNamespacesClaim', '--jwt-namespaces-claim', o.namespacesClaim, 'auth.jwt.namespaces_claim', j.namespacesClaim),
    labelsClaim: both('jwtLabelsClaim', '--jwt-labels-claim', o.labelsClaim, 'auth.jwt.labels_claim', j.labelsClaim),
    tenantClaim: both('jwtTenantClaim', '--jwt-tenant-claim', o.tenantClaim, 'auth.jwt.tenant_claim', j.tenantClaim),
    metricsUser: o.metricsUser,
    ...(secret !== undefined && { secret }),
    ...(publicKeyFile !== undefined && { publicKeyFile }),
    ...(issuer !== undefined && { issuer }),
    ...(audience !== undefined && { audience }),
  };
  const dnsServer = both('dnsServer', '--dns-server', flags.dnsServer, 'dns_server', s.dnsServer);
  const settings: GatewaySettings = {
    ...(config.server.address !== undefined && { address: config.server.address }),
    port: both('port', '--port', options.port, 'server.port', config.server.port),
    ...(config.debug.address !== undefined && { debugAddress: config.debug.address }),
    debugPort: both('internalPort', '--internal-port', options.internalPort, 'debug.port', config.debug.port),
    ...(dnsServer !== undefined && { dnsServer }),
    namespaceLabel: both('namespaceLabel', '--namespace-label', options.namespaceLabel, 'namespace_label', s.namespaceLabel),
    reloadIntervalMinutes: both('reloadInterval', '--reload-interval', options.reloadIntervalMinutes, 'reload_interval', s.reloadIntervalMinutes),
    // k8spin's default unprotected paths are a plain Prometheus's: in gateway mode only those asked for.
    unprotectedEndpoints: both('unprotectedEndpoints', '--unprotected-endpoints', flags.given('unprotectedEndpoints') ? options.unprotectedEndpoints : [], 'unprotected_endpoints', s.unprotectedEndpoints),
    maxBodySize: both('maxBodySize', '--max-body-size', options.maxBodySize, 'max_body_size', s.maxBodySize),
    enableProfiling: both('enableProfiling', '--enable-profiling', flags.enableProfiling, 'debug.profiling', s.enableProfiling),
    ...(usersFile !== undefined && { usersFile }),
    jwt,
    jwks: jwks ?? '',
  };
  return disagreement === undefined ? ok(settings) : err(disagreement);
}
