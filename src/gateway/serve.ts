import type { Server } from 'node:http';
import { createBasicAuthenticatorOver } from '../auth/basic.js';
import { firstRecognising } from '../auth/chain.js';
import { createJwtAuthenticator } from '../auth/jwt/index.js';
import type { Authenticator } from '../auth/types.js';
import { parseUsersFile, type UserEntry } from '../auth/users-file.js';
import type { GatewayFlags } from '../config/gateway-flags.js';
import type { RunOptions } from '../config/run-options.js';
import { EnforcedCache } from '../enforce/params.js';
import { createLimiter } from '../limits/index.js';
import type { Deps } from '../observability/deps.js';
import { createGatewayMetrics } from '../observability/metrics.js';
import { watchFile, type WatchedFile } from '../reload/watched-file.js';
import { err, ok, type Result } from '../result.js';
import { RouteTable } from '../routes/table.js';
import { createApp } from '../server/app.js';
import { createInternalApp } from '../server/internal.js';
import { drain, listen, portOf } from '../server/listen.js';
import { serveTls } from '../tls/serve.js';
import { watchClientTls } from '../tls/upstream.js';
import type { Tracing } from '../tracing/tracing.js';
import { createBalancedUpstream, type BalancedUpstream } from '../upstream/balanced.js';
import type { RequestSigner } from '../upstream/upstream.js';
import { metered } from '../upstream/metered.js';
import { DEFAULT_MAX_RAW_BODY, type ComponentConfig, type GatewayConfig } from './config.js';
import { parseGatewayConfig } from './load.js';
import { componentObserver, configuredTenants, countedAuthenticator } from './metrics.js';
import { gatewayRoutes } from './routes.js';
import { gatewaySettings, type GatewaySettings } from './settings.js';
import { componentSigners } from './signing.js';

/** One load of the gateway file: the configuration, its route table and its tenants as users. */
interface Loaded {
  readonly config: GatewayConfig;
  readonly table: RouteTable;
  readonly users: readonly UserEntry[];
}

export interface RunningGateway {
  readonly port: number;
  readonly debugPort: number;
  stop(boundMs: number): Promise<void>;
}

// Texts longer than this are enforced anew each time, as in k8spin mode.
const CACHEABLE_PARAM_LENGTH = 4096;

/** Reads a gateway file whole: a file whose routes cannot be made is as bad as one that does not parse. */
export function loadGatewayFile(text: string, file: string): Result<Loaded, string> {
  const config = parseGatewayConfig(text, file);
  if (!config.ok) return config;
  const routes = gatewayRoutes(config.value);
  if (!routes.ok) return routes;
  const users = config.value.tenants.map(
    (t): UserEntry => ({
      username: t.username,
      password: t.password,
      namespaces: [],
      labels: {},
      tenantIds: t.tenantIds,
      passthrough: t.passthrough,
      ...(t.limits !== undefined && { limits: t.limits }),
      where: t.where,
    }),
  );
  return ok({ config: config.value, table: new RouteTable(routes.value), users });
}

/**
 * Gateway mode: the file's components, routes and tenants served as one gateway, its debug listener beside it.
 * The file is re-read on change, on SIGHUP and on the reload interval: new tenants and routes apply at once, a bad
 * file keeps the last good one, and what cannot change while running (listeners, components, auth files) is
 * logged as needing a restart.
 */
