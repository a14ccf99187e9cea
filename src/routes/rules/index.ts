import { labelSetTest } from '../../enforce/label-set.js';
import { rebuildParams, type Confinement, type ParamRules } from '../../enforce/params.js';
import { tenantAlerts, tenantRules } from '../../enforce/rules.js';
import { encodeParam, type Param } from '../../http/form.js';
import { ok, type Result } from '../../result.js';
import { filterAnswer } from '../../upstream/json.js';
import { badData, paramsRefusal, stream, type Action, type Handler, type Refusal } from '../route.js';

const PLAIN: ParamRules = { query: false, selectors: 'api', matchErrorPrefix: '' };
// `type` and `exclude_alerts` are read by promgate; `type` is sent on as given, `exclude_alerts` never (below).
const RULES: ParamRules = { ...PLAIN, take: new Set(['type', 'exclude_alerts']) };
// The caller's `match[]` on /api/v1/rules selects rules by their own labels: it reads no series and can only
// narrow the answer, which promgate filters whatever it holds. It is checked and sent in canonical form.
const UNCONFINED: Confinement = { matchers: [], key: '' };
// Go's strconv.ParseBool, after Prometheus lower-cases the value.
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([['1', true], ['t', true], ['true', true], ['0', false], ['f', false], ['false', false]]);

/**
 * /api/v1/rules: the rules the tenant sees (enforce/rules.ts), each with only the alerts it may see. A tenant
 * known by id only is isolated by the upstream: its request streams there.
 *
 * `exclude_alerts` is never sent: promgate needs every rule's alerts to decide what the tenant sees and to work
 * out each rule's state from the tenant's alerts alone (an upstream's state would tell of other tenants' alerts),
 * so it asks with alerts and leaves them out itself. With `type=record` the tenant's matchers also go upstream as
 * `match[]` (Prometheus 2.54 and later select rules by their labels with it): recording rules are shown by their
 * labels alone. Alerting rules may be shown by their alerts, which `match[]` cannot see, so for them it is not sent.
 */
export const rulesHandler: Handler = ({ params, principal, cache }) => {
  if (principal.matchers.length === 0) {
    const rebuilt = rebuildParams(params, principal, PLAIN, cache);
    return rebuilt.ok ? stream({ path: '/api/v1/rules', params: rebuilt.value.encoded }) : paramsRefusal(rebuilt.error);
  }
  const type = once(params, 'type');
  if (!type.ok) return type;
  const exclude = once(params, 'exclude_alerts');
  if (!exclude.ok) return exclude;
  const excludeAlerts = BOOLEANS.get((exclude.value ?? 'false').toLowerCase() || 'false');
  if (excludeAlerts === undefined) {
    return badData(`error converting exclude_alerts: strconv.ParseBool: parsing ${JSON.stringify(exclude.value)}: invalid syntax`);
  }
  const recordingOnly = type.value?.toLowerCase() === 'record';
  const rebuilt = rebuildParams(params, recordingOnly ? principal : UNCONFINED, RULES, cache);
  if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
  const pieces = [rebuilt.value.encoded];
  if (type.value !== undefined) pieces.push(encodeParam('type', type.value));
  if (recordingOnly && rebuilt.value.matches === 0) pieces.push(encodeParam('match[]', principal.key));
  const encoded = pieces.filter((p) => p.length > 0).join('&');
  const visible = labelSetTest(principal.matchers);
  return ok({
    kind: 'answer',
    run: async (client) => filterAnswer(await client.get('/api/v1/rules', encoded), (data) => tenantRules(data, visible, { excludeAlerts })),
  } satisfies Action);
};

/** /api/v1/alerts: only the alerts whose labels satisfy the tenant's matchers. */
export const alertsHandler: Handler = ({ params, principal, cache }) => {
  const rebuilt = rebuildParams(params, principal, PLAIN, cache);
  if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
  const encoded = rebuilt.value.encoded;
  if (principal.matchers.length === 0) return stream({ path: '/api/v1/alerts', params: encoded });
  const visible = labelSetTest(principal.matchers);
  return ok({
    kind: 'answer',
    run: async (client) => filterAnswer(await client.get('/api/v1/alerts', encoded), (data) => tenantAlerts(data, visible)),
  } satisfies Action);
};

/** A parameter Prometheus reads once (the first value): given twice, the request would mean two things. */
function once(params: readonly Param[], name: string): Result<string | undefined, Refusal> {
  const values = params.filter(([n]) => n === name);
  return values.length > 1 ? badData(`parameter "${name}" given more than once`) : ok(values[0]?.[1]);
}
