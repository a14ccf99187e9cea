import { InvalidArgumentError, Option, type Command } from 'commander';
import { MTLS_IDENTITIES } from '../auth/certificate-identity.js';
import type { AuthOptions, AuthType } from '../auth/index.js';
import type { JwtOptions } from '../auth/jwt/options.js';
import { parseDuration as readDuration } from '../duration.js';
import { ENFORCEMENTS, type Enforcement } from '../enforce/isolation.js';
import { parseTarget } from '../http/target.js';
import { authTypeList, mtlsListenerProblem } from './auth-flags.js';
import { bool, env, oneOf } from './flag-values.js';
import { limitOptions, toLimitOptions } from './limit-flags.js';
import { tlsOptions, toTlsRunOptions, type TlsRunOptions } from './tls-flags.js';
import { awsOptions, toAwsRunOptions, type AwsRunOptions } from './aws-flags.js';
import { isLabelName } from '../labels.js';
import type { LimitOptions } from '../limits/limits.js';
import { LOG_LEVELS, type LogLevel } from '../observability/logger.js';
import { err, ok, type Result } from '../result.js';
import { ALERTMANAGER_ROUTES, PROMETHEUS_ROUTES, RouteTable } from '../routes/table.js';

export interface RunOptions extends AuthOptions, TlsRunOptions, AwsRunOptions {
  port: number;
  prometheusEndpoint: URL;
  /** Undefined: no Alertmanager, and its API's paths stay 404. */
  alertmanagerEndpoint?: URL;
  reloadIntervalMinutes: number;
  unprotectedEndpoints: string[];
  /** Undefined: every endpoint promgate can enforce. */
  protectedEndpoints?: string[];
  /** Users file (basic), or JWKS file or URL (jwt; '' when only --jwt-secret or --jwt-public-key is given). */
  authConfig: string;
  /** 0: no internal listener. */
  internalPort: number;
  upstreamTimeoutMs: number;
  maxBodySize: number;
  /** The budget in bytes of the cache of enforced expressions, for every principal together. */
  enforceCacheSize: number;
  enforce: Enforcement;
  logLevel: LogLevel;
  /** Query complexity and tenant limits (--max-query-*, --limits-*). */
  limits: LimitOptions;
}

const DEFAULT_UNPROTECTED = '/-/healthy,/-/ready';
const ROUTES = new RouteTable([...PROMETHEUS_ROUTES, ...ALERTMANAGER_ROUTES]);
const DEFAULT_AUTH_CONFIG = 'authn.yaml';

function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}.`);
    const n = Number(value.trim());
    if (n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}.`);
    return n;
  };
}

/** A duration flag (see duration.ts), in milliseconds: from 1 ms to 24 days, what a Node timer takes. */
export function parseDuration(value: string): number {
  const ms = readDuration(value);
  if (!ms.ok) throw new InvalidArgumentError('must be a duration such as 30s, 2m or 1m30s.');
  if (ms.value < 1 || ms.value > 2 ** 31 - 1) throw new InvalidArgumentError('must be between 1ms and 24 days.');
  return ms.value;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** `10MiB`, `512KiB`, `1MB`, `10Mi` or a plain number of bytes. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase() || 'b'];
  if (match === null || unit === undefined) throw new InvalidArgumentError('must be a size such as 10MiB, 512KiB or 1048576.');
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1 || bytes > 2 ** 31) throw new InvalidArgumentError('must be between 1 byte and 2GiB.');
  return bytes;
}

/** Comma-separated, and repeatable like k8spin's string slices; the first given value replaces the default. */
function pathList(value: string, previous: string | string[] | undefined): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return Array.isArray(previous) ? [...previous, ...items] : items;
}

