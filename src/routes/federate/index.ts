import { rebuildParams, type ParamRules } from '../../enforce/params.js';
import { paramsRefusal, stream, type Handler } from '../route.js';

const RULES: ParamRules = { query: false, selectors: 'federate', matchErrorPrefix: '' };

/**
 * /federate: each `match[]` gets the tenant's matchers, checked as Prometheus checks them there; without one,
 * Prometheus federates nothing.
 */
export const federateHandler: Handler = ({ params, principal, cache }) => {
  const rebuilt = rebuildParams(params, principal, RULES, cache);
  return rebuilt.ok ? stream({ path: '/federate', params: rebuilt.value.encoded }) : paramsRefusal(rebuilt.error);
};
