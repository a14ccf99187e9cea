import { checkQuery, rebuildParams, type ParamRules } from '../../enforce/params.js';
import { paramsRefusal, stream, type Handler } from '../route.js';

// `query` here is text to format or parse, not a query that runs: it reads no series.
const RULES: ParamRules = { query: false, selectors: 'api', matchErrorPrefix: '' };

/**
 * Endpoints that read no series (build information, format_query, parse_query): forwarded with their
 * parameters rebuilt all the same, so that a `match[]` never goes out unenforced. A `query` goes as written (the
 * answer is about its text), once promgate's parser has taken it within the complexity limits: the upstream parses
 * it all the same, and pays the same type-check cost.
 */
export function passThroughHandler(path: string): Handler {
  return ({ params, principal, cache }) => {
    const rebuilt = rebuildParams(params, principal, RULES, cache);
    if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
    for (const [name, value] of params) {
      const refused = name === 'query' ? checkQuery(value, cache.complexityLimits) : undefined;
      if (refused !== undefined) return paramsRefusal(refused);
    }
    return stream({ path, params: rebuilt.value.encoded });
  };
}
