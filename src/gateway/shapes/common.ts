import { parseStoredPassword } from '../../auth/password.js';
import type { Enforcement } from '../../enforce/isolation.js';
import { parseTarget } from '../../http/target.js';
import { isTenantId, TENANT_ID_RULE } from '../../tenant.js';
import { DEFAULT_LISTENER, DEFAULT_MAX_RAW_BODY, type ComponentConfig, type GatewayRoute, type GatewayTenant, type ListenerConfig, type MatchKind } from '../config.js';
import type { YamlValue } from '../yaml.js';

/** A component's URL: http or https, no query or fragment; its path is a prefix every request goes below. */
export function componentUrl(value: YamlValue): URL {
  let url: URL;
  try {
    url = new URL(value.nonEmptyString());
  } catch {
    throw value.fail('must be an http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw value.fail('must be an http or https URL');
  if (url.search !== '' || url.hash !== '') throw value.fail('must not have a query or fragment');
  return url;
}

/** A route path: canonical, as request paths are compared (see http/target.ts). */
export function routePath(value: YamlValue): string {
  const path = value.nonEmptyString();
  const target = parseTarget(path);
  if (!target.ok || path.includes('?')) throw value.fail(`${JSON.stringify(path)} is not a canonical path`);
  return path;
}

export function tenantId(value: YamlValue): string {
  const id = value.nonEmptyString();
  if (!isTenantId(id)) throw value.fail(`${JSON.stringify(id)} is not a tenant id Cortex accepts: ${TENANT_ID_RULE}`);
  return id;
}

export function password(value: YamlValue): GatewayTenant['password'] {
  const stored = parseStoredPassword(value.nonEmptyString());
  if (!stored.ok) throw value.fail(stored.error);
  return stored.value;
}

/** A listener (`ownKeys`: a shape's own keys beside the listener's, read apart): its timeouts under either name: the auth-gateway proposal's `read_timeout`, its implementation's `http_server_read_timeout`. */
export function listener(value: YamlValue | undefined, ownKeys: readonly string[] = []): ListenerConfig {
  if (value === undefined) return DEFAULT_LISTENER;
  const fields = value.fields([...LISTENER_KEYS, ...ownKeys]);
  const timeout = (short: string, fallback: number): number =>
    fields.either(`${short}_timeout`, `http_server_${short}_timeout`)?.duration() ?? fallback;
  const address = fields.get('address')?.string();
  const port = fields.get('port')?.integer(0, 65535);
  return {
    ...(address !== undefined && address !== '' && { address }),
    ...(port !== undefined && port !== 0 && { port }),
    readTimeoutMs: timeout('read', DEFAULT_LISTENER.readTimeoutMs),
    writeTimeoutMs: timeout('write', DEFAULT_LISTENER.writeTimeoutMs),
    idleTimeoutMs: timeout('idle', DEFAULT_LISTENER.idleTimeoutMs),
  };
}

export const LISTENER_KEYS = [
  'address',
  'port',
  'read_timeout',
  'write_timeout',
  'idle_timeout',
  'http_server_read_timeout',
  'http_server_write_timeout',
  'http_server_idle_timeout',
] as const;

/** A route with the defaults every shape shares: the whole client path goes to the component, enforced by header. */
export function route(path: string, match: MatchKind, component: string, where: string, enforcement: Enforcement = 'header', maxBodySize = DEFAULT_MAX_RAW_BODY): GatewayRoute {
  return { path, match, component, enforcement, maxBodySize, where };
}

/** The component's timeouts, defaulted. */
export type Timeouts = Pick<ComponentConfig, 'timeoutMs' | 'dialTimeoutMs' | 'tlsHandshakeTimeoutMs' | 'responseHeaderTimeoutMs'>;