/** The flags of `promgate run`: k8spin's names, environment variables and defaults, then promgate's own. */
export function addRunOptions(command: Command): Command {
  const options = [
    new Option('--port <port>', 'port to listen on').env(env('PORT')).default(9092).argParser(integer(0, 65535)),
    new Option('--prometheus-endpoint <url>', 'upstream Prometheus, Cortex, Mimir or Thanos URL; a path prefix is kept')
      .env(env('PROMETHEUS_ENDPOINT'))
      .default('http://localhost:9090'),
    new Option('--alertmanager-endpoint <url>', "Alertmanager URL for its v2 API (tenants' alerts and silences); a path prefix is kept")
      .env(env('ALERTMANAGER_ENDPOINT')),
    new Option('--reload-interval <minutes>', 'minutes between re-reads of --auth-config (0: only on change and SIGHUP)')
      .env(env('RELOAD_INTERVAL'))
      .default(5)
      .argParser(integer(0, 525_600)),
    new Option('--unprotected-endpoints <paths>', 'exact paths proxied without authentication (GET and HEAD only)')
      .env(env('UNPROTECTED_ENDPOINTS'))
      .default(DEFAULT_UNPROTECTED)
      .argParser(pathList),
    new Option('--protected-endpoints <paths>', 'narrows the enforced endpoints to these paths (default: all of them)')
      .env(env('PROTECTED_ENDPOINTS'))
      .argParser(pathList),
    new Option('--auth-type <types>', 'how callers authenticate: basic, jwt, mtls, or a chain such as mtls,basic')
      .env(env('AUTH_TYPE'))
      .default(['basic'], 'basic')
      .argParser(authTypeList),
    new Option('--mtls-identity <field>', "what of a client certificate names its user: its subject's cn, or a dns, uri or email SAN")
      .env(env('MTLS_IDENTITY'))
      .default('cn')
      .argParser(oneOf(MTLS_IDENTITIES)),
    new Option('--auth-config <path-or-url>', 'users file (basic), or JWKS file or URL (jwt)').env(env('AUTH_CONFIG')).default(DEFAULT_AUTH_CONFIG),
    new Option('--namespace-label <name>', 'the label that holds the namespace').env(env('NAMESPACE_LABEL')).default('namespace'),
    new Option('--internal-port <port>', "port of promgate's own /metrics, /healthz and /readyz (0: off)")
      .env(env('INTERNAL_PORT'))
      .default(9093)
      .argParser(integer(0, 65535)),
    new Option('--upstream-timeout <duration>', "how long to wait for the upstream's answer to start, and between its chunks")
      .env(env('UPSTREAM_TIMEOUT'))
      .default(150_000, '2m30s, beyond Prometheus\'s own 2m query timeout')
      .argParser(parseDuration),
    new Option('--max-body-size <size>', 'largest POST body accepted').env(env('MAX_BODY_SIZE')).default(1024 ** 2, '1MiB').argParser(parseSize),
    new Option('--enforce <how>', 'how the upstream keeps tenants apart: labels (matchers), header (X-Scope-OrgID) or both')
      .env(env('ENFORCE'))
      .default('labels')
      .argParser(oneOf(ENFORCEMENTS)),
    new Option('--enforce-cache-size <size>', 'memory for enforced expressions kept for reuse, all principals together')
      .env(env('ENFORCE_CACHE_SIZE'))
      .default(64 * 1024 ** 2, '64MiB')
      .argParser(parseSize),
    new Option('--log-level <level>', 'log level').env(env('LOG_LEVEL')).default('info').argParser(oneOf(LOG_LEVELS)),
    new Option('--jwt-secret <secret>', 'HMAC secret for JWTs (HS256/384/512)').env(env('JWT_SECRET')),
    new Option('--jwt-public-key <file>', 'PEM public key file for JWTs (RS*, PS*, ES*, EdDSA)').env(env('JWT_PUBLIC_KEY')),
    new Option('--jwt-issuer <iss>', 'required `iss` claim').env(env('JWT_ISSUER')),
    new Option('--jwt-audience <aud>', 'required `aud` claim').env(env('JWT_AUDIENCE')),
    new Option('--jwt-require-exp [bool]', 'refuse JWTs without an `exp` claim').env(env('JWT_REQUIRE_EXP')).preset(true).default(false).argParser(bool),
    new Option('--jwt-leeway <seconds>', 'clock skew allowed on exp/nbf').env(env('JWT_LEEWAY')).default(60).argParser(integer(0, 86_400)),
    new Option('--jwt-namespaces-claim <name>', 'claim holding the namespaces').env(env('JWT_NAMESPACES_CLAIM')).default('namespaces'),
    new Option('--jwt-labels-claim <name>', 'claim holding the label grants').env(env('JWT_LABELS_CLAIM')).default('labels'),
    new Option('--jwt-tenant-claim <name>', 'claim holding the X-Scope-OrgID tenant').env(env('JWT_TENANT_CLAIM')).default('tenant_id'),
    new Option('--jwt-metrics-user <from>', "what labels a token's requests in the metrics: its tenant id (bounded) or its subject")
      .env(env('JWT_METRICS_USER'))
      .default('tenant')
      .argParser(oneOf(['tenant', 'subject'] as const)),
  ];
  for (const option of [...options, ...tlsOptions(), ...limitOptions(), ...awsOptions()]) command.addOption(option);
  return command;
}

interface RawRunOptions {
  port: number;
  prometheusEndpoint: string;
  alertmanagerEndpoint?: string;
  reloadInterval: number;
  unprotectedEndpoints: string | string[];
  protectedEndpoints?: string[];
  authType: AuthType[];
  mtlsIdentity: AuthOptions['mtlsIdentity'];
  authConfig: string;
  namespaceLabel: string;
  internalPort: number;
  upstreamTimeout: number;
  maxBodySize: number;
  enforceCacheSize: number;
  enforce: Enforcement;
  logLevel: LogLevel;
  jwtSecret?: string;
  jwtPublicKey?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtRequireExp: boolean;
  jwtLeeway: number;
  jwtNamespacesClaim: string;
  jwtLabelsClaim: string;
  jwtTenantClaim: string;
  jwtMetricsUser: JwtOptions['metricsUser'];
}