export async function runGateway(
  file: string,
  options: RunOptions,
  flags: GatewayFlags,
  deps: Deps,
  tracing?: Tracing,
): Promise<Result<RunningGateway, string>> {
  const { logger } = deps;
  const first = await readFirst(file);
  if (!first.ok) return first;
  const settings = gatewaySettings(first.value.config, options, flags);
  if (!settings.ok) return settings;
  const s = settings.value;
  const watched = await watchFile<Loaded>({ file, intervalMinutes: s.reloadIntervalMinutes, what: 'gateway config', parse: loadGatewayFile }, deps);
  if (!watched.ok) return watched;
  const gateway = watched.value;

  const signers = await componentSigners(first.value.config, deps);
  if (!signers.ok) {
    await gateway.close();
    return signers;
  }
  const upstreams = new Map<string, BalancedUpstream>();
  for (const component of first.value.config.components.values()) {
    const upstream = await componentUpstream(component, s, deps, signers.value.get(component.name));
    if (!upstream.ok) {
      await Promise.all([gateway.close(), ...[...upstreams.values()].map((u) => u.close())]);
      return upstream;
    }
    upstreams.set(component.name, upstream.value);
  }
  const authenticator = await authenticatorFor(gateway, s, deps);
  if (!authenticator.ok) {
    await Promise.all([gateway.close(), ...[...upstreams.values()].map((u) => u.close())]);
    return authenticator;
  }

  const metrics = createGatewayMetrics(deps.registry);
  // What the app sends to: each component's calls counted under its name.
  const served = new Map([...upstreams].map(([name, upstream]) => [name, metered(upstream, componentObserver(deps.registry, name))]));
  const cache = new EnforcedCache({ maxBytes: options.enforceCacheSize, maxParamLength: CACHEABLE_PARAM_LENGTH, complexity: options.limits.complexity });
  const limiter = await createLimiter(options.limits, deps);
  const appFor = (loaded: Loaded) =>
    createApp(
      {
        routes: loaded.table,
        upstreams: served,
        authenticator: authenticator.value,
        unprotected: new Set(s.unprotectedEndpoints),
        // Unprotected paths go to the component of the route they match (see unprotectedPaths).
        unprotectedUpstream: [...upstreams.keys()][0]!,
        maxBodySize: s.maxBodySize,
        maxRawBodySize: DEFAULT_MAX_RAW_BODY,
        cache,
        // Every gateway route names its own enforcement.
        enforcement: 'header',
        metrics,
        limiter,
        ...(tracing !== undefined && { tracing }),
      },
      deps,
    );
  const unprotected = unprotectedPaths(first.value, s.unprotectedEndpoints);
  if (!unprotected.ok) return unprotected;
  let app = appFor(first.value);
  gateway.onChange((loaded) => {
    const restart = needsRestart(first.value.config, loaded.config);
    if (restart !== undefined) {
      logger.error(`gateway config: ${restart} changed, which applies at the next restart; still serving the routes loaded before`);
      return;
    }
    app = appFor(loaded);
    logger.info({ routes: loaded.table.routes.length, tenants: loaded.users.length }, 'gateway config applied');
  });

  let ready = false;
  const serverTls = first.value.config.server.tls;
  const tls = serverTls === undefined ? undefined : await serveTls(serverTls, s.reloadIntervalMinutes, deps);
  if (tls?.ok === false) return tls;
  const main = await listen({ fetch: (request, env) => app.fetch(request, env) }, s.port, tls?.value, s.address).catch((e: unknown) => e as Error);
  if (main instanceof Error) return err(`cannot listen on port ${s.port}: ${main.message}`);
  applyTimeouts(main, first.value.config);
  const debugApp = createInternalApp(deps.registry, { ready: () => ready }, s.enableProfiling);
  const debug = s.debugPort === 0 ? undefined : await listen(debugApp, s.debugPort, undefined, s.debugAddress).catch((e: unknown) => e as Error);
  if (debug instanceof Error) return err(`cannot listen on the debug port ${s.debugPort}: ${debug.message}`);
  ready = true;
  logger.info(
    {
      port: portOf(main),
      debugPort: debug === undefined ? 0 : portOf(debug),
      // On, the debug listener serves a CPU profile and a heap snapshot to loopback connections.
      profiling: s.enableProfiling,
      config: file,
      shape: first.value.config.shape,
      components: [...first.value.config.components.values()].map((c) => ({ name: c.name, url: redacted(c.url), addresses: upstreams.get(c.name)!.addresses() })),
      routes: first.value.config.routes.map((r) => `${r.path}${r.match === 'prefix' ? '*' : ''} → ${r.component} (${r.enforcement})`),
    },
    'promgate gateway listening',
  );
  return ok({
    port: portOf(main),
    debugPort: debug === undefined ? 0 : portOf(debug),
    stop: async (boundMs) => {
      ready = false;
      await drain(main, boundMs, logger);
      await Promise.allSettled([authenticator.value.close(), gateway.close(), ...[...upstreams.values()].map((u) => u.close()), limiter.close(), tls?.value.close()]);
      if (debug !== undefined) await drain(debug, 1000, logger);
    },
  });
}

async function readFirst(file: string): Promise<Result<Loaded, string>> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return err(`cannot read the gateway config ${file}: ${(error as Error).message}`);
  }
  return loadGatewayFile(text, file);
}

/** A component's balanced upstream; its tls_config files watched, each new set giving every address a new pool. */
async function componentUpstream(c: ComponentConfig, s: GatewaySettings, deps: Deps, sign: RequestSigner | undefined): Promise<Result<BalancedUpstream, string>> {
  const tls = c.tls === undefined ? undefined : await watchClientTls(c.tls, { what: `component ${c.name}`, intervalMinutes: s.reloadIntervalMinutes }, deps);
  if (tls?.ok === false) return err(`${c.where}: ${tls.error}`);
  // A TLS handshake is part of connecting, so the dial and handshake bounds add up.
  const connectTimeoutMs = c.dialTimeoutMs + (c.url.protocol === 'https:' ? c.tlsHandshakeTimeoutMs : 0);
  const balanced = await createBalancedUpstream(
    {
      name: c.name,
      upstream: {
        url: c.url,
        timeoutMs: c.timeoutMs,
        connectTimeoutMs,
        headersTimeoutMs: c.responseHeaderTimeoutMs,
        ...(c.idleTimeoutMs !== undefined && { keepAliveTimeoutMs: c.idleTimeoutMs }),
        ...(sign !== undefined && { sign }),
        ...(tls !== undefined && { tls: tls.value.current() }),
      },
      refreshMs: c.dnsRefreshMs,
      ...(s.dnsServer !== undefined && { dnsServer: s.dnsServer }),
      totalTimeoutMs: c.timeoutMs,
      ...(c.writeTimeoutMs !== undefined && { writeTimeoutMs: c.writeTimeoutMs }),
    },
    deps,
  );
  if (tls === undefined) return ok(balanced);
  tls.value.onChange((next) => balanced.useTls(next));
  return ok({ ...balanced, close: () => Promise.all([balanced.close(), tls.value.close()]).then(() => undefined) });
}

