import type { JsonClient } from '../upstream/json.js';
import type { Handler, Route, UpstreamCall } from './route.js';

/**
 * A route of Prometheus's API served below `prefix` (`/prometheus/api/v1/query`): the handler still sees the
 * API's own paths, and every upstream call it makes, streamed or asked for itself, goes below the prefix too,
 * as it does to a Prometheus run with `--web.route-prefix`.
 */
export function mountedAt(prefix: string, route: Route, changes: Partial<Pick<Route, 'upstream' | 'enforcement'>>): Route {
  prefix = prefix.replace(/\/+$/, '');
  if (prefix === '') return { ...route, ...changes };
  const handler: Handler = (request) => {
    const decided = route.handler(request);
    if (!decided.ok) return decided;
    const action = decided.value;
    const below = (client: JsonClient): JsonClient => ({ get: (path, params) => client.get(prefix + path, params) });
    const moved = (call: UpstreamCall): UpstreamCall => ({ ...call, path: prefix + call.path });
    switch (action.kind) {
      case 'stream':
        return { ok: true, value: { kind: 'stream', call: moved(action.call) } };
      case 'answer':
        return { ok: true, value: { kind: 'answer', run: (client) => action.run(below(client)) } };
      case 'checked':
        return { ok: true, value: { kind: 'checked', check: async (client) => {
          const checked = await action.check(below(client));
          return checked.ok ? { ok: true, value: moved(checked.value) } : checked;
        } } };
    }
  };
  return { ...route, ...changes, path: prefix + route.path, handler };
}