/** An upstream's URL: http or https, a path prefix allowed, no query or fragment. */
function endpointUrl(flag: string, value: string): Result<URL, string> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return err(`${flag} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return err(`${flag} must be an http or https URL`);
  if (url.search !== '' || url.hash !== '') return err(`${flag} must not have a query or fragment`);
  return ok(url);
}

/** Checks what single flags cannot, and shapes the parsed flags into RunOptions. */
export function toRunOptions(command: Command): Result<RunOptions, string> {
  const raw = command.opts<RawRunOptions>();

  const endpoint = endpointUrl('--prometheus-endpoint', raw.prometheusEndpoint);
  if (!endpoint.ok) return endpoint;
  const alertmanager = raw.alertmanagerEndpoint === undefined ? undefined : endpointUrl('--alertmanager-endpoint', raw.alertmanagerEndpoint);
  if (alertmanager?.ok === false) return alertmanager;

  const unprotected =
    typeof raw.unprotectedEndpoints === 'string' ? pathList(raw.unprotectedEndpoints, '') : raw.unprotectedEndpoints;
  for (const path of unprotected) {
    const target = parseTarget(path);
    if (!target.ok || path.includes('?')) return err(`--unprotected-endpoints: ${JSON.stringify(path)} is not a canonical path`);
    // An endpoint that reads series would be open to everyone, unfiltered.
    if (ROUTES.find(path)?.route.readsSeries === true || path.startsWith('/api/v1/label/')) {
      return err(`--unprotected-endpoints: ${path} reads series and cannot be served without authentication`);
    }
  }

  if (raw.port !== 0 && raw.port === raw.internalPort) return err('--port and --internal-port must differ');
  if (!isLabelName(raw.namespaceLabel)) return err(`--namespace-label ${JSON.stringify(raw.namespaceLabel)} is not a label name`);

  const keyGiven = raw.jwtSecret !== undefined || raw.jwtPublicKey !== undefined;
  const authConfigDefaulted = command.getOptionValueSource('authConfig') === 'default';
  const jwtOnly = raw.authType.length === 1 && raw.authType[0] === 'jwt';
  const authConfig = jwtOnly && keyGiven && authConfigDefaulted ? '' : raw.authConfig;
  if (raw.jwtSecret === '') return err('--jwt-secret must not be empty');
  // Beside basic or mtls, --auth-config is the users file: the JWT keys must come from elsewhere.
  if (raw.authType.includes('jwt') && !jwtOnly && !keyGiven) {
    return err(`--auth-type ${raw.authType.join(',')}: --auth-config is the users file, so JWTs need --jwt-secret or --jwt-public-key`);
  }
  const tls = toTlsRunOptions(command, endpoint.value);
  if (!tls.ok) return tls;
  const limits = toLimitOptions(command);
  if (!limits.ok) return limits;
  if (raw.authType.includes('mtls') && tls.value.listenerTls?.from !== 'web-config') {
    const problem = mtlsListenerProblem(tls.value.listenerTls?.settings);
    if (problem !== undefined) return err(problem);
  }

  const options: RunOptions = {
    port: raw.port,
    prometheusEndpoint: endpoint.value,
    ...(alertmanager?.ok === true && { alertmanagerEndpoint: alertmanager.value }),
    reloadIntervalMinutes: raw.reloadInterval,
    unprotectedEndpoints: unprotected,
    authTypes: raw.authType,
    mtlsIdentity: raw.mtlsIdentity,
    authConfig,
    namespaceLabel: raw.namespaceLabel,
    internalPort: raw.internalPort,
    upstreamTimeoutMs: raw.upstreamTimeout,
    maxBodySize: raw.maxBodySize,
    enforceCacheSize: raw.enforceCacheSize,
    enforce: raw.enforce,
    logLevel: raw.logLevel,
    limits: limits.value,
    jwt: {
      requireExp: raw.jwtRequireExp,
      leewaySeconds: raw.jwtLeeway,
      namespacesClaim: raw.jwtNamespacesClaim,
      labelsClaim: raw.jwtLabelsClaim,
      tenantClaim: raw.jwtTenantClaim,
      metricsUser: raw.jwtMetricsUser,
      ...(raw.jwtSecret !== undefined && { secret: raw.jwtSecret }),
      ...(raw.jwtPublicKey !== undefined && { publicKeyFile: raw.jwtPublicKey }),
      ...(raw.jwtIssuer !== undefined && { issuer: raw.jwtIssuer }),
      ...(raw.jwtAudience !== undefined && { audience: raw.jwtAudience }),
    },
  };
  if (raw.protectedEndpoints !== undefined) options.protectedEndpoints = raw.protectedEndpoints;
  const aws = toAwsRunOptions(command, endpoint.value);
  if (!aws.ok) return aws;
  return ok({ ...options, ...tls.value, ...aws.value });
}
