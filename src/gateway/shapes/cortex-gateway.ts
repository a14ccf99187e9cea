import { DEFAULT_LISTENER, type ComponentConfig, type GatewayConfig, type GatewayTenant } from '../config.js';
import type { YamlValue } from '../yaml.js';
import { componentUrl, password, route, routePath, tenantId } from './common.js';

/** The keys of cortex-gateway's config.yaml (the rewe-digital gateway's forks that read one). */
export const CORTEX_GATEWAY_KEYS = ['secret', 'basic', 'routes', 'targets'] as const;

const ROUTE_KEYS = ['path', 'prefix', 'target'] as const;
const BASIC_KEYS = ['password', 'tenant'] as const;

// cortex-gateway proxies with Go's ReverseProxy and its defaults: no timeouts of its own beyond the dialer's 30 s.
const TIMEOUTS = { timeoutMs: 150_000, dialTimeoutMs: 30_000, tlsHandshakeTimeoutMs: 10_000, responseHeaderTimeoutMs: 150_000 } as const;
const DNS_REFRESH_MS = 1000;

/**
 * cortex-gateway's configuration: a JWT `secret` (HMAC) whose tokens' `tenant_id` is the tenant, `basic` users
 * with a tenant each, `routes` matching exactly or by prefix, and the `targets` they name. Stricter than
 * cortex-gateway where it was lenient: a route naming no target is refused rather than skipped, and a prefix
 * matches whole path segments (`/prometheus` matches `/prometheus/api/v1/query`, not `/prometheusx`).
 */
export function readCortexGateway(root: YamlValue, file: string): GatewayConfig {
  const fields = root.fields(CORTEX_GATEWAY_KEYS);
  const components = new Map<string, ComponentConfig>();
  for (const [name, value] of fields.get('targets')?.entries() ?? []) {
    components.set(name, { name, url: componentUrl(value), dnsRefreshMs: DNS_REFRESH_MS, ...TIMEOUTS, where: value.where });
  }
  const routes = (fields.get('routes')?.items() ?? []).map((value) => {
    const r = value.fields(ROUTE_KEYS);
    const target = r.required('target');
    const name = target.nonEmptyString();
    if (!components.has(name)) throw target.fail(`names no target: ${JSON.stringify(name)} is not under targets`);
    return route(routePath(r.required('path')), r.get('prefix')?.bool() === true ? 'prefix' : 'exact', name, value.where);
  });
  const tenants = (fields.get('basic')?.entries() ?? []).map(([username, value]): GatewayTenant => {
    const b = value.fields(BASIC_KEYS);
    return { username, password: password(b.required('password')), tenantIds: [tenantId(b.required('tenant'))], passthrough: false, where: value.where };
  });
  const secret = fields.get('secret')?.string();
  return {
    file,
    shape: 'cortex-gateway',
    server: DEFAULT_LISTENER,
    debug: DEFAULT_LISTENER,
    tenants,
    // An empty secret would verify tokens anyone can sign: cortex-gateway's default file has "xxxx" in its place.
    jwt: secret === undefined || secret === '' ? {} : { secret },
    components,
    routes,
    settings: {},
  };
}
