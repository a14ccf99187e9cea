import type { Route } from '../routes/route.js';
import { mountedAt } from '../routes/mount.js';
import { notEnforceable, passThroughRoute } from '../routes/proxy/index.js';
import { ALERTMANAGER_ROUTES, PROMETHEUS_ROUTES } from '../routes/table.js';
import { err, ok, type Result } from '../result.js';
import { PUSH_PATHS, type GatewayConfig, type GatewayRoute } from './config.js';

const ANY = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'] as const;

/**
 * The routes a gateway configuration makes. A `header` route passes requests through to its component; a push
 * route takes POSTs only. A `labels` or `both` route serves Prometheus's query APIs (the alertmanager component:
 * Alertmanager's API) below its path, enforced as in k8spin mode, and refuses everything else below it; an exact
 * one must be one of those APIs itself.
 */
export function gatewayRoutes(config: GatewayConfig): Result<Route[], string> {
  const routes: Route[] = [];
  for (const r of config.routes) {
    if (r.enforcement === 'header') {
      routes.push(passThrough(r));
      continue;
    }
    const changes = { upstream: r.component, enforcement: r.enforcement };
    // The alertmanager component serves Alertmanager's API as promgate does for --alertmanager-endpoint.
    const apis = r.component === 'alertmanager' ? ALERTMANAGER_ROUTES : PROMETHEUS_ROUTES;
    if (r.match === 'prefix') {
      const prefix = r.path.replace(/\/+$/, '');
      routes.push(...apis.map((api) => mountedAt(prefix, api, changes)));
      routes.push({ ...passThrough(r), handler: notEnforceable });
      continue;
    }
    const api = apis.find((a) => !a.path.includes('<') && r.path.endsWith(a.path));
    if (api === undefined) {
      return err(`${r.where}: ${r.path} is not one of Prometheus's query APIs, which a ${r.enforcement} route enforces: use match: prefix for a Prometheus below a path`);
    }
    routes.push(mountedAt(r.path.slice(0, -api.path.length), api, changes));
  }
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.prefix === true ? 'prefix' : 'exact'} ${route.path}`;
    if (seen.has(key)) return err(`${config.file}: ${route.path} is routed twice (a ${route.enforcement} route's API and another route)`);
    seen.add(key);
  }
  return ok(routes);
}

function passThrough(r: GatewayRoute): Route {
  const push = r.match === 'exact' && PUSH_PATHS.includes(r.path);
  return {
    path: r.path,
    methods: push ? ['POST'] : ANY,
    body: 'raw',
    upstream: r.component,
    readsSeries: true,
    handler: passThroughRoute(push),
    prefix: r.match === 'prefix',
    enforcement: r.enforcement,
    maxBodySize: r.maxBodySize,
  };
}
