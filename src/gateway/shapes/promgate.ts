import { parseSize } from '../../config/run-options.js';
import { ENFORCEMENTS, type Enforcement } from '../../enforce/isolation.js';
import { isLabelName } from '../../labels.js';
import { readLimits, type LimitsOverrides } from '../../limits/limits.js';
import { DEFAULT_MAX_RAW_BODY, type ComponentConfig, type GatewayConfig, type GatewayJwt, type GatewayTenant, type ListenerConfig, type MatchKind } from '../config.js';
import type { YamlValue } from '../yaml.js';
import { componentUrl, listener, LISTENER_KEYS, password, route, routePath, tenantId } from './common.js';
import { readSigV4 } from './sigv4.js';
import { componentTls, serverTls } from './tls.js';

/** promgate's own shape (configs/promgate.schema.json): everything the other two hold, and what only promgate has. */
export const PROMGATE_KEYS = [
  'server',
  'debug',
  'tenants',
  'auth',
  'components',
  'routes',
  'dns_server',
  'reload_interval',
  'namespace_label',
  'unprotected_endpoints',
  'max_body_size',
] as const;

export const TENANT_KEYS = ['username', 'password', 'passwords', 'id', 'ids', 'passthrough', 'limits'] as const;
export const AUTH_KEYS = ['users_file', 'jwt'] as const;
export const JWT_KEYS = [
  'secret',
  'public_key_file',
  'jwks',
  'issuer',
  'audience',
  'require_exp',
  'leeway',
  'namespaces_claim',
  'labels_claim',
  'tenant_claim',
] as const;
export const COMPONENT_KEYS = [
  'url',
  'dns_refresh_interval',
  'timeout',
  'dial_timeout',
  'tls_handshake_timeout',
  'response_header_timeout',
  'write_timeout',
  'idle_timeout',
  'tls_config',
  'sigv4',
] as const;
export const ROUTE_KEYS = ['path', 'match', 'component', 'enforcement', 'max_body_size'] as const;

// As `--upstream-timeout` in k8spin mode: beyond Prometheus's own 2 m query timeout.
const DEFAULT_TIMEOUT_MS = 150_000;

export function readPromgate(root: YamlValue, file: string): GatewayConfig {
  const fields = root.fields(PROMGATE_KEYS);
  const components = new Map<string, ComponentConfig>();
  for (const [name, value] of fields.get('components')?.entries() ?? []) components.set(name, readComponent(name, value, file));
  const routes = (fields.get('routes')?.items() ?? []).map((value) => {
    const r = value.fields(ROUTE_KEYS);
    const component = r.required('component');
    const name = component.nonEmptyString();
    if (!components.has(name)) throw component.fail(`names no component: ${JSON.stringify(name)} is not under components`);
    const match = oneOf<MatchKind>(r.get('match'), ['exact', 'prefix']) ?? 'exact';
    const enforcement = oneOf<Enforcement>(r.required('enforcement'), ENFORCEMENTS)!;
    return route(routePath(r.required('path')), match, name, value.where, enforcement, size(r.get('max_body_size')) ?? DEFAULT_MAX_RAW_BODY);
  });
  const debug = fields.get('debug');
  const profiling = debug?.fields([...LISTENER_KEYS, 'profiling']).get('profiling')?.bool();
  const auth = fields.get('auth')?.fields(AUTH_KEYS);
  const namespaceLabel = fields.get('namespace_label');
  if (namespaceLabel !== undefined && !isLabelName(namespaceLabel.string())) throw namespaceLabel.fail('is not a label name');
  const reload = fields.get('reload_interval')?.duration();
  const maxBodySize = size(fields.get('max_body_size'));
  const dnsServer = fields.get('dns_server')?.nonEmptyString();
  const unprotected = fields.get('unprotected_endpoints')?.items().map(routePath);
  const usersFile = auth?.get('users_file')?.nonEmptyString();
  return {
    file,
    shape: 'promgate',
    server: serverListener(fields.get('server'), file),
    debug: listener(debug, ['profiling']),
    tenants: (fields.get('tenants')?.items() ?? []).flatMap(readTenant),
    jwt: readJwt(auth?.get('jwt')),
    ...(usersFile !== undefined && { usersFile }),
    components,
    routes,
    settings: {
      ...(dnsServer !== undefined && { dnsServer }),
      ...(namespaceLabel !== undefined && { namespaceLabel: namespaceLabel.string() }),
      ...(reload !== undefined && { reloadIntervalMinutes: reload / 60_000 }),
      ...(unprotected !== undefined && { unprotectedEndpoints: unprotected }),
      ...(maxBodySize !== undefined && { maxBodySize }),
      ...(profiling !== undefined && { enableProfiling: profiling }),
    },
  };
}

