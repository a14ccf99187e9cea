import { missingQuery, rebuildParams, type ParamRules } from '../../enforce/params.js';
import { paramsRefusal, stream, type Handler } from '../route.js';

const RULES: ParamRules = { query: true, selectors: 'api', matchErrorPrefix: '' };

/** /api/v1/query, query_range and query_exemplars: every selector of `query` gets the tenant's matchers. */
export function queryHandler(path: string): Handler {
  return ({ params, principal, cache }) => {
    const rebuilt = rebuildParams(params, principal, RULES, cache);
    if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
    // Prometheus reads a missing query as the empty expression, which the parser refuses, saying why.
    if (rebuilt.value.queries === 0) return paramsRefusal(missingQuery(principal));
    return stream({ path, params: rebuilt.value.encoded });
  };
}
