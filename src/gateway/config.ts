import type { StoredPassword } from '../auth/password.js';
import type { AwsCredentialSource } from '../aws/credentials.js';
import type { Enforcement } from '../enforce/isolation.js';
import type { ServerTlsSettings } from '../tls/server-settings.js';
import type { ClientTlsSettings } from '../tls/upstream.js';
import type { LimitsOverrides } from '../limits/limits.js';

/** Which of the three shapes a file was written in. */
export type ConfigShape = 'cortex-gateway' | 'auth-gateway' | 'promgate';

/** How a route's path matches a request's canonical path. */
export type MatchKind = 'exact' | 'prefix';

/** A listener: the main server, or the debug one. Unset fields take the flags' values. */
export interface ListenerConfig {
  readonly address?: string;
  readonly port?: number;
  /** Go's http.Server timeouts, as auth-gateway has them: reading the whole request, writing the answer, idle keep-alive. */
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** HTTPS: Prometheus's tls_server_config (promgate's shape: `server.tls`). */
  readonly tls?: ServerTlsSettings;
}

/** A component of the cluster (distributor, query-frontend, ruler, alertmanager...): one upstream. */
export interface ComponentConfig {
  readonly name: string;
  /** Its origin and path prefix; a hostname is resolved every `dnsRefreshMs` and requests go round-robin over its addresses. */
  readonly url: URL;
  readonly dnsRefreshMs: number;
  /** The whole exchange, connecting, the TLS handshake, and waiting for the answer's headers. */
  readonly timeoutMs: number;
  readonly dialTimeoutMs: number;
  readonly tlsHandshakeTimeoutMs: number;
  readonly responseHeaderTimeoutMs: number;
  /** The longest a request body may take to go up (the auth-gateway proposal's `write_timeout`); unset: the whole exchange's. */
  readonly writeTimeoutMs?: number;
  /** How long an idle pooled connection is kept (its `idle_timeout`); unset: undici's default. */
  readonly idleTimeoutMs?: number;
  /** TLS to the component: Prometheus's tls_config (promgate's shape: `tls_config`). */
  readonly tls?: ClientTlsSettings;
  /** Requests to the component signed with AWS SigV4 (Amazon Managed Service for Prometheus). */
  readonly sigv4?: SigV4Config;
  readonly where: string;
}

/** Prometheus's `sigv4` block (its names), and the service signed for. */
export interface SigV4Config extends AwsCredentialSource {
  /** Unset: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1, as with `--aws`. */
  readonly region?: string;
  readonly service: string;
}

/** One route: requests whose canonical path it matches go to its component, enforced as it says. */
export interface GatewayRoute {
  readonly path: string;
  readonly match: MatchKind;
  readonly component: string;
  readonly enforcement: Enforcement;
  /** Largest body streamed through untouched (`header` routes and pushes). */
  readonly maxBodySize: number;
  readonly where: string;
}

/** A basic-auth tenant: several entries of one username are several passwords, so that one can be rotated. */
export interface GatewayTenant {
  readonly username: string;
  readonly password: StoredPassword;
  /** Sent as X-Scope-OrgID, joined with `|` when several; empty only for a passthrough tenant. */
  readonly tenantIds: readonly string[];
  /** auth-gateway's `passthrough`: the client's own X-Scope-OrgID is forwarded (checked, and logged). */
  readonly passthrough: boolean;
  /** promgate's `limits:` block: the tenant's own limits, over the flags' defaults. */
  readonly limits?: LimitsOverrides;
  readonly where: string;
}

/** JWT settings a file can carry: cortex-gateway's `secret`, and promgate's own `auth.jwt`. */
export interface GatewayJwt {
  readonly secret?: string;
  readonly publicKeyFile?: string;
  /** A JWKS file or http(s) URL. */
  readonly jwks?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly requireExp?: boolean;
  readonly leewaySeconds?: number;
  readonly namespacesClaim?: string;
  readonly labelsClaim?: string;
  readonly tenantClaim?: string;
}

/** A gateway configuration file, whichever its shape, as promgate serves it. */
export interface GatewayConfig {
  readonly file: string;
  readonly shape: ConfigShape;
  readonly server: ListenerConfig;
  readonly debug: ListenerConfig;
  readonly tenants: readonly GatewayTenant[];
  readonly jwt: GatewayJwt;
  /** A k8spin users file (promgate's shape). */
  readonly usersFile?: string;
  readonly components: ReadonlyMap<string, ComponentConfig>;
  /** Longest path first. */
  readonly routes: readonly GatewayRoute[];
  /** Settings only promgate's shape carries; undefined where the file leaves them to the flags. */
  readonly settings: FileSettings;
}

/** What promgate's own shape adds that flags also set: a flag given beside it must agree. */
export interface FileSettings {
  readonly dnsServer?: string;
  readonly namespaceLabel?: string;
  readonly reloadIntervalMinutes?: number;
  readonly unprotectedEndpoints?: readonly string[];
  readonly maxBodySize?: number;
  readonly enableProfiling?: boolean;
}

/** The remote-write push paths of Cortex, Mimir and Prometheus. */
export const PUSH_PATHS: readonly string[] = ['/api/v1/push', '/api/prom/push', '/api/v1/write'];

/** Remote-write batches are a few MiB at most. */
export const DEFAULT_MAX_RAW_BODY = 16 * 1024 ** 2;

/** Go's http.Server defaults in auth-gateway (the same as Cortex's server_config). */
export const DEFAULT_LISTENER: ListenerConfig = { readTimeoutMs: 30_000, writeTimeoutMs: 30_000, idleTimeoutMs: 120_000 };