/** promgate's `server`: the listener's settings, and its `tls` block (Prometheus's tls_server_config). */
function serverListener(value: YamlValue | undefined, file: string): ListenerConfig {
  const settings = listener(value, ['tls']);
  const block = value?.fields([...LISTENER_KEYS, 'tls']).get('tls');
  const tls = block === undefined ? undefined : serverTls(block, file);
  return tls === undefined ? settings : { ...settings, tls };
}

function readComponent(name: string, value: YamlValue, file: string): ComponentConfig {
  const c = value.fields(COMPONENT_KEYS);
  const url = componentUrl(c.required('url'));
  const tlsConfig = c.get('tls_config');
  if (tlsConfig !== undefined && url.protocol !== 'https:') throw tlsConfig.fail('needs an https url');
  const sigv4 = c.get('sigv4');
  const duration = (key: string): number | undefined => c.get(key)?.duration();
  const timeoutMs = duration('timeout') ?? DEFAULT_TIMEOUT_MS;
  const write = duration('write_timeout');
  const idle = duration('idle_timeout');
  return {
    name,
    url,
    dnsRefreshMs: duration('dns_refresh_interval') ?? 1000,
    timeoutMs,
    dialTimeoutMs: duration('dial_timeout') ?? 5000,
    tlsHandshakeTimeoutMs: duration('tls_handshake_timeout') ?? 5000,
    responseHeaderTimeoutMs: duration('response_header_timeout') ?? timeoutMs,
    ...(write !== undefined && { writeTimeoutMs: write }),
    ...(idle !== undefined && { idleTimeoutMs: idle }),
    ...(sigv4 !== undefined && { sigv4: readSigV4(sigv4, url) }),
    ...(tlsConfig !== undefined && { tls: componentTls(tlsConfig, file) }),
    where: value.where,
  };
}

/** A user with several passwords is several entries, one a password, all granting the same tenants. */
function readTenant(value: YamlValue): GatewayTenant[] {
  const t = value.fields(TENANT_KEYS);
  const passwords = t.either('password', 'passwords');
  const ids = t.either('id', 'ids');
  const passthrough = t.get('passthrough')?.bool() ?? false;
  if (passwords === undefined) throw value.fail('password (or passwords) is required');
  if (ids === undefined && !passthrough) throw value.fail('id (or ids) is required unless passthrough is true');
  const username = t.required('username').nonEmptyString();
  const tenantIds = ids === undefined ? [] : listOf(ids).map(tenantId);
  const limits = readTenantLimits(t.get('limits'));
  return listOf(passwords).map((p) => ({ username, password: password(p), tenantIds, passthrough, ...(limits !== undefined && { limits }), where: value.where }));
}

/** A tenant's `limits:` block, as in a users file (limits/limits.ts). */
function readTenantLimits(value: YamlValue | undefined): LimitsOverrides | undefined {
  if (value === undefined || value.isNull) return undefined;
  const entries = value.entries();
  const read = readLimits(new Map(entries.map(([name, v]) => [name, v.string()])));
  if (read.ok) return read.value;
  const at = entries.find(([name]) => name === read.error.key)?.[1] ?? value;
  throw at.fail(read.error.message);
}

function readJwt(value: YamlValue | undefined): GatewayJwt {
  if (value === undefined) return {};
  const j = value.fields(JWT_KEYS);
  const text = (key: string): string | undefined => j.get(key)?.nonEmptyString();
  const entries: [keyof GatewayJwt, unknown][] = [
    ['secret', text('secret')],
    ['publicKeyFile', text('public_key_file')],
    ['jwks', text('jwks')],
    ['issuer', text('issuer')],
    ['audience', text('audience')],
    ['requireExp', j.get('require_exp')?.bool()],
    ['leewaySeconds', j.get('leeway')?.integer(0, 86_400)],
    ['namespacesClaim', text('namespaces_claim')],
    ['labelsClaim', text('labels_claim')],
    ['tenantClaim', text('tenant_claim')],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as GatewayJwt;
}

const listOf = (value: YamlValue): YamlValue[] => (value.node !== null && 'items' in value.node ? value.items() : [value]);

function oneOf<T extends string>(value: YamlValue | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const text = value.string();
  if (!(choices as readonly string[]).includes(text)) throw value.fail(`must be one of ${choices.join(', ')}`);
  return text as T;
}

function size(value: YamlValue | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseSize(value.string());
  } catch (error) {
    throw value.fail((error as Error).message);
  }
}

