import { rebuildParams, type ParamRules } from '../../enforce/params.js';
import { paramsRefusal, stream, type Handler } from '../route.js';

// `query` here is text to format or parse, not a query that runs: it reads no series.
const RULES: ParamRules = { query: false, selectors: 'api', matchErrorPrefix: '' };

/**
 * Endpoints that read no series (build information, format_query, parse_query): forwarded with their
 * parameters rebuilt all the same, so that a `match[]` never goes out unenforced.
 */
export function passThroughHandler(path: string): Handler {
  return ({ params, principal, cache }) => {
    const rebuilt = rebuildParams(params, principal, RULES, cache);
    return rebuilt.ok ? stream({ path, params: rebuilt.value.encoded }) : paramsRefusal(rebuilt.error);
  };
}