/**
 * Basic users (the file's tenants, and a k8spin users file beside them, in one authenticator: a chain would let
 * the first Basic authenticator decide alone), then JWT when any key is given.
 */
async function authenticatorFor(gateway: WatchedFile<Loaded>, s: GatewaySettings, deps: Deps): Promise<Result<Authenticator, string>> {
  const chain: Authenticator[] = [];
  let usersFile: WatchedFile<readonly UserEntry[]> | undefined;
  if (s.usersFile !== undefined) {
    const watched = await watchFile<readonly UserEntry[]>(
      { file: s.usersFile, intervalMinutes: s.reloadIntervalMinutes, what: 'users file', parse: (text, name) => {
        const parsed = parseUsersFile(text, name);
        return parsed.ok ? ok(parsed.value.users) : parsed;
      } },
      deps,
    );
    if (!watched.ok) return watched;
    usersFile = watched.value;
  }
  let together: { tenants: readonly UserEntry[]; file: readonly UserEntry[] | undefined; all: readonly UserEntry[] } | undefined;
  const entries = (): readonly UserEntry[] => {
    const tenants = gateway.current().users;
    const file = usersFile?.current();
    if (together?.tenants !== tenants || together.file !== file) together = { tenants, file, all: [...tenants, ...(file ?? [])] };
    return together.all;
  };
  if (gateway.current().users.length > 0 || usersFile !== undefined) {
    const basic = createBasicAuthenticatorOver(entries, gateway.current().config.file, s.namespaceLabel, deps);
    chain.push({ authenticate: (r) => basic.authenticate(r), close: () => Promise.all([basic.close(), usersFile?.close()]).then(() => undefined) });
  }
  if (s.jwt.secret !== undefined || s.jwt.publicKeyFile !== undefined || s.jwks !== '') {
    const jwt = await createJwtAuthenticator({ jwt: s.jwt, authConfig: s.jwks, reloadIntervalMinutes: s.reloadIntervalMinutes, namespaceLabel: s.namespaceLabel }, deps);
    if (!jwt.ok) return jwt;
    chain.push(jwt.value);
  }
  if (chain.length === 0) return err(`${gateway.current().config.file}: no one can authenticate: give tenants, a users file or a JWT secret or key`);
  return ok(countedAuthenticator(firstRecognising(chain), configuredTenants(entries), deps.registry));
}

/** Each unprotected path must be one of the routes', on one that reads no series: it is served to anyone. */
function unprotectedPaths(loaded: Loaded, paths: readonly string[]): Result<void, string> {
  for (const path of paths) {
    const route = loaded.table.find(path)?.route;
    if (route === undefined) return err(`unprotected endpoint ${path}: no route of ${loaded.config.file} serves it`);
    if (route.readsSeries) return err(`unprotected endpoint ${path}: its route can answer with series, so it cannot be served without authentication`);
  }
  return ok(undefined);
}

/** What a reload cannot apply to a running gateway; undefined when everything can be. */
function needsRestart(before: GatewayConfig, after: GatewayConfig): string | undefined {
  if (JSON.stringify(before.server) !== JSON.stringify(after.server) || JSON.stringify(before.debug) !== JSON.stringify(after.debug)) return 'a listener';
  const components = (c: GatewayConfig) => JSON.stringify([...c.components.values()].map((x) => ({ ...x, url: x.url.href, where: '' })));
  if (components(before) !== components(after)) return 'a component';
  if (JSON.stringify(before.jwt) !== JSON.stringify(after.jwt) || before.usersFile !== after.usersFile || JSON.stringify(before.settings) !== JSON.stringify(after.settings)) {
    return 'an auth source or a setting';
  }
  return undefined;
}

/** auth-gateway's listener timeouts: reading a whole request, and keeping an idle connection. */
function applyTimeouts(server: Server, config: GatewayConfig): void {
  server.requestTimeout = config.server.readTimeoutMs;
  server.keepAliveTimeout = config.server.idleTimeoutMs;
}

function redacted(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = 'xxxxx';
  return copy.href;
}
