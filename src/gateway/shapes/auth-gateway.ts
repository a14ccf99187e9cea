import type { ComponentConfig, GatewayConfig, GatewayRoute, GatewayTenant } from '../config.js';
import type { YamlValue } from '../yaml.js';
import { componentUrl, listener, password, route, routePath, tenantId, type Timeouts } from './common.js';

/** The keys of cortexproject/auth-gateway's file: `debug` in its proposal and README, `admin` in its code. */
export const AUTH_GATEWAY_KEYS = ['server', 'debug', 'admin', 'tenants', 'distributor', 'frontend', 'alertmanager', 'ruler'] as const;

const TENANT_KEYS = ['authentication', 'username', 'password', 'id', 'passthrough'] as const;

const COMPONENT_KEYS = [
  'url',
  'paths',
  'dns_refresh_interval',
  'http_client_timeout',
  'http_client_dialer_timeout',
  'http_client_tls_handshake_timeout',
  'http_client_response_header_timeout',
  // The proposal's NGINX-like names.
  'read_timeout',
  'write_timeout',
  'idle_timeout',
] as const;

type Component = 'distributor' | 'frontend' | 'alertmanager' | 'ruler';

const both = (...paths: string[]): string[] => paths.flatMap((p) => [`/prometheus/api/v1/${p}`, `/api/prom/api/v1/${p}`]);

/** The paths each component serves when it lists none: auth-gateway's own lists (gateway/gateway.go). */
export const DEFAULT_PATHS: Readonly<Record<Component, readonly string[]>> = {
  distributor: ['/api/v1/push', '/api/prom/push'],
  frontend: both('query', 'query_range', 'query_exemplars', 'series', 'labels', 'label/', 'metadata', 'read', 'status/buildinfo'),
  alertmanager: ['/alertmanager/', '/api/v1/alerts', '/multitenant_alertmanager/delete_tenant_config'],
  ruler: [...both('rules', 'alerts'), '/api/v1/rules', '/api/v1/rules/', '/api/prom/rules/', '/ruler/delete_tenant_config'],
};

/** auth-gateway's defaults (gateway/proxy.go): the query-frontend waits a minute, the others 15 s. */
const DEFAULT_TIMEOUTS: Readonly<Record<Component, Timeouts>> = {
  distributor: { timeoutMs: 15_000, dialTimeoutMs: 5000, tlsHandshakeTimeoutMs: 5000, responseHeaderTimeoutMs: 5000 },
  frontend: { timeoutMs: 60_000, dialTimeoutMs: 5000, tlsHandshakeTimeoutMs: 5000, responseHeaderTimeoutMs: 5000 },
  alertmanager: { timeoutMs: 15_000, dialTimeoutMs: 5000, tlsHandshakeTimeoutMs: 5000, responseHeaderTimeoutMs: 5000 },
  ruler: { timeoutMs: 15_000, dialTimeoutMs: 5000, tlsHandshakeTimeoutMs: 5000, responseHeaderTimeoutMs: 5000 },
};
const DEFAULT_DNS_REFRESH_MS = 1000;

/**
 * cortexproject/auth-gateway's configuration, as its proposal and its implementation name things. A path ending in
 * `/` matches every path below it and any other matches exactly, as Go's ServeMux registers them; a component
 * without a `url` is not set up, and its paths are 404.
 */
export function readAuthGateway(root: YamlValue, file: string): GatewayConfig {
  const fields = root.fields(AUTH_GATEWAY_KEYS);
  const debug = fields.either('debug', 'admin');
  const components = new Map<string, ComponentConfig>();
  const routes: GatewayRoute[] = [];
  for (const name of ['distributor', 'frontend', 'alertmanager', 'ruler'] as const) {
    const value = fields.get(name);
    if (value === undefined) continue;
    const c = value.fields(COMPONENT_KEYS);
    const url = c.get('url');
    if (url === undefined) continue;
    const defaults = DEFAULT_TIMEOUTS[name];
    const timeout = (key: string, fallback: number): number => c.get(key)?.duration() ?? fallback;
    components.set(name, {
      name,
      url: componentUrl(url),
      dnsRefreshMs: timeout('dns_refresh_interval', DEFAULT_DNS_REFRESH_MS),
      timeoutMs: timeout('http_client_timeout', defaults.timeoutMs),
      dialTimeoutMs: timeout('http_client_dialer_timeout', defaults.dialTimeoutMs),
      tlsHandshakeTimeoutMs: timeout('http_client_tls_handshake_timeout', defaults.tlsHandshakeTimeoutMs),
      responseHeaderTimeoutMs: c.either('http_client_response_header_timeout', 'read_timeout')?.duration() ?? defaults.responseHeaderTimeoutMs,
      ...(c.get('write_timeout') !== undefined && { writeTimeoutMs: c.get('write_timeout')!.duration() }),
      ...(c.get('idle_timeout') !== undefined && { idleTimeoutMs: c.get('idle_timeout')!.duration() }),
      where: value.where,
    });
    const listed = c.get('paths');
    const paths = listed === undefined ? [] : listed.items();
    if (paths.length === 0) {
      for (const path of DEFAULT_PATHS[name]) routes.push(route(path, path.endsWith('/') ? 'prefix' : 'exact', name, value.where));
    } else {
      for (const item of paths) {
        const path = routePath(item);
        routes.push(route(path, path.endsWith('/') ? 'prefix' : 'exact', name, item.where));
      }
    }
  }
  return {
    file,
    shape: 'auth-gateway',
    server: listener(fields.get('server')),
    debug: listener(debug),
    tenants: (fields.get('tenants')?.items() ?? []).map(readTenant),
    jwt: {},
    components,
    routes,
    settings: {},
  };
}

function readTenant(value: YamlValue): GatewayTenant {
  const t = value.fields(TENANT_KEYS);
  const authentication = t.get('authentication');
  if (authentication?.string() !== 'basic') throw (authentication ?? value).fail('authentication must be basic, the only kind auth-gateway has');
  const passthrough = t.get('passthrough')?.bool() ?? false;
  const id = t.get('id');
  if (id === undefined && !passthrough) throw value.fail('id is required (the tenant sent as X-Scope-OrgID) unless passthrough is true');
  return {
    username: t.required('username').nonEmptyString(),
    password: password(t.required('password')),
    tenantIds: id === undefined ? [] : [tenantId(id)],
    passthrough,
    where: value.where,
  };
}
