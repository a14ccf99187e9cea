import { missingQuery, rebuildParams, type ParamRules } from '../../enforce/params.js';
import { NO_LIMITS } from '../../limits/limits.js';
import { checkQueryWindow } from '../../limits/query-window.js';
import { paramsRefusal, stream, type Handler } from '../route.js';

const RULES: ParamRules = { query: true, selectors: 'api', matchErrorPrefix: '' };

/**
 * /api/v1/query, query_range and query_exemplars: every selector of `query` gets the tenant's matchers, and the
 * query must keep within the tenant's window limits (lookback; range and points of a range query).
 */
export function queryHandler(path: string): Handler {
  const isRange = path === '/api/v1/query_range';
  return ({ params, principal, cache, limits = NO_LIMITS }) => {
    const rebuilt = rebuildParams(params, principal, RULES, cache);
    if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
    // Prometheus reads a missing query as the empty expression, which the parser refuses, saying why.
    if (rebuilt.value.queries === 0) return paramsRefusal(missingQuery(principal));
    const over = checkQueryWindow(params, rebuilt.value.lookbackMs, limits, isRange);
    if (over !== undefined) {
      return over.reason === 'unreadable'
        ? { ok: false, error: { status: 400, errorType: 'bad_data', message: over.message } }
        : { ok: false, error: { status: 422, errorType: 'bad_data', message: over.message, limit: over.reason } };
    }
    return stream({ path, params: rebuilt.value.encoded });
  };
}
